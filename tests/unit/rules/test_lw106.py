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
