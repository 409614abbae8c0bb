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
