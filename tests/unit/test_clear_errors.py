"""Clear errors instead of wrong answers (issue #14): input that cannot mean what it says is
one located line and exit 2, never a silent wrong result or a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from layerwise.cli import main
from layerwise.parse import parse
from layerwise.resolve.stages import resolve
from tests.shared import committed_repo, git

BAD = "FROM python:3.12\nWORKDIR /app\nADD . .\nRUN pip install -r requirements.txt\nCMD python app.py\n"


def run(argv, capsys):
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def project(root: Path, dockerfile: str = BAD, **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(dockerfile)
    (root / "requirements.txt").write_text("flask==3.0.3\n")
    (root / "app.py").write_text("print('hi')\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# --- rule selection ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "fix"])
@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_an_unknown_rule_code_is_named(tmp_path, capsys, command, option):
    p = project(tmp_path / "p")
    code, out, err = run([command, str(p), option, "LW101,lw1o1"], capsys)
    assert code == 2 and out == ""
    assert err == f"layerwise: error: {option} LW1O1: unknown rule code (`layerwise rules` lists them)\n"
    assert (p / "Dockerfile").read_text() == BAD and not (p / ".dockerignore").exists()


@pytest.mark.parametrize("key", ["select", "ignore", "extend-select"])
def test_an_unknown_rule_code_in_pyproject_is_located(tmp_path, capsys, key):
    p = project(tmp_path / "p", **{"pyproject.toml": f'[tool.layerwise]\n{key} = ["LW2", "LW77"]\n'})
    for command in ("check", "fix"):
        code, _, err = run([command, str(p)], capsys)
        assert code == 2
        assert err == (f"layerwise: error: {p / 'pyproject.toml'}: [tool.layerwise] {key} LW77: unknown rule "
                       "code (`layerwise rules` lists them)\n")  # fmt: skip


def test_known_prefixes_and_all_are_accepted(tmp_path, capsys):
    p = project(tmp_path / "p")
    code, out, _ = run(["check", str(p), "--select", "LW,LW1,LW101,all"], capsys)
    assert code == 1 and "LW101" in out


def test_ignore_all_ignores_everything_in_check_and_fix(tmp_path, capsys):
    p = project(tmp_path / "p")
    code, out, _ = run(["check", str(p), "--ignore", "ALL"], capsys)
    assert code == 0 and "LW" not in out
    code, _, err = run(["fix", str(p), "--ignore", "ALL"], capsys)
    assert code == 0 and "nothing to fix" in err
    assert (p / "Dockerfile").read_text() == BAD and not (p / ".dockerignore").exists()
    # a code prefix selected still wins over ALL ignored (the longest prefix wins)
    code, out, _ = run(["check", str(p), "--ignore", "ALL", "--select", "LW101"], capsys)
    assert code == 1 and "LW101" in out


# --- explain: the states compared --------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return committed_repo(tmp_path / "repo", project)


@pytest.mark.parametrize("option", ["--before", "--after"])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_revision_is_an_error_not_the_tree_compared_with_itself(repo, capsys, monkeypatch, option, value):
    monkeypatch.chdir(repo)
    (repo / "app.py").write_text("print('changed')\n")
    code, out, err = run(["explain", option, value], capsys)
    assert code == 2 and out == ""
    assert err == f"layerwise: error: {option} is empty (an unset variable?): give a git revision or a folder\n"


@pytest.mark.parametrize("option", ["--before", "--after"])
@pytest.mark.parametrize("rev", ["nosuchrev", "/nonexistent", "-h", "HEAD~5"])
def test_a_missing_revision_or_folder_is_named_with_the_repository(repo, capsys, option, rev):
    code, out, err = run(["explain", str(repo), option, rev], capsys)
    assert code == 2 and out == ""
    assert err == f"layerwise: error: {repo}: {option} {rev}: no such folder, nor a revision of this git repository\n"


def test_a_repository_without_commits_says_so(tmp_path, capsys):
    root = project(tmp_path / "fresh")
    git(root, "init", "-q")
    code, _, err = run(["explain", str(root)], capsys)
    assert code == 2
    assert err == (f"layerwise: error: {root}: --before HEAD: this git repository has no commits yet "
                   "(commit first, or give --before as a folder)\n")  # fmt: skip


def test_a_revision_outside_any_repository(tmp_path, capsys):
    root = project(tmp_path / "plain")
    code, _, err = run(["explain", str(root), "--before", "main"], capsys)
    assert code == 2
    assert err == (f"layerwise: error: {root}: --before main: no such folder, and this folder is not in a git "
                   "repository (so it names no revision)\n")  # fmt: skip


def test_a_file_given_as_a_state(repo, capsys):
    code, _, err = run(["explain", str(repo), "--after", str(repo / "app.py")], capsys)
    assert code == 2
    assert err == f"layerwise: error: {repo / 'app.py'}: --after: a file, not a folder or a git revision\n"


def test_revisions_by_other_names_still_work(repo, capsys):
    (repo / "app.py").write_text("print('v2')\n")
    git(repo, "commit", "-qam", "v2")
    git(repo, "tag", "v1", "HEAD~1")
    sha = git(repo, "rev-parse", "HEAD~1").strip()
    for before in ("v1", sha[:10], "HEAD~1", "HEAD^"):
        code, out, err = run(["explain", str(repo), "--before", before, "--after", "HEAD"], capsys)
        assert code == 0, err
        assert f"after building {before}" in " ".join(out.split())


# --- stages read by COPY --from / RUN --mount from ---------------------------------------------

LATER = "FROM busybox AS app\nCOPY --from=deps /x /x\nFROM busybox AS deps\nRUN echo > /x\n"
CYCLE = ("FROM busybox AS stage0\nCOPY --from=stage2 f1 /sub/\nFROM busybox AS stage1\nCOPY --from=stage0 f2 /sub/\n"
         "FROM busybox AS stage2\nCOPY --from=stage1 f2 /sub/\n")  # fmt: skip


def test_copy_from_a_stage_defined_later_is_that_stage_not_an_image():
    build = resolve(parse(LATER, "Dockerfile"))
    copy = build.stages[0].steps[0]
    assert copy.expanded["stage_refs"] == [1]
    assert build.stages[0].dependencies() == {1}
    assert [s.index for s in build.needed_stages()] == [1]  # the default target does not read it


def test_building_a_stage_that_reads_a_later_one_is_buildkits_error(tmp_path, capsys):
    p = project(tmp_path / "p", LATER)
    code, _, err = run(["explain", str(p), "--before", str(p), "--target", "app"], capsys)
    assert code == 2
    assert err == (f"layerwise: error: {p / 'Dockerfile'}:2:1: cannot copy from stage \"deps\", it needs to be "
                   "defined before current stage \"app\"\n")  # fmt: skip
    code, _, err = run(["explain", str(p), "--before", str(p)], capsys)  # the last stage: built
    assert code == 0, err


@pytest.mark.parametrize(("text", "where", "message"), [
    (CYCLE, "2:1", "circular dependency detected on stage: stage0"),
    ("FROM busybox\nCOPY --from=0 /x /x\n", "2:1", "circular dependency detected on stage: stage-0"),
    ("FROM busybox AS a\nRUN --mount=from=b,target=/b true\nFROM busybox AS b\nCOPY --from=a /x /x\nFROM busybox\n",
     "2:1", "circular dependency detected on stage: a"),
    ("FROM busybox\nCOPY --from=5 /x /x\n", "2:1", "invalid stage index 5"),
])  # fmt: skip
def test_stage_cycles_and_bad_indexes_are_located_errors_in_check_and_explain(tmp_path, capsys, text, where, message):
    p = project(tmp_path / "p", text)
    code, out, err = run(["check", str(p)], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{p / 'Dockerfile'}:{where}: {message}" in err
    code, out, err = run(["explain", str(p), "--before", str(p)], capsys)
    assert code == 2 and out == ""
    assert err == f"layerwise: error: {p / 'Dockerfile'}:{where}: {message}\n"


# --- pyproject.toml of the wrong shape, reports that cannot be written -------------------------

PIP_PROJECT = "FROM python:3.12-slim\nCOPY . /app\nRUN pip install /app\n"


@pytest.mark.parametrize(("toml", "line", "message"), [
    ("project = 5\n", 1, "project must be a table (PEP 621/518): ignored"),
    ('[project]\nname = "a"\ndependencies = 3\n', 3, "project.dependencies must be an array of strings (PEP 621/518): ignored"),
    ('[project]\nname = "a"\nreadme = 5\n', 3, "project.readme must be a string or a table (PEP 621/518): ignored"),
    ('[project]\nname = "a"\noptional-dependencies = 3\n', 3,
     "project.optional-dependencies must be a table of arrays of strings (PEP 621/518): ignored"),
    ('[project]\nname = "a"\nlicense-files = [1]\n', 3, "project.license-files must be an array of strings (PEP 621/518): ignored"),
    ('tool = 3\n', 1, "tool must be a table (PEP 621/518): ignored"),
    ('[tool]\npoetry = "x"\n', 2, "tool.poetry must be a table (PEP 621/518): ignored"),
])  # fmt: skip
def test_a_pyproject_of_the_wrong_shape_is_a_located_warning_not_an_internal_error(tmp_path, capsys, toml, line, message):
    p = project(tmp_path / "p", PIP_PROJECT, **{"pyproject.toml": toml})
    code, out, err = run(["check", str(p)], capsys)
    assert code == 1 and "LW101" in out  # the Dockerfile is still checked
    assert err == f"layerwise: warning: {p / 'pyproject.toml'}:{line}: {message}\n"
    for argv in (["fix", str(p), "--diff"], ["explain", str(p), "--before", str(p)], ["context", str(p)]):
        code, out, err = run(argv, capsys)
        assert code in (0, 1) and "internal error" not in err, (argv, err)


def test_tool_not_a_table_with_tool_layerwise_named_is_a_config_error(tmp_path, capsys):
    p = project(tmp_path / "p", PIP_PROJECT, **{"pyproject.toml": 'tool = "x"  # see tool.layerwise\n'})
    for command in (["check"], ["fix", "--diff"]):
        code, _, err = run([*command, str(p)], capsys)
        assert code == 2
        assert err == f"layerwise: error: {p / 'pyproject.toml'}: tool must be a table ([tool.layerwise] cannot be read)\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_report_that_cannot_be_written_is_a_located_error(tmp_path, capsys, fmt):
    p = project(tmp_path / "p")
    code, out, err = run(["check", str(p), "--format", fmt, "-o", "/dev/full"], capsys)
    assert code == 2 and out == ""
    assert err == "layerwise: error: /dev/full: cannot write the report: No space left on device\n"


def test_a_file_that_cannot_be_checked_is_not_all_checks_passed(tmp_path, capsys):
    p = project(tmp_path / "p", "FROM x\nCOPY --bogus a b\n")
    code, out, err = run(["check", str(p)], capsys)
    assert code == 2 and out == ""
    assert err == f"{p / 'Dockerfile'}:2:1: unknown flag: --bogus\n"


# --- names that are not UTF-8 in JSON and SARIF ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["sarif", "json"])
def test_a_folder_name_that_is_not_utf8_gives_valid_utf8_json(tmp_path, fmt):
    import json
    import os
    import sys

    folder = os.fsencode(tmp_path) + b"/bad\xffdir"
    os.mkdir(folder)
    with open(folder + b"/Dockerfile", "wb") as f:
        f.write(BAD.encode())
    with open(folder + b"/requirements.txt", "wb") as f:
        f.write(b"flask\n")
    proc = subprocess.run([sys.executable, "-m", "layerwise", "check", b"bad\xffdir", "--format", fmt],
                          cwd=tmp_path, capture_output=True, check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout.decode("utf-8"))  # strict UTF-8: raises on a raw 0xff
    assert "\\u" not in proc.stdout.decode()  # and no lone surrogate escaped as \udcff
    if fmt == "sarif":
        uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
                for r in data["runs"][0]["results"] for loc in r["locations"]}  # fmt: skip
        assert "bad%FFdir/Dockerfile" in uris and all(u.startswith("bad%FFdir/") for u in uris)
    else:
        names = {f["filename"] for f in data}
        assert "bad\\377dir/Dockerfile" in names and all(n.startswith("bad\\377dir/") for n in names)  # as Git shows it


# --- files docker build cannot read ------------------------------------------------------------


def run_unprivileged(argv: list[str]) -> subprocess.CompletedProcess:
    """``layerwise ARGV`` unable to read mode-000 files: as root (CI), without the capabilities
    that override file permissions (dropped from the bounding set before the exec, so the
    interpreter's own files stay reachable); as another user, as it is."""
    import os
    import sys

    def drop() -> None:
        if os.geteuid() == 0:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
                if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                    os._exit(97)

    proc = subprocess.run([sys.executable, "-m", "layerwise", *argv], capture_output=True, text=True,
                          check=False, preexec_fn=drop, cwd="/")  # fmt: skip
    if proc.returncode == 97:
        pytest.skip("cannot drop the capabilities that let root read any file")
    return proc


def unreadable_project(root: Path, dockerfile: str) -> Path:
    root.mkdir(mode=0o755)
    (root / "Dockerfile").write_text(dockerfile)
    (root / "app.py").write_text("print(1)\n")
    (root / "secret.txt").write_text("x\n")
    for p in root.iterdir():
        p.chmod(0o644)
    (root / "secret.txt").chmod(0o000)
    return root


def test_context_reports_a_file_it_cannot_read(tmp_path):
    p = unreadable_project(tmp_path / "p", "FROM busybox\nCOPY . /app\n")
    proc = run_unprivileged(["context", str(p)])
    assert proc.returncode == 0, proc.stderr
    assert ("secret.txt: cannot read file (permission denied): BuildKit sends it empty, the legacy builder fails "
            "on it") in proc.stdout  # fmt: skip


@pytest.mark.slow
def test_explain_says_what_happens_to_a_file_it_cannot_read(tmp_path):
    """As the engine does (docker 26, checked with the CLI without the capabilities that let
    root read any file): BuildKit copies such a file empty and goes on; the legacy builder
    stops on any file of the context it cannot read; a folder BuildKit copies and cannot
    list stops its sender."""
    p = unreadable_project(tmp_path / "p", "FROM busybox\nCOPY . /app\n")
    proc = run_unprivileged(["explain", str(p), "--before", str(p)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"layerwise: warning: {p / 'secret.txt'}: cannot read file (permission denied): BuildKit "
                           "sends it empty (the image gets an empty file)\n")  # fmt: skip
    assert "CACHED" in proc.stdout
    proc = run_unprivileged(["explain", str(p), "--before", str(p), "--builder", "legacy"])
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"layerwise: error: {p / 'secret.txt'}: cannot read file (permission denied): the legacy "
                           "builder fails on it (it sends the whole context)\n")  # fmt: skip
    (p / "Dockerfile").write_text("FROM busybox\nCOPY app.py /app/\n")  # BuildKit sends what the COPYs name
    proc = run_unprivileged(["explain", str(p), "--before", str(p)])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    (p / "secret.txt").chmod(0o644)
    (p / "d").mkdir()
    (p / "d" / "f").write_text("x\n")
    (p / "d").chmod(0)
    (p / "Dockerfile").write_text("FROM busybox\nCOPY . /app/\n")
    proc = run_unprivileged(["explain", str(p), "--before", str(p)])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"layerwise: error: {p / 'd'}: cannot read folder (Permission denied)")
    (p / "d").chmod(0o755)


