from tests.unit.rules.helpers import catches, passes

CODE = "LW304"


def test_copy_source_excluded():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY requirements.txt .\n",
                   {".dockerignore": "*.txt\n", "requirements.txt": ""}, line=2)  # fmt: skip
    assert ".dockerignore:1" in f.message and "!requirements.txt" in f.hint


def test_readme_excluded_for_project_install():
    (f,) = catches(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install .\n",
                   {".dockerignore": "*.md\n", "README.md": "x",
                    "pyproject.toml": '[project]\nname="a"\nversion="1"\nreadme="README.md"\n'}, line=4)  # fmt: skip
    assert "README.md" in f.message


def test_requirement_include_excluded():
    catches(CODE, "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n",
            {".dockerignore": "base.txt\n", "requirements.txt": "-r base.txt\n", "base.txt": ""}, line=3)  # fmt: skip


def test_exception_keeps_it():
    passes(CODE, "FROM python:3.12\nCOPY requirements.txt .\n",
           {".dockerignore": "*.txt\n!requirements.txt\n", "requirements.txt": ""})  # fmt: skip


def test_bind_mount_source_excluded():
    catches(CODE, "FROM python:3.12\nRUN --mount=type=bind,source=uv.lock,target=uv.lock uv sync --locked\n",
            {".dockerignore": "*.lock\n", "uv.lock": ""}, line=2)  # fmt: skip
