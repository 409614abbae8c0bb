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