# --- the .dockerignore of the revision explained -----------------------------------------------


@pytest.mark.parametrize(("before", "after", "cause"), [
    ("docs\n.dockerignore\n", ".dockerignore\n", "the files it copies changed: docs (added), docs/a.md (added)"),
    (".dockerignore\n", "docs\n.dockerignore\n", "the files it copies changed: docs (removed), docs/a.md (removed)"),
    (".dockerignore\n.git\n", ".dockerignore\n.git\n*.log\n", None),
])  # fmt: skip
def test_explain_of_a_revision_uses_its_dockerignore(tmp_path, capsys, before, after, cause):
    import json

    def write(root: Path) -> None:
        project(root, "FROM busybox\nCOPY . /app\nRUN ls -R /app\n", **{"docs/a.md": "doc\n", ".dockerignore": before})

    root = committed_repo(tmp_path / "r", write, key=("dockerignore", before))
    (root / ".dockerignore").write_text(after)
    code, out, err = run(["explain", str(root), "--format", "json"], capsys)
    assert code == 0, err
    copy = json.loads(out)["steps"][1]
    assert copy["status"] == ("cached" if cause is None else "rebuilt")
    assert (copy.get("cause") or {}).get("message") == cause


# --- fix copies what the install reads, from where it reads it ---------------------------------


