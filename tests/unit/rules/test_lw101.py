import pytest

from tests.unit.rules.fixtable import fixed
from tests.unit.rules.helpers import catches, passes

CODE = "LW101"

CATCHES = [
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n", 3),
    ("FROM python:3.12\nADD . /app\nRUN cd /app && python -m pip install -r requirements.txt\n", 2),
    ("FROM python:3.12\nCOPY --chown=app:app . .\nRUN pip install flask gunicorn\n", 2),
    ('FROM python:3.12\nCOPY "." "/src/"\nRUN /venv/bin/pip3 install -e /src\n', 2),
    ("FROM python:3.12\nCOPY app.py requirements.txt ./\nRUN pip install -r requirements.txt\n", 2),
    ("FROM python:3.12\nCOPY app ./app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n", 2),
    ("FROM python:3.12\nCOPY . .\nRUN pip install poetry==1.8.3\nRUN poetry install\n", 2),
    ("FROM python:3.12\nCOPY . .\nRUN uv sync --locked\n", 2),
    ("FROM python:3.12\nCOPY . .\nRUN pip install pipenv && pipenv install --deploy --system\n", 2),
    ("FROM python:3.12\nCOPY . .\nRUN <<EOF\nset -e\nuv pip install --system -r requirements.txt\nEOF\n", 2),
    ("FROM python:3.12 AS base\nCOPY . /app\nFROM base\nRUN pip install -r /app/requirements.txt\n", 2),
    ("FROM continuumio/miniconda3:24.1.2-0\nCOPY . .\nRUN conda env create -f environment.yml\n", 2),
    ("FROM python:3.12\nCOPY . .\nRUN pip wheel --wheel-dir /wheels -r requirements.txt\n", 2),
    ("FROM python:3.12\nCOPY . .\nRUN python setup.py install\n", 2),
    ('FROM python:3.12\nCOPY . .\nRUN ["pip", "install", "-r", "requirements.txt"]\n', 2),
    ("FROM python:3.12\nCOPY . .\nRUN bash -c 'pip install -r requirements.txt'\n", 2),
]

PASSES = [
    "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n",
    "FROM python:3.12\nRUN pip install flask\nCOPY . .\n",
    "FROM python:3.12\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\nCOPY . .\nRUN poetry install\n",
    "FROM python:3.12\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --locked --no-install-project\nCOPY . .\nRUN uv sync --locked\n",
    "FROM python:3.12\nCOPY requirements/ /requirements/\nRUN pip install -r /requirements/base.txt\nCOPY . /src\nRUN pip install /src\n",
    "FROM python:3.12 AS build\nCOPY . .\nRUN python -m build\nFROM python:3.12\nCOPY --from=build /dist /dist\nRUN pip install /dist/*.whl\n",
    "FROM python:3.12\nCOPY . .\nRUN python -m compileall .\n",
    "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nRUN chmod +x run.sh\n",
    "FROM python:3.12\nCOPY entrypoint.sh config.yaml /\nRUN pip install -r requirements.txt\n",
    "FROM python:3.12\n# COPY . .\nRUN pip install flask\n",
]


# A builder stage installs the dependencies; the final stage copies the environment they went
# into and runs the same tool again, which then installs only the project (lnbits, mealie).
_UV_BUILDER = (
    "FROM python:3.12-slim AS builder\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
    "RUN uv sync --locked --no-install-project\n"
)
_PIP_BUILDER = (
    "FROM python:3.12-slim AS builder\nRUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
    "COPY requirements.txt .\nRUN pip install -r requirements.txt\n"
)
PREINSTALLED_PASSES = [
    _UV_BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCOPY --from=builder /app/.venv .venv\nRUN uv sync --locked\n",
    _UV_BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=builder /app /app\nCOPY . .\nRUN uv sync --locked\n",
    _PIP_BUILDER + "FROM python:3.12-slim\nCOPY --from=builder /opt/venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
    "COPY . .\nRUN pip install -r requirements.txt\n",
    "FROM python:3.12-slim AS base\nENV POETRY_VIRTUALENVS_IN_PROJECT=true PYSETUP_PATH=/opt/pysetup\n"
    "FROM base AS builder\nWORKDIR $PYSETUP_PATH\nCOPY poetry.lock pyproject.toml ./\nRUN poetry install --only main\n"
    "FROM base\nCOPY --from=builder $PYSETUP_PATH $PYSETUP_PATH\nCOPY ./mealie /app/mealie\n"
    "COPY poetry.lock pyproject.toml /app/\nWORKDIR /app\nRUN poetry install --only main\n",
    "FROM python:3.12 AS builder\nCOPY requirements.txt .\nRUN pip install --prefix=/install -r requirements.txt\n"
    "FROM python:3.12-slim\nCOPY --from=builder /install /usr/local\nCOPY . .\nRUN pip install -r requirements.txt\n",
    # freqtrade: the user site of the builder's `pip install --user`, then the project alone
    "FROM python:3.12-slim AS deps\nCOPY requirements.txt /app/\nUSER ftuser\n"
    "RUN pip install --user -r /app/requirements.txt\n"
    "FROM python:3.12-slim\nCOPY --from=deps /home/ftuser/.local /home/ftuser/.local\nUSER ftuser\n"
    "COPY . /app/\nWORKDIR /app\nRUN pip install -e . --user --no-build-isolation\n",
]
PREINSTALLED_CATCHES = [
    # the copy brings no environment of the builder's install
    _UV_BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCOPY --from=builder /app/static static\nRUN uv sync --locked\n",
    _UV_BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCOPY --from=builder /usr/local /usr/local\nRUN uv sync --locked\n",
    # the final install reads a file the builder's did not
    _PIP_BUILDER + "FROM python:3.12-slim\nCOPY --from=builder /opt/venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
    "COPY . .\nRUN pip install -r requirements-dev.txt\n",
    # another tool
    _PIP_BUILDER + "FROM python:3.12-slim\nWORKDIR /opt/venv\nCOPY . .\n"
    "COPY --from=builder /opt/venv /opt/venv\nRUN poetry install\n",
]


