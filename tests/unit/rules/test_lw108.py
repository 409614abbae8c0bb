import pytest

from tests.unit.rules.fixtable import fixed
from tests.unit.rules.helpers import catches, passes

CODE = "LW108"

BUILDER = "FROM python:3.12 AS builder\nWORKDIR /app\nCOPY . .\nRUN python -m compileall -q .\n"

CATCHES = [
    (BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=builder /app /app\nRUN pip install -r requirements.txt\n", 8),
    # the copied folder holds the context below it; uv sync reads its lock
    (BUILDER + "FROM python:3.12-slim\nCOPY --from=builder / /\nWORKDIR /app\nRUN uv sync --locked\n", 8),
    # by stage index, a project install
    (BUILDER + "FROM python:3.12-slim\nCOPY --from=0 /app /srv\nRUN pip install /srv\n", 7),
]  # fmt: skip
PASSES = [
    # the dependencies first, then the app: the right layout
    BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=builder /app/requirements.txt /app/\n"
    "RUN pip install -r requirements.txt\nCOPY --from=builder /app /app\n",
    # a venv built in the builder: it does not hold the context
    "FROM python:3.12 AS builder\nRUN python -m venv /opt/venv\nCOPY requirements.txt .\nRUN /opt/venv/bin/pip install -r requirements.txt\n"
    "COPY . /src\nFROM python:3.12-slim\nCOPY --from=builder /opt/venv /opt/venv\nRUN /opt/venv/bin/pip install gunicorn==23.0.0\n",
    # nothing installed after the copy
    BUILDER + "FROM python:3.12-slim\nCOPY --from=builder /app /app\nCMD [\"python\", \"/app/app.py\"]\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


# ------------------------------------------------------------------ the fix: input -> output

FIXES = [
    (BUILDER + "FROM python:3.12-slim\nWORKDIR /app\n# the app\nCOPY --from=builder --chown=app /app /app\nENV PORT=8000\n"
     "RUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
     {"requirements.txt": "-r requirements/base.txt\n", "requirements/base.txt": "-c constraints.txt\nsix\n",
      "requirements/constraints.txt": "six==1.17.0\n"},
     BUILDER + "FROM python:3.12-slim\nWORKDIR /app\n"
     "COPY --from=builder --chown=app /app/requirements.txt /app/\n"
     "COPY --from=builder --chown=app /app/requirements/base.txt /app/requirements/constraints.txt /app/requirements/\n"
     "RUN pip install -r requirements.txt\n# the app\nCOPY --from=builder --chown=app /app /app\nENV PORT=8000\n"
     "CMD [\"python\", \"app.py\"]\n"),
    (BUILDER + "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY --from=builder /app /srv/app\nRUN uv sync --locked --no-install-project\n", None,
     BUILDER + "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY --from=builder /app/pyproject.toml /app/uv.lock /srv/app/\n"
     "RUN uv sync --locked --no-install-project\nCOPY --from=builder /app /srv/app\n"),
]  # fmt: skip

NOT_FIXED = [
    # the install builds the project: it needs the code (hint only)
    (BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=builder /app /app\nRUN pip install .\n", None),
    # a WORKDIR between: where it runs may change
    (BUILDER + "FROM python:3.12-slim\nCOPY --from=builder /app /srv/app\nWORKDIR /srv/app\nRUN uv sync --locked\n", None),
    # an ENV the install uses is set after the copy
    (BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=builder /app /app\nENV R=requirements.txt\nRUN pip install -r $R\n", None),
    # the requirements install local code
    (BUILDER + "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=builder /app /app\nRUN pip install -r requirements.txt\n",
     {"requirements.txt": "-e .\nflask==3.0.3\n"}),
]  # fmt: skip


@pytest.mark.parametrize("before,files,after", FIXES)
def test_fix(before, files, after):
    assert fixed(CODE, before, files) == after


@pytest.mark.parametrize("dockerfile,files", NOT_FIXED)
def test_no_fix_when_the_install_may_need_more(dockerfile, files):
    (f,) = catches(CODE, dockerfile, files)
    assert f.fix is None


def test_a_folder_the_stage_made_below_the_app_is_not_the_app():
    """`pip wheel --wheel-dir /usr/src/app/wheels` in the builder: copying the wheels is not
    copying the code (seen in testdrivenio/django-on-docker)."""
    df = ("FROM python:3.12 AS builder\nWORKDIR /usr/src/app\nCOPY . /usr/src/app/\n"
          "RUN pip wheel --no-deps --wheel-dir /usr/src/app/wheels -r requirements.txt\n"
          "FROM python:3.12-slim\nCOPY --from=builder /usr/src/app/wheels /wheels\n"
          "COPY --from=builder /usr/src/app/requirements.txt .\nRUN pip install --no-cache /wheels/*\n")  # fmt: skip
    passes(CODE, df)
    passes(CODE, df, {"requirements.txt": "six==1.17.0\n", "app.py": ""})
    # a code folder of the context below it is the code
    catches(CODE, df.replace("/usr/src/app/wheels /wheels", "/usr/src/app/src /app/src")
            .replace("RUN pip install --no-cache /wheels/*", "RUN pip install -r requirements.txt"),
            {"requirements.txt": "six==1.17.0\n", "src/app.py": ""})  # fmt: skip