@pytest.mark.parametrize(("run_line", "files", "copy", "hint"), [
    ("RUN cd sub && pip install -r requirements.txt", ["sub/requirements.txt", "requirements.txt"],
     "COPY sub/requirements.txt ./sub/", None),
    ("RUN cd sub; cd deeper && pip install -r requirements.txt", ["sub/deeper/requirements.txt"],
     "COPY sub/deeper/requirements.txt ./sub/deeper/", None),
    # /app/sub comes with the code copy only: moved above it, the cd fails
    ("RUN cd /app/sub && pip install -r ../requirements.txt", ["requirements.txt"], None,
     "LW101 line 4: `cd /app/sub` enters a folder only the code copy brings: copy the files the install reads"
     " there before it yourself"),
    ("RUN pip install -r $APP/requirements.txt", ["requirements.txt"], "COPY requirements.txt ./", None),
    ("RUN pip install -r ${APP}/sub/requirements.txt", ["sub/requirements.txt"], "COPY sub/requirements.txt ./sub/", None),
    ("RUN cd $SUB && pip install -r requirements.txt", ["requirements.txt"], None,
     "LW101 line 4: the install runs in a folder layerwise cannot tell (a `cd` it cannot follow): copy the files it"
     " reads before it yourself"),
    ("RUN pip install -r $HOME/requirements.txt", ["requirements.txt"], None,
     "LW101 line 4: the install reads `$HOME/requirements.txt`, a path with a variable layerwise does not know: copy"
     " it before the install yourself"),
    ("RUN cd /opt && pip install -r requirements.txt", ["requirements.txt"], None,  # not from the context
     "LW101 line 4: COPY requirements.txt first, install, then COPY the rest"),
])  # fmt: skip
def test_fix_copies_the_requirements_from_where_the_install_reads_them(tmp_path, run_line, files, copy, hint):
    from layerwise.fixes import fix_project

    text = f"FROM python:3.12-slim\nENV APP=/app\nWORKDIR $APP\nCOPY . $APP\n{run_line}\nCMD [\"python\", \"app.py\"]\n"
    p = project(tmp_path / "p", text, **dict.fromkeys(files, "flask\n"))
    result = fix_project(p, p / "Dockerfile", select={"LW101"}, dockerignore=False)
    lines = result.dockerfile.splitlines()
    if copy is None:
        assert result.dockerfile == text  # not fixed: the install's files would be wrong
    else:
        assert lines[3:6] == [copy, run_line, "COPY . $APP"], result.dockerfile
    assert [f"{h.code} {h.message}" for h in result.hints] == ([hint] if hint else [])


def test_an_unknown_rule_code_in_a_severity_is_named(tmp_path, capsys):
    p = project(tmp_path / "p")
    code, out, err = run(["check", str(p), "--severity", "lw1o1=info"], capsys)
    assert code == 2 and out == ""
    assert err == "layerwise: error: --severity LW1O1: unknown rule code (`layerwise rules` lists them)\n"
    (p / "pyproject.toml").write_text('[tool.layerwise]\nseverity = { LW77 = "info" }\n')
    code, out, err = run(["check", str(p)], capsys)
    assert code == 2
    assert err == (f"layerwise: error: {p / 'pyproject.toml'}: [tool.layerwise] severity LW77: unknown rule code "
                   "(`layerwise rules` lists them)\n")  # fmt: skip
    code, out, _ = run(["check", str(p), "--no-config", "--severity", "LW101=info"], capsys)
    assert code == 1 and "LW101" in out