@pytest.mark.parametrize("dockerfile", PREINSTALLED_PASSES)
def test_dependencies_copied_from_a_builder_are_not_reinstalled(dockerfile):
    passes(CODE, dockerfile)


@pytest.mark.parametrize("dockerfile", PREINSTALLED_CATCHES)
def test_a_builder_copy_without_the_environment_still_reinstalls(dockerfile):
    copy_line = dockerfile.splitlines().index("COPY . .") + 1
    catches(CODE, dockerfile, line=copy_line)

@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


def test_names_the_dependency_install_not_the_tool_install_before_it():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY . .\nRUN pip install pipenv\nRUN pipenv sync\n", line=2)
    assert "`pipenv sync` (line 4)" in f.message, f.message
    passes(CODE, "FROM python:3.12\nCOPY . .\nRUN pip install pipenv==2024.4.0 poetry==1.8.3\n")


def test_names_copy_install_and_volatile_files():
    (f,) = catches(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
                   files={"requirements.txt": "flask==3.0.3\n", "app.py": "print()\n", "pkg/mod.py": ""})
    assert "line 3" in f.message and "line 4" in f.message
    assert "app.py" in f.message and "pkg/mod.py" in f.message
    assert f.fix is not None


# ------------------------------------------- the fix: the project's own install with --no-deps

PYPROJECT = '[project]\nname = "hello"\nversion = "1"\ndependencies = ["six==1.17.0"]\n'
DEPS = (
    "python3 -c \"import sys;t=__import__('tomllib' if sys.version_info>=(3,11) else 'pip._vendor.tomli',fromlist=['_']);"
    "p=t.load(open('./pyproject.toml','rb')).get('project',{});print('\\n'.join(p.get('dependencies',[])))\""
    " > /tmp/layerwise-requirements.txt"
)

NO_DEPS_FIXES = [
    # pip install . after its dependencies were installed alone: the project alone
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install .\n", {"pyproject.toml": PYPROJECT},
     f"FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml ./\nRUN {DEPS} && pip install -r /tmp/layerwise-requirements.txt\n"
     "COPY . .\nRUN pip install --no-deps .\n"),
    # uv pip: uv installs the pyproject's dependencies, then the project alone
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -e .\n", {"pyproject.toml": PYPROJECT},
     "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml ./\nRUN uv pip install --system -r pyproject.toml\n"
     "COPY . .\nRUN uv pip install --no-deps --system -e .\n"),
    # dependencies computed at build time (dynamic): the deps-only step cannot list them,
    # so the project's install keeps installing them
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install .\n",
     {"pyproject.toml": '[project]\nname = "hello"\nversion = "1"\ndynamic = ["dependencies"]\n'},
     f"FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml ./\nRUN {DEPS} && pip install -r /tmp/layerwise-requirements.txt\n"
     "COPY . .\nRUN pip install .\n"),
]  # fmt: skip


@pytest.mark.parametrize("before,files,after", NO_DEPS_FIXES)
def test_fix_installs_the_project_alone(before, files, after):
    assert fixed(CODE, before, files) == after


