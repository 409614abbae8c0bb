from tests.unit.rules.helpers import catches, passes

CODE = "LW106"
DF = "FROM python:3.12\nCOPY . .\n"


def test_dockerfile_and_compose_sent():
    (f,) = catches(CODE, DF, {".dockerignore": ".git\n", "compose.yaml": "services: {}\n"}, line=2)
    assert "Dockerfile" in f.message and "compose.yaml" in f.message and ".dockerignore" in f.message


def test_excluded():
    passes(CODE, DF, {".dockerignore": "Dockerfile\n.dockerignore\ncompose.yaml\n", "compose.yaml": ""})


def test_no_whole_copy():
    passes(CODE, "FROM python:3.12\nCOPY app.py .\n", {".dockerignore": ""})


def test_without_context():
    passes(CODE, DF)


def test_build_file_names_match_as_fnmatch_does():
    """The one pattern the rule compiles matches exactly the names one of its globs matches
    with ``fnmatch.fnmatchcase`` (what the rule asked glob by glob before)."""
    import fnmatch

    from hypothesis import given
    from hypothesis import strategies as st

    from layerwise.analyses.rules.lw106_build_files_copied import _BUILD_FILES, _build_file_match
    from tests.fuzz.strategies import fuzz_settings

    pieces = st.sampled_from(["Dockerfile", "dockerfile", "Containerfile", "docker-compose", "compose", ".yml",
                              ".yaml", ".dockerignore", ".", "-", "x", "\n", "é", ".Dockerfile", "er"])  # fmt: skip

    @fuzz_settings()
    @given(st.lists(pieces, max_size=5).map("".join))
    def same(name):
        assert bool(_build_file_match()(name)) == any(fnmatch.fnmatchcase(name, g) for g in _BUILD_FILES)

    same()


VCS_DF = "FROM python:3.12-slim\nCOPY . /build\nWORKDIR /build\nRUN pip install --no-cache-dir .\n"


def test_no_tracked_file_left_out_while_the_build_reads_git_for_its_version(tmp_path):
    """locust: "# Dockerfile # We'd like to ignore this, but it messes up scm_version's
    detection". With .git sent, hatch-vcs sees an excluded tracked file as deleted: the version
    turns dirty. The fix leaves the tracked files out (an untracked one may still go)."""
    import layerwise
    from layerwise.fixes import fix_project
    from tests.shared import HATCH_VCS, committed_repo

    def write(root):
        for rel, text in {"pyproject.toml": HATCH_VCS, "app/__init__.py": "", "Dockerfile": VCS_DF,
                          ".dockerignore": "build/\n"}.items():  # fmt: skip
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)

    repo = committed_repo(tmp_path / "repo", write)
    (f,) = layerwise.check_project(repo, select=[CODE], config=False).findings
    assert not f.fixable() and "hatch-vcs" in f.hint and "dirty" in f.hint
    assert not fix_project(repo, repo / "Dockerfile", select={CODE}).changed
    (repo / "compose.yaml").write_text("services: {}\n")  # not committed: git does not track it
    fixed = fix_project(repo, repo / "Dockerfile", select={CODE})
    assert fixed.dockerignore == "build/\ncompose.yaml\n"
    # installed from a requirements file, the project's version is not built: all may go
    (repo / "Dockerfile").write_text(VCS_DF.replace("install --no-cache-dir .", "install -r requirements.txt"))
    (repo / "requirements.txt").write_text("flask==3.0.0\n")
    fixed = fix_project(repo, repo / "Dockerfile", select={CODE})
    assert fixed.dockerignore == "build/\n.dockerignore\nDockerfile\ncompose.yaml\n"
