"""``layerwise fix``: (input, expected output) pairs, idempotence, byte preservation, writes."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from layerwise.errors import LayerwiseError
from layerwise.fixes import fix_dockerfile_text, fix_project
from layerwise.parse import parse, parse_file
from tests.shared import corpus_files, run_cli


def fixed(text: str, files: dict[str, str] | None = None, tmp_path=None, **kw) -> str:
    context = None
    if files is not None:
        context = tmp_path
        for name, body in files.items():
            p = tmp_path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(body)
    out, _, _ = fix_dockerfile_text(text, "Dockerfile", context, **kw)
    return out


ARTICLE = """FROM python:3.10-slim
WORKDIR /app
# Add source code and requirements in one step
ADD . /app
# Install dependencies
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""

CASES = [
    pytest.param(
        ARTICLE,
        {"requirements.txt": "flask==2.3.2\n", "app.py": ""},
        """FROM python:3.10-slim
WORKDIR /app
COPY requirements.txt ./
# Install dependencies
RUN pip install --no-cache-dir -r requirements.txt
# Add source code and requirements in one step
COPY . /app
CMD ["python", "app.py"]
""",
        id="article",
    ),
    pytest.param(
        "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nRUN pip install --no-cache-dir -r requirements/prod.txt\n",
        {"requirements/prod.txt": "-r base.txt\ngunicorn==22.0.0\n", "requirements/base.txt": "-c ../constraints.txt\nflask\n",
         "constraints.txt": "flask==3.0.3\n"},
        "FROM python:3.12\nWORKDIR /srv\nCOPY requirements/prod.txt requirements/base.txt ./requirements/\n"
        "COPY constraints.txt ./\nRUN pip install --no-cache-dir -r requirements/prod.txt\nCOPY . .\n",
        id="requirements-includes",
    ),
    pytest.param(
        "FROM python:3.12\nCOPY . /app\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc\n"
        "ENV PIP_NO_CACHE_DIR=1\nRUN pip install -r requirements.txt\nCMD gunicorn app:app\n",
        {"requirements.txt": "flask==3.0.3\n"},
        "FROM python:3.12\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n"
        "ENV PIP_NO_CACHE_DIR=1\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . /app\n"
        "CMD gunicorn app:app\n",
        id="passes-over-context-free-steps",
    ),
    pytest.param(
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir flask gunicorn\nCMD [\"gunicorn\", \"app:app\"]\n",
        {},
        "FROM python:3.12\nWORKDIR /app\nRUN pip install --no-cache-dir flask gunicorn\nCOPY . .\nCMD [\"gunicorn\", \"app:app\"]\n",
        id="context-free-install",
    ),
    pytest.param(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install poetry==1.8.3 && poetry install --only main\n",
        {"pyproject.toml": "[tool.poetry]\nname='x'\n", "poetry.lock": ""},
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
        "RUN pip install --no-cache-dir poetry==1.8.3 && poetry install --no-cache --no-root --only main\nCOPY . .\n"
        "RUN pip install --no-cache-dir poetry==1.8.3 && poetry install --no-cache --only main\n",
        id="poetry",
    ),
    pytest.param(
        "# syntax=docker/dockerfile:1\nFROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n",
        {"pyproject.toml": "", "uv.lock": ""},
        "# syntax=docker/dockerfile:1\nFROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
        "ENV UV_LINK_MODE=copy\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --no-install-project --locked\nCOPY . .\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n",
        id="uv-with-cache-mount",
    ),
    pytest.param(
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pipenv install --deploy --system\n",
        {"Pipfile": "", "Pipfile.lock": "{}"},
        "FROM python:3.12\nWORKDIR /app\nCOPY Pipfile Pipfile.lock ./\nRUN pipenv install --deploy --system\nCOPY . .\n",
        id="pipenv",
    ),
    pytest.param(
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pdm install --prod\n",
        {"pyproject.toml": "", "pdm.lock": ""},
        "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml pdm.lock ./\nRUN pdm --no-cache install --no-self --prod\nCOPY . .\nRUN pdm --no-cache install --prod\n",
        id="pdm",
    ),
    pytest.param(
        "FROM python:3.12\nCOPY . .\nRUN python manage.py collectstatic && pip install -r requirements.txt\n",
        {"requirements.txt": ""},
        "FROM python:3.12\nCOPY . .\nRUN python manage.py collectstatic && pip install --no-cache-dir -r requirements.txt\n",
        id="install-needs-the-code-left-alone",
    ),
    pytest.param(
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n",
        {"requirements.txt": ""},
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n",
        id="already-good",
    ),
]


@pytest.mark.parametrize(("before", "files", "after"), CASES)
def test_fix(before, files, after, tmp_path):
    assert fixed(before, files, tmp_path) == after
    # idempotent: fix on its own output changes nothing
    assert fixed(after, files, tmp_path) == after


def test_cache_mount_mode(tmp_path):
    out = fixed("FROM python:3.12\nRUN pip install flask\n", {}, tmp_path, cache_mount=True)
    assert out == "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n"
    # a cache mount made useless by --no-cache-dir: the flag goes (LW202)
    out = fixed("FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir flask\n", {}, tmp_path)
    assert out == "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n"


def test_non_root_user_gets_no_cache_dir_not_a_root_cache_mount(tmp_path):
    out = fixed("FROM python:3.12\nUSER app\nRUN pip install --user flask\n", {}, tmp_path, cache_mount=True)
    assert "--no-cache-dir" in out and "--mount" not in out


def test_add_of_archives_and_urls_stays(tmp_path):
    text = "FROM x\nADD app.tar.gz /srv/\nADD https://example.com/a.txt /a.txt\n"
    assert fixed(text, {}, tmp_path) == text


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bytes_outside_the_edits_are_kept(tmp_path, newline):
    src = ("# a header comment\n\nfrom python:3.12   AS   base\nworkdir /app\n\n# copy everything\nadd . .\n"
           "# deps\nrun pip install \\\n    -r requirements.txt   # trailing\n\nCMD  [\"python\",  \"app.py\"]\n")  # fmt: skip
    src = src.replace("\n", newline)
    out = fixed(src, {"requirements.txt": ""}, tmp_path)
    assert newline in out and (newline == "\r\n" or "\r" not in out)
    for kept in ["# a header comment", "from python:3.12   AS   base", 'CMD  ["python",  "app.py"]',
                 "run pip install --no-cache-dir \\" + newline + "    -r requirements.txt   # trailing"]:  # fmt: skip
        assert kept in out
    parse(out)


def test_fix_project_writes_atomically_and_keeps_mode(tmp_path):
    (tmp_path / "Dockerfile").write_text(ARTICLE)
    (tmp_path / "requirements.txt").write_text("flask==2.3.2\n")
    os.chmod(tmp_path / "Dockerfile", 0o640)
    result = fix_project(tmp_path, tmp_path / "Dockerfile")
    assert result.changed
    written = result.write()
    assert sorted(os.path.basename(p) for p in written) == [".dockerignore", "Dockerfile"]
    assert stat.S_IMODE(os.stat(tmp_path / "Dockerfile").st_mode) == 0o640
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".layerwise")]
    ignore = (tmp_path / ".dockerignore").read_text()
    assert "**/__pycache__" in ignore and "requirements.txt" not in ignore
    assert not fix_project(tmp_path, tmp_path / "Dockerfile").changed  # second run: nothing