def test_no_deps_without_the_project_files():
    """Without a build context the dependencies cannot be known static: no --no-deps."""
    out = fixed(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install .\n")
    assert "--no-deps" not in out


# ------------------------------------------- the fix moves only commands that read no project file

_NODE_RUN = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt && {cmd}\n"
NEEDS_THE_CODE = [
    "npm ci && npm run build",  # reads package.json, package-lock.json, the sources
    "npm install",
    "npm i -g .",  # the project itself, installed globally
    "npm install --global ./tools/cli",
    "npx tailwindcss -i ./static/in.css -o ./static/out.css",
    "pnpm install --frozen-lockfile",
    "bun install",
    "bun run build",
    "yarn",
    "yarn install",
    "node build.js",
    "corepack install",
]


@pytest.mark.parametrize("cmd", NEEDS_THE_CODE)
def test_no_fix_moves_a_command_that_reads_the_project(cmd):
    """The install shares its RUN with a command that needs the project's files: moving the
    RUN above `COPY . .` would break the build, so the finding carries a hint, no fix."""
    files = {"requirements.txt": "flask==3.0.3\n", "package.json": "{}\n", "app.py": ""}
    (f,) = catches(CODE, _NODE_RUN.format(cmd=cmd), files, line=3)
    assert f.fix is None, f.fix
    assert "split them" in f.hint, f.hint


READS_NO_PROJECT_FILE = [
    "npm install -g sass",
    "npm install --global --cache /tmp/npm pnpm@9.1.0 yarn",
    "npm config set fund false",
    "corepack enable",
    "yarn global add serve",
    "pnpm add -g serve",
]


@pytest.mark.parametrize("cmd", READS_NO_PROJECT_FILE)
def test_fix_still_moves_settings_and_global_installs_of_named_packages(cmd):
    before = _NODE_RUN.format(cmd=cmd)
    after = fixed(CODE, before, {"requirements.txt": "flask==3.0.3\n", "app.py": ""})
    assert after == (f"FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt ./\n"
                     f"RUN pip install -r requirements.txt && {cmd}\nCOPY . .\n")  # fmt: skip


# ------------------------------------------- a wildcard that copies dependency files only

_UV_GLOB = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock* ./\n"
            "RUN uv sync --locked --no-install-project\nCOPY . .\nRUN uv sync --locked\n")  # fmt: skip
_POETRY_GLOB = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock* ./\n"
                "RUN poetry install --no-root --only main\nCOPY . .\n")  # fmt: skip
_PYPROJECT = '[project]\nname = "app"\nversion = "1"\n'
DEPENDENCY_WILDCARDS = [
    (_UV_GLOB, None),
    (_UV_GLOB, {"pyproject.toml": _PYPROJECT, "uv.lock": "version = 1\n", "main.py": ""}),
    (_UV_GLOB, {"pyproject.toml": _PYPROJECT, "main.py": ""}),  # no lock yet: the wildcard copies nothing
    (_POETRY_GLOB, None),
    (_POETRY_GLOB, {"pyproject.toml": _PYPROJECT, "poetry.lock": "", "app.py": ""}),
    ("FROM python:3.12\nCOPY Pipfile* ./\nRUN pipenv install --deploy --system\nCOPY . .\n", None),
    # in the context, a wildcard that selects only dependency files
    ("FROM python:3.12\nCOPY *.toml ./\nRUN uv sync --no-install-project\nCOPY . .\n",
     {"pyproject.toml": _PYPROJECT, "app.py": ""}),
]  # fmt: skip


@pytest.mark.parametrize("dockerfile,files", DEPENDENCY_WILDCARDS)
def test_a_wildcard_of_dependency_files_is_a_dependency_copy(dockerfile, files):
    passes(CODE, dockerfile, files)


CODE_WILDCARDS = [
    ("FROM python:3.12\nCOPY pyproject.toml uv.lock* src* ./\nRUN uv sync --no-install-project\n", None),
    # the context shows the wildcard also selects a settings file of the app
    ("FROM python:3.12\nCOPY *.toml ./\nRUN uv sync --no-install-project\nCOPY . .\n",
     {"pyproject.toml": _PYPROJECT, "settings.toml": "debug = true\n", "app.py": ""}),
    ("FROM python:3.12\nCOPY pyproject.toml uv.lock* ./\nRUN uv sync --no-install-project\nCOPY . .\n",
     {"pyproject.toml": _PYPROJECT, "uv.lock": "", "uv.lock.py": ""}),
]  # fmt: skip


@pytest.mark.parametrize("dockerfile,files", CODE_WILDCARDS)
def test_a_wildcard_that_may_copy_code_is_still_reported(dockerfile, files):
    (f,) = catches(CODE, dockerfile, files, line=2)
    assert "*" in f.message, f.message


# ------------------------------------------- a script without an extension is a script

_SCRIPT = "FROM python:3.12\nCOPY docker/start-worker /start-worker\nRUN pip install -r requirements.txt\n"


