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


def test_silent_without_context():
    passes(CODE, DF)


def test_requirements_install_not_concerned():
    passes(CODE, "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
           {"pyproject.toml": '[project]\nname="a"\nversion="1"\n', "requirements.txt": ""})  # fmt: skip


def test_bind_mounted_pyproject():
    catches(CODE, "FROM python:3.12\nRUN --mount=type=bind,source=pyproject.toml,target=pyproject.toml "
                  "--mount=type=bind,source=uv.lock,target=uv.lock uv sync --locked --no-install-project\n",
            {"pyproject.toml": '[project]\nname="a"\nversion="2.0"\n[tool.ruff]\n', "uv.lock": ""}, line=2)  # fmt: skip