def test_article_dockerignore_root_only_patterns_get_globstar(tmp_path):
    (tmp_path / "Dockerfile").write_text(ARTICLE)
    (tmp_path / "requirements.txt").write_text("flask==2.3.2\n")
    (tmp_path / ".dockerignore").write_text("__pycache__/\n*.pyc\n*.pyo\n*.pyd\n.env\n.git\n")
    result = fix_project(tmp_path, tmp_path / "Dockerfile")
    lines = result.dockerignore.splitlines()
    # LW302 reports (and fixes) the names meant for every folder; .env and .git at the root
    # are what they say; LW106 adds the build files COPY . . sends, and nothing asks for more
    assert lines == ["**/__pycache__/", "**/*.pyc", "**/*.pyo", "**/*.pyd", ".env", ".git", ".dockerignore", "Dockerfile"]


def test_dockerignore_never_excludes_what_the_build_needs(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\nCOPY README.md requirements.txt ./\nRUN pip install -r requirements.txt\n")
    (tmp_path / ".dockerignore").write_text("*.md\n*.txt\n")
    (tmp_path / "README.md").write_text("hi\n")
    (tmp_path / "requirements.txt").write_text("flask\n")
    result = fix_project(tmp_path, tmp_path / "Dockerfile")
    assert result.dockerignore.rstrip().endswith("!README.md\n!requirements.txt".replace("\n", os.linesep))


def test_never_writes_when_the_dockerfile_does_not_parse(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\nCOPY --bogus a b\n")
    with pytest.raises(LayerwiseError):
        fix_project(tmp_path, tmp_path / "Dockerfile")
    assert (tmp_path / "Dockerfile").read_text() == "FROM x\nCOPY --bogus a b\n"
    assert not (tmp_path / ".dockerignore").exists()


def test_cli_diff_exit_codes(tmp_path):
    (tmp_path / "Dockerfile").write_text(ARTICLE)
    (tmp_path / "requirements.txt").write_text("flask==2.3.2\n")
    r = run_cli(["fix", str(tmp_path), "--diff"])
    assert r.exit_code == 1 and "+COPY requirements.txt ./" in r.output
    assert (tmp_path / "Dockerfile").read_text() == ARTICLE  # --diff writes nothing
    r = run_cli(["fix", str(tmp_path), "--diff", "--exit-zero"])  # report only
    assert r.exit_code == 0 and "+COPY requirements.txt ./" in r.output
    assert (tmp_path / "Dockerfile").read_text() == ARTICLE
    assert run_cli(["fix", str(tmp_path)]).exit_code == 0
    r = run_cli(["fix", str(tmp_path), "--diff"])
    assert r.exit_code == 0


CORPUS = corpus_files()


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name[:40])
def test_corpus_fix_never_crashes_and_parses(path):
    try:
        df = parse_file(path)
    except LayerwiseError:
        return  # rejected files are never fixed
    try:
        out, _, _ = fix_dockerfile_text(df.text, str(path), None)
    except LayerwiseError as exc:
        assert "internal error" not in exc.message, exc.message
        return
    parse(out)
    again, _, _ = fix_dockerfile_text(out, str(path), None)
    assert again == out, "fix is not idempotent"


def test_add_of_a_heredoc_becomes_copy(tmp_path):
    text = "FROM x\nADD <<EOF /hello.txt\nhi\nEOF\n"
    assert fixed(text, {}, tmp_path) == "FROM x\nCOPY <<EOF /hello.txt\nhi\nEOF\n"


RULE_FIXED = [
    ("LW502", ("FROM python:3.12\nWORKDIR /app\nADD requirements.txt .\nadd --chown=1:1 src /app/src\n"
               "ADD https://example.com/a.txt /a.txt\nADD app.tar.gz /srv/\n")),
    ("LW204", ("# syntax=docker/dockerfile:1\r\nFROM python:3.12\r\n# deps\r\n"
               "  RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\r\n")),
    ("LW201", ("FROM python:3.12\nRUN pip install flask && python -m pip install rich\n"
               "RUN poetry install --only main\nRUN uv pip install --system httpx\n")),
    ("LW202", ("FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv \\\n    uv sync \\\n"
               "    --no-cache \\\n    --locked\nRUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir x\n")),
]  # fmt: skip


@pytest.mark.parametrize(("code", "text"), RULE_FIXED)
def test_fix_applies_the_fix_check_shows(code, text, tmp_path):
    """``layerwise fix --select CODE`` writes what the rule's findings in ``layerwise check`` carry."""
    from layerwise.analyses.check import check_dockerfile, selected_rules
    from layerwise.fixes.edits import TextEdit, apply_edits

    (tmp_path / "Dockerfile").write_text(text)
    found = check_dockerfile(tmp_path / "Dockerfile", rules=selected_rules([code])).findings
    assert found and all(f.fix is not None and f.fix.edits for f in found)
    shown = apply_edits(text, [TextEdit(e.start_offset, e.end_offset, e.replacement) for f in found for e in f.fix.edits])
    out, applied, _ = fix_dockerfile_text(text, "Dockerfile", None, select={code})
    assert out == shown != text
    assert [(a.code, a.line, a.message) for a in applied] == [
        (f.code, f.line, f"line {f.line}: {f.fix.description}") for f in found
    ]


@pytest.mark.parametrize(("run", "env_added"), [
    ("RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked", True),
    ("RUN --mount=type=cache,target=/root/.cache uv sync --locked", True),  # the mount holds uv's cache
    ("RUN --mount=type=cache,target=/root/.cache/uv uv sync --no-cache --locked", False),  # no cache used (LW202)
    ("ARG UV_LINK_MODE=copy\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked", False),  # an ARG is in RUN's env
    ("RUN --mount=type=cache,target=/root/.cache/uv UV_LINK_MODE=copy uv sync --locked", False),
])  # fmt: skip
def test_uv_link_mode_is_set_where_lw204_reports(run, env_added, tmp_path):
    text = f"FROM python:3.12\n{run}\n"
    out = fixed(text, None, tmp_path, select={"LW204"})
    assert out == (text.replace("FROM python:3.12\n", "FROM python:3.12\nENV UV_LINK_MODE=copy\n") if env_added else text)


@pytest.mark.slow
@pytest.mark.parametrize("code", ["LW201", "LW202", "LW502"])
def test_fix_changes_what_check_reports_on_the_corpus(code):
    """On every real Dockerfile: ``fix --select CODE`` applies a fix at exactly the lines where
    ``check`` reports CODE with a fix, and ``check`` finds none of them afterwards."""
    from layerwise.analyses.check import check_dockerfile, selected_rules

    rules = selected_rules([code])
    fixed_files = 0
    for path in CORPUS:
        try:
            df = parse_file(path)
            reported = {f.line for f in check_dockerfile(path, rules=rules).findings if f.fix and f.fix.edits}
        except LayerwiseError:
            continue  # rejected files are neither checked nor fixed
        out, applied, _ = fix_dockerfile_text(df.text, str(path), None, select={code}, cache_mount=False)
        assert {a.line for a in applied} == reported, path.name
        if out != df.text:
            fixed_files += 1
            after = path.parent.parent / "_"  # a path beside the corpus is never read
            after = parse(out, str(after))
            from layerwise.analyses.project import ProjectContext
            from layerwise.analyses.rules import RuleContext, get_rule
            from layerwise.resolve.stages import resolve

            ctx = RuleContext(str(path), after, resolve(after, {}), ProjectContext(None, str(path)))
            assert not [f for f in get_rule(code).check(ctx) if f.fix and f.fix.edits], path.name
    assert fixed_files > 0  # the corpus has cases of each


def test_fix_honours_inline_ignore_comments(tmp_path):
    """What ``check`` does not report (``# layerwise: ignore[...]``), ``fix`` does not change."""
    text = (
        "FROM python:3.12\nWORKDIR /app\n"
        "# layerwise: ignore[LW101]\nCOPY . .\n"
        "# layerwise: ignore[LW201]\nRUN pip install -r requirements.txt\n"
        "RUN pip install gunicorn\n"
        "# layerwise: ignore\nADD app.py .\n"
    )
    out, applied, _ = fix_dockerfile_text(text, "Dockerfile", None, cache_mount=False)
    assert [(a.code, a.line) for a in applied] == [("LW201", 7)]
    assert out == text.replace("RUN pip install gunicorn", "RUN pip install --no-cache-dir gunicorn")


@pytest.mark.parametrize(("select", "ignore", "codes"), [
    (None, {"LW2"}, {"LW502"}),
    ({"LW2"}, {"LW201"}, {"LW202"}),
    ({"LW201"}, {"LW2"}, {"LW201"}),  # the longest prefix wins, as in check (and ruff)
    ({"ALL"}, {"LW5"}, {"LW201", "LW202"}),
    ({"lw502"}, set(), {"LW502"}),  # codes in any case
])  # fmt: skip
def test_fix_selects_rules_as_check_does(select, ignore, codes, tmp_path):
    text = ("FROM python:3.12\nADD app.py .\nRUN pip install flask\n"
            "RUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir rich\n")  # fmt: skip
    _, applied, _ = fix_dockerfile_text(text, "Dockerfile", None, select=select, ignore=ignore, cache_mount=False)
    assert {a.code for a in applied} == codes


def test_fix_reads_the_rule_selection_of_tool_layerwise(tmp_path, monkeypatch):
    """``[tool.layerwise]`` turns rules off for ``fix`` as for ``check``; ``--no-config`` and an
    explicit ``--select`` override it."""
    text = "FROM python:3.12\nRUN pip install flask\nADD app.py .\n"
    (tmp_path / "pyproject.toml").write_text('[tool.layerwise]\nignore = ["LW201"]\n')
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> str:
        (tmp_path / "Dockerfile").write_text(text)
        r = run_cli(["fix", "--no-dockerignore", *args])
        assert r.exit_code == 0, r.output
        return (tmp_path / "Dockerfile").read_text()

    assert run() == text.replace("ADD", "COPY")
    assert run("--no-config") == text.replace("ADD", "COPY").replace("install", "install --no-cache-dir")
    assert run("--select", "LW201") == text.replace("install", "install --no-cache-dir")
    # as in check: an equally long select wins over the configured ignore
    assert run("--extend-select", "LW201") == text.replace("ADD", "COPY").replace("install", "install --no-cache-dir")
    assert run("--ignore", "LW5") == text  # the configured ignore, and this one


def test_fixes_of_a_later_pass_are_said_at_the_user_s_lines(tmp_path):
    """LW101 moves ``ADD . /app`` below the install; LW502 (ADD -> COPY) edits the same line,
    so it is applied on the next pass, where the line is the 5th: it is still reported at
    line 3, where check reported it (a moved line keeps its line)."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nWORKDIR /app\nADD . /app\n"
                                         "RUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")  # fmt: skip
    (tmp_path / "requirements.txt").write_text("flask==3.0.0\n")
    checked = run_cli(["check", str(tmp_path), "--select", "LW101,LW502"]).output
    assert "Dockerfile:3:1: LW101 [*]" in checked and "Dockerfile:3:1: LW502 [*]" in checked
    r = run_cli(["fix", str(tmp_path), "--diff", "--no-dockerignore", "--select", "LW101,LW502"])
    said = [m.group() for ln in r.stderr.splitlines() if (m := re.match(r"would fix: LW\d+ line \d+", ln))]
    assert said == [
        "would fix: LW101 line 3",
        "would fix: LW502 line 3",
    ], r.stderr


@pytest.mark.parametrize(("edits", "origins"), [
    ([], [1, 2, 3, 4, 5]),
    ([(2, 2, "X\nY\n")], [1, 2, 2, 2, 3, 4, 5]),  # inserted lines: where they were inserted
    ([(2, 4, "")], [1, 3, 4, 5]),  # a removed line
    ([(3, 3, " x")], [1, 2, 3, 4, 5]),  # within a line
    ([(2, 4, ""), (6, 6, "b\n")], [1, 3, 2, 4, 5]),  # a moved line keeps its line
])  # fmt: skip
def test_line_origins(edits, origins):
    from layerwise.fixes.edits import TextEdit, apply_edits, line_origins

    text = "a\nb\nc\nd\n"
    made = [TextEdit(*e) for e in edits]
    assert line_origins(text, made) == origins
    assert len(apply_edits(text, made).split("\n")) == len(origins)


def test_the_diff_is_a_patch_git_applies_to_files_without_a_last_newline(tmp_path, monkeypatch):
    """A file whose last line has no newline: the diff says so as git does (the line after it
    was glued on: '-.git+.git'), its files are named from the current folder (an absolute
    path after a/ is refused), and ``git apply`` makes the files ``fix`` would write."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
                                         "RUN pip install -r requirements.txt\nCOPY . .")  # fmt: skip
    (tmp_path / "requirements.txt").write_text("flask==3.0.0\n")
    (tmp_path / ".dockerignore").write_text(".git")
    monkeypatch.chdir(tmp_path)  # (the project given by its absolute path: the patch names files from here)
    patch = run_cli(["fix", str(tmp_path), "--diff"]).stdout
    assert patch.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n"), patch
    assert "-.git\n\\ No newline at end of file\n+.git\n" in patch
    expected = tmp_path / "expected"
    expected.mkdir()
    for name in ("Dockerfile", "requirements.txt", ".dockerignore"):
        (expected / name).write_bytes((tmp_path / name).read_bytes())
    assert run_cli(["fix", str(expected)]).exit_code == 0
    applied = subprocess.run(["git", "apply", "-"], input=patch, text=True, cwd=tmp_path, capture_output=True, check=False)
    assert applied.returncode == 0, applied.stderr
    for name in ("Dockerfile", ".dockerignore"):
        assert (tmp_path / name).read_bytes() == (expected / name).read_bytes(), name