def test_a_script_without_an_extension_is_exempt_as_entrypoint_sh_is():
    """The context shows `start-worker` is a file: a script, not code (as entrypoint.sh)."""
    files = {"docker/start-worker": "#!/bin/sh\ncelery worker\n", "requirements.txt": "flask==3.0.3\n"}
    passes(CODE, _SCRIPT, files)
    passes(CODE, _SCRIPT.replace("start-worker", "entrypoint.sh"), {**files, "docker/entrypoint.sh": "#!/bin/sh\n"})


def test_a_name_without_an_extension_is_a_folder_unless_the_context_shows_a_file():
    catches(CODE, _SCRIPT, {"docker/start-worker/tasks.py": "", "requirements.txt": ""}, line=2)
    catches(CODE, _SCRIPT, line=2)  # no context: taken for a folder, as before


# ------------------------------------------- ... nor commands that work on the copied files

_FILES = {"requirements.txt": "flask==3.0.3\n", "start.sh": "#!/bin/sh\n", "app.py": ""}
ON_THE_COPIED_FILES = [
    ("RUN pip install -r requirements.txt && chmod +x start.sh\n", "chmod"),  # no such file above the copy
    ("RUN pip install -r requirements.txt && chmod +x /app/start.sh\n", "chmod"),
    ("RUN pip install -r requirements.txt && chown -R app:app /app\n", "chown"),  # the copy comes after
    ("RUN pip install -r requirements.txt && chown -R app:app /\n", "chown"),
    ("RUN pip install -r requirements.txt && rm -rf tests\n", "rm"),  # the copy brings them back
    ("RUN pip install -r requirements.txt && chmod +x $APP/start.sh\n", "chmod"),  # a path it cannot place
]


@pytest.mark.parametrize("run,cmd", ON_THE_COPIED_FILES)
def test_no_fix_moves_a_command_on_the_copied_files_above_the_copy(run, cmd):
    (f,) = catches(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY . .\n" + run, _FILES, line=3)
    assert f.fix is None, f.fix
    assert f"`{cmd}` of the copied files" in f.hint, f.hint


def test_no_fix_moves_the_copy_below_a_run_that_works_on_its_files():
    (f,) = catches(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN chmod g+w /app/db.sqlite3\n"
                   "RUN pip install -r requirements.txt\n", {**_FILES, "db.sqlite3": ""}, line=3)  # fmt: skip
    assert f.fix is None, f.fix


def test_fix_moves_commands_on_other_paths():
    run = "RUN pip install -r requirements.txt && rm -rf /var/lib/apt/lists/* ~/.cache/pip /tmp/b && chown app /home/app\n"
    after = fixed(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY . .\n" + run, _FILES)
    assert after == "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt ./\n" + run + "COPY . .\n"


# ------------------------------------------- ... nor a `cd` into a folder only the copy brings

def test_no_fix_moves_a_cd_into_a_folder_of_the_copy():
    files = {"requirements.txt": "flask==3.0.3\n", "docs/a.md": ""}
    (f,) = catches(CODE, "FROM python:3.12\nCOPY . /app\nRUN cd /app/docs && pip install -r ../requirements.txt\n",
                   files, line=2)  # fmt: skip
    assert f.fix is None and "`cd /app/docs`" in f.hint, (f.fix, f.hint)
    # no WORKDIR and nothing copied to /app first: /app is not there before the copy
    (f,) = catches(CODE, "FROM python:3.12\nCOPY . /app\nRUN cd /app && pip install flask\n", files, line=2)
    assert f.fix is None, f.fix


CD_FIXES = [
    # the requirements copied first make /app
    ("FROM python:3.12\nCOPY . /app\nRUN cd /app && pip install -r requirements.txt\n",
     "FROM python:3.12\nCOPY requirements.txt /app/\nRUN cd /app && pip install -r requirements.txt\nCOPY . /app\n"),
    # made by the RUN itself
    ("FROM python:3.12\nCOPY . /app\nRUN mkdir -p /app/x && cd /app/x && pip install flask\n",
     "FROM python:3.12\nRUN mkdir -p /app/x && cd /app/x && pip install flask\nCOPY . /app\n"),
    # the WORKDIR
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN cd /app && pip install flask\n",
     "FROM python:3.12\nWORKDIR /app\nRUN cd /app && pip install flask\nCOPY . .\n"),
]  # fmt: skip


@pytest.mark.parametrize("before,after", CD_FIXES)
def test_fix_moves_a_cd_into_a_folder_that_is_there(before, after):
    assert fixed(CODE, before, {"requirements.txt": "flask==3.0.3\n", "app.py": ""}) == after
