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