def test_fix_takes_the_build_args_check_takes(tmp_path):
    """``COPY ${SRC} /app``: without a value the COPY sends the whole context (check reports
    no .dockerignore, and fix would write one); with ``--build-arg SRC=app`` it copies one
    folder, check reports nothing to fix, and fix, given the same argument, changes nothing."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nARG SRC\nWORKDIR /app\nCOPY ${SRC} /app\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print(1)\n")
    assert "LW301 [*]" in run_cli(["check", str(tmp_path), "--select", "LW3"]).output
    assert run_cli(["fix", str(tmp_path), "--diff"]).exit_code == 1
    checked = run_cli(["check", str(tmp_path), "--select", "LW3", "--build-arg", "SRC=app"])
    assert checked.exit_code == 0 and "[*]" not in checked.output, checked.output
    fixed = run_cli(["fix", str(tmp_path), "--diff", "--build-arg", "SRC=app"])
    assert (fixed.exit_code, fixed.stdout) == (0, ""), fixed.output
    assert not (tmp_path / ".dockerignore").exists()


def test_fix_writes_the_ci_file_a_finding_edits(tmp_path):
    """A CI-cache finding (LW601) carries an edit of the workflow: fix applies it, writes the
    workflow with the Dockerfile, and check has nothing fixable left."""
    import shutil

    from layerwise.analyses.check import check_dockerfile

    src = Path(__file__).parent / "rules" / "fixtures" / "LW601"
    root = tmp_path / "p"
    shutil.copytree(src, root)
    wf = root / ".github" / "workflows" / "ci.yml"
    before = wf.read_text()
    result = fix_project(root, root / "Dockerfile", select={"LW601"})
    assert [a.code for a in result.applied] == ["LW601"]
    assert str(wf) in result.write()
    assert wf.read_text() != before and "cache-to: type=gha,mode=max" in wf.read_text()
    after = check_dockerfile(root / "Dockerfile", context=root).findings
    assert not [f for f in after if f.code == "LW601"]
