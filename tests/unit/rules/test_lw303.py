from tests.shared import HATCH_VCS
from tests.unit.rules.helpers import catches, passes

CODE = "LW303"


def test_pycache_copied():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY . .\n",
                   {".dockerignore": "*.pyc\n", "pkg/__pycache__/m.cpython-312.pyc": "x", "pkg/m.py": ""}, line=2)  # fmt: skip
    assert "__pycache__" in f.message and "**/__pycache__" in f.hint


def test_partial_copy_of_folder_with_junk():
    catches(CODE, "FROM python:3.12\nCOPY pkg /app/pkg\n", {".dockerignore": "", "pkg/__pycache__/a.pyc": "x"}, line=2)


def test_excluded():
    passes(CODE, "FROM python:3.12\nCOPY . .\n",
           {".dockerignore": "**/__pycache__\n", "pkg/__pycache__/a.pyc": "x", "pkg/m.py": ""})  # fmt: skip


def test_junk_not_copied():
    passes(CODE, "FROM python:3.12\nCOPY app.py .\n", {".dockerignore": "", "pkg/__pycache__/a.pyc": "x", "app.py": ""})


def test_build_output_beside_its_python_project():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY . .\n",
                   {".dockerignore": "", "pyproject.toml": "", "build/lib/m.py": "x", "m.py": ""}, line=2)  # fmt: skip
    assert "build" in f.message


def test_a_build_folder_of_the_app_is_not_junk():
    """full-stack-fastapi-template commits its generated e-mail templates in
    backend/app/email-templates/build/, which the app reads at run time."""
    passes(CODE, "FROM python:3.12\nCOPY . .\n",
           {".dockerignore": "", "pyproject.toml": "", "app/email-templates/build/new_account.html": "<p>",
            "frontend/dist/index.js": "x", "app/main.py": ""})  # fmt: skip


def test_a_hint_without_edits_is_no_fix_in_any_format():
    """`COPY sub /app` needs every file below sub/, so no .dockerignore line may drop its
    __pycache__: the finding is a hint. JSON and SARIF then show no fix (as the text shows no
    [*] and `fix` applies nothing), and the help still says what to do."""
    import json

    from layerwise.report.findings import finding_dict, render_text
    from layerwise.report.sarif import render_sarif

    (f,) = catches(CODE, "FROM python:3.12\nCOPY sub /app\n",
                   {".dockerignore": ".git\n", "sub/app.py": "", "sub/pkg/__pycache__/m.pyc": "x"}, line=2)  # fmt: skip
    assert f.fix is None and not f.fixable(True)
    d = finding_dict(f)
    assert d["fix"] is None and "**/__pycache__" in d["help"]
    (result,) = json.loads(render_sarif([f]))["runs"][0]["results"]
    assert "fixes" not in result and "**/__pycache__" in result["message"]["text"]
    assert "[*]" not in render_text([f], {}, show_frames=False)


def test_a_fix_given_no_edits_becomes_the_hint():
    from layerwise.analyses.findings import Edit, Finding, Fix

    f = Finding("LW303", "m", "Dockerfile", 1, fix=Fix("safe", "add x to .dockerignore"))
    assert f.fix is None and f.hint == "add x to .dockerignore"
    g = Finding("LW303", "m", "Dockerfile", 1, hint="own", fix=Fix("safe", "d"))
    assert g.fix is None and g.hint == "own"
    edit = Edit(".dockerignore", 0, 0, "x\n")
    h = Finding("LW303", "m", "Dockerfile", 1, fix=Fix("safe", "d", (edit,)))
    assert h.fix.edits == (edit,) and h.fixable()


