from tests.unit.rules.helpers import catches, passes

CODE = "LW305"


def test_env_file_copied():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY . .\n", {".dockerignore": "", ".env": "PASSWORD=x\n"}, line=2)
    assert ".env" in f.message


def test_key_copied_by_folder_copy():
    catches(CODE, "FROM python:3.12\nCOPY certs /certs\n", {".dockerignore": "", "certs/server.key": "k"}, line=2)


def test_excluded():
    passes(CODE, "FROM python:3.12\nCOPY . .\n", {".dockerignore": ".env\n", ".env": "PASSWORD=x\n"})


def test_example_env_is_fine():
    passes(CODE, "FROM python:3.12\nCOPY . .\n", {".dockerignore": "", ".env.example": "PASSWORD=\n"})
