from tests.unit.rules.helpers import catches, passes

CODE = "LW102"
DF = "FROM python:3.12\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --locked --no-install-project\nCOPY . .\n"


def test_static_version_and_tool_tables():
    (f,) = catches(CODE, DF, {"pyproject.toml": '[project]\nname="a"\nversion="1.2.3"\n[tool.ruff]\nline-length=99\n',
                              "uv.lock": ""}, line=2)  # fmt: skip
    assert "1.2.3" in f.message and "[tool.ruff]" in f.message and "uv.lock" in f.message


def test_poetry_version_with_tool_tables():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n",
                   {"pyproject.toml": '[tool.poetry]\nname="a"\nversion="0.1.0"\n[tool.black]\nline-length=99\n',
                    "poetry.lock": ""}, line=2)  # fmt: skip
    assert "0.1.0" in f.message and "[tool.black]" in f.message


def test_a_static_version_alone_is_silent():
    """The textbook layout of Poetry, uv and PDM projects (issue #18: correct projects are silent)."""
    passes(CODE, "FROM python:3.12\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n",
           {"pyproject.toml": '[tool.poetry]\nname="a"\nversion="0.1.0"\n', "poetry.lock": ""})  # fmt: skip
    passes(CODE, DF, {"pyproject.toml": '[project]\nname="a"\nversion="1.2.3"\n', "uv.lock": ""})


def test_dynamic_version_and_only_install_tools():
    passes(CODE, DF, {"pyproject.toml": '[project]\nname="a"\ndynamic=["version"]\n[tool.uv]\ndev-dependencies=[]\n',
                      "uv.lock": ""})  # fmt: skip


def test_a_dynamic_version_is_neither_in_uv_lock_nor_to_be_made_dynamic():
    """uv.lock records no version for a dynamic one, and the hint does not advise what is done
    already (seen on a real project: nicegui)."""
    (f,) = catches(CODE, DF, {"pyproject.toml": '[project]\nname="a"\ndynamic=["version"]\n[tool.ruff]\nline-length=99\n',
                              "uv.lock": ""}, line=2)  # fmt: skip
    assert "[tool.ruff]" in f.message and "records the project's version" not in f.message
    assert "dynamic" not in f.hint and "keep tool settings in their own files" in f.hint


def test_silent_without_context():
    passes(CODE, DF)


def test_requirements_install_not_concerned():
    passes(CODE, "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
           {"pyproject.toml": '[project]\nname="a"\nversion="1"\n', "requirements.txt": ""})  # fmt: skip


def test_bind_mounted_pyproject():
    catches(CODE, "FROM python:3.12\nRUN --mount=type=bind,source=pyproject.toml,target=pyproject.toml "
                  "--mount=type=bind,source=uv.lock,target=uv.lock uv sync --locked --no-install-project\n",
            {"pyproject.toml": '[project]\nname="a"\nversion="2.0"\n[tool.ruff]\n', "uv.lock": ""}, line=2)  # fmt: skip


ROOT = '[tool.uv.workspace]\nmembers=["backend"]\n[tool.typos.files]\nextend-exclude=[]\n'
BACKEND = '[project]\nname="app"\nversion="0.1.0"\n[tool.mypy]\nstrict=true\n[tool.ruff]\n[tool.coverage.run]\n[tool.ty.terminal]\n[tool.fastapi]\n'


def test_a_subfolder_copy_names_the_sections_of_the_file_it_copies():
    """full-stack-fastapi-template (issue 13): the message named the root pyproject.toml's
    [tool.typos], but backend/Dockerfile copies backend/pyproject.toml."""
    df = "FROM python:3.12\nWORKDIR /app\nCOPY ./backend/pyproject.toml /app/backend/\nRUN cd backend && uv sync --frozen\n"
    (f,) = catches(CODE, df, {"pyproject.toml": ROOT, "backend/pyproject.toml": BACKEND, "uv.lock": ""}, line=3)
    assert f.message.startswith("backend/pyproject.toml, copied here for `uv sync --frozen` (line 4)")
    assert '"0.1.0"' in f.message and "[tool.coverage], [tool.fastapi], [tool.mypy], [tool.ruff] and 1 more" in f.message
    assert "typos" not in f.message


def test_a_subfolder_file_without_other_tools_is_silent_whatever_the_root_holds():
    df = "FROM python:3.12\nCOPY backend/pyproject.toml backend/uv.lock ./\nRUN uv sync --locked --no-install-project\n"
    passes(CODE, df, {"pyproject.toml": ROOT, "backend/pyproject.toml": '[project]\nname="a"\nversion="1"\n', "backend/uv.lock": ""})


def test_a_bind_mount_names_the_file_it_mounts():
    root_mount = ("FROM python:3.12\nRUN --mount=type=bind,source=pyproject.toml,target=pyproject.toml "
                  "uv sync --frozen --no-install-workspace\n")  # fmt: skip
    files = {"pyproject.toml": ROOT, "backend/pyproject.toml": BACKEND}
    (f,) = catches(CODE, root_mount, files, line=2)
    assert f.message.startswith("pyproject.toml, mounted for") and "[tool.typos]" in f.message
    sub = root_mount.replace("source=pyproject.toml", "source=backend/pyproject.toml")
    (f,) = catches(CODE, sub, files, line=2)
    assert f.message.startswith("backend/pyproject.toml, mounted for") and "[tool.mypy]" in f.message and "typos" not in f.message