def test_a_copied_dist_that_the_build_installs_is_not_junk():
    """locust's Dockerfile.ci: `COPY ./dist dist` then `pip install dist/*.whl` (the wheel a CI
    step built). Excluding dist, as the help said, breaks the build."""
    files = {".dockerignore": ".git\n", "pyproject.toml": "[project]\nname = 'app'\nversion = '1.0'\n",
             "dist/app-1.0-py3-none-any.whl": "w"}  # fmt: skip
    for copy in ("COPY ./dist dist", "COPY dist/ /tmp/dist/", "COPY dist/*.whl /tmp/dist/",
                 "COPY dist/app-1.0-py3-none-any.whl /tmp/"):  # fmt: skip
        passes(CODE, f"FROM python:3.12\n{copy}\nRUN pip install /tmp/dist/*.whl dist/*.whl\n", files)
    # other junk named by no COPY is still junk, and a whole-context copy keeps the dist the
    # other COPY reads (the fix would exclude what the build needs)
    (f,) = catches(CODE, "FROM python:3.12\nCOPY dist/ /tmp/dist/\nCOPY . /app\n",
                   {**files, "app/__pycache__/m.pyc": "x"}, line=3)  # fmt: skip
    assert "__pycache__" in f.message and "dist" not in f.message


def test_a_junk_folder_copied_by_name_is_not_junk_but_what_is_below_a_copied_folder_is():
    passes(CODE, "FROM python:3.12\nCOPY .venv /opt/venv\n", {".dockerignore": "", ".venv/pyvenv.cfg": "home = /usr\n"})
    catches(CODE, "FROM python:3.12\nCOPY src/*.py /app/\nCOPY src /app\n",
            {".dockerignore": "", "src/m.py": "", "src/__pycache__/m.pyc": "x"}, line=3)  # fmt: skip


VCS_BUILD = """\
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
COPY . /build
WORKDIR /build
RUN {run}
"""


def _repo(tmp_path, files):
    from tests.shared import committed_repo

    def write(root):
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)

    return committed_repo(tmp_path / "repo", write, key=("lw303", tuple(sorted(files.items()))))


def test_the_git_a_vcs_versioned_build_reads_is_not_junk(tmp_path):
    """hatch-vcs computes the version from .git: excluding it fails the build ("unable to
    detect version"). The other junk is still reported and fixed."""
    import layerwise
    from layerwise.fixes import fix_project

    repo = _repo(tmp_path, {"pyproject.toml": HATCH_VCS, "app/__init__.py": "", ".dockerignore": "build/\n"})
    (repo / "app/__pycache__").mkdir()
    (repo / "app/__pycache__/x.pyc").write_text("x")  # untracked, as git ignores it
    (repo / "Dockerfile").write_text(VCS_BUILD.format(run="pip install --no-cache-dir ."))
    (f,) = layerwise.check_project(repo, select=["LW303"], config=False).findings
    assert "__pycache__" in f.message and ".git" not in f.message and ".git" not in f.hint
    fixed = fix_project(repo, repo / "Dockerfile", select={"LW303"})
    assert fixed.dockerignore == "build/\n**/__pycache__\n"
    # the same project installed only from a requirements file: .git is junk again
    (repo / "Dockerfile").write_text(VCS_BUILD.format(run="pip install --no-cache-dir -r requirements.txt"))
    (repo / "requirements.txt").write_text("flask==3.0.0\n")
    (g,) = layerwise.check_project(repo, select=["LW303"], config=False).findings
    assert ".git" in g.message and g.fixable()


def test_junk_git_tracks_is_left_to_the_hint_while_the_build_reads_git(tmp_path):
    """locust tracks .vscode/: excluding it while hatch-vcs reads the .git sent would make the
    version dirty. The finding stays, as a hint that says why the fix leaves it out."""
    import layerwise
    from layerwise.fixes import fix_project

    repo = _repo(tmp_path, {"pyproject.toml": HATCH_VCS, "app/__init__.py": "", ".dockerignore": "build/\n",
                            ".vscode/settings.json": "{}"})  # fmt: skip
    (repo / "Dockerfile").write_text(VCS_BUILD.format(run="uv build && pip install dist/*.whl"))
    (f,) = layerwise.check_project(repo, select=["LW303"], config=False).findings
    assert ".vscode" in f.message and not f.fixable()
    assert "leaves out .vscode" in f.hint and "hatch-vcs" in f.hint and "dirty" in f.hint
    assert not fix_project(repo, repo / "Dockerfile", select={"LW303"}).changed
