from tests.unit.rules.helpers import catches, passes

CODE = "LW301"


def test_no_dockerignore_with_whole_copy():
    catches(CODE, "FROM python:3.12\nCOPY . .\n", {"app.py": ""}, line=2)


def test_with_dockerignore():
    passes(CODE, "FROM python:3.12\nCOPY . .\n", {".dockerignore": ".git\n"})


def test_per_dockerfile_ignore_file():
    passes(CODE, "FROM python:3.12\nCOPY . .\n", {"Dockerfile.dockerignore": ".git\n"})


def test_no_whole_copy():
    passes(CODE, "FROM python:3.12\nCOPY app.py .\n", {"app.py": ""})


def test_without_context():
    passes(CODE, "FROM python:3.12\nCOPY . .\n")
