import pytest

from tests.unit.rules.fixtable import fixed
from tests.unit.rules.helpers import catches, passes

CODE = "LW203"

CATCHES = [
    ("FROM python:3.12\nUSER app\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n", 3),
    ("FROM python:3.12\nENV UV_CACHE_DIR=/opt/uv-cache\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n", 3),
    ("FROM python:3.12\nRUN --mount=type=cache,target=/home/app/.cache/pip pip install flask\n", 2),
]
PASSES = [
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
    "FROM python:3.12\nUSER app\nRUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 pip install flask\n",
    "FROM python:3.12\nUSER app\nENV PIP_CACHE_DIR=/cache\nRUN --mount=type=cache,target=/cache pip install flask\n",
    "FROM python:3.12\nUSER app\nRUN pip install flask\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


# ------------------------------------------------------------------ the fix: input -> output

FIXES = [
    # root: the mount moves to the folder the environment names
    ("FROM python:3.12\nENV UV_CACHE_DIR=/opt/uv-cache\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n",
     "FROM python:3.12\nENV UV_CACHE_DIR=/opt/uv-cache\nRUN --mount=type=cache,target=/opt/uv-cache uv sync --locked\n"),
    # a user created with a known uid: its home cache, owned by it; the other options kept
    ("FROM python:3.12\nRUN useradd -m -u 1000 app\nUSER app\n"
     "RUN --mount=type=cache,target=/root/.cache/pip,sharing=locked pip install flask\n",
     "FROM python:3.12\nRUN useradd -m -u 1000 app\nUSER app\n"
     "RUN --mount=type=cache,target=/home/app/.cache/pip,sharing=locked,uid=1000 pip install flask\n"),
    # adduser --uid=..., in the stage it is built FROM; dst= spelling kept
    ("FROM python:3.12 AS base\nRUN adduser --disabled-password --uid=10001 web\nFROM base\nUSER web\n"
     "RUN --mount=type=cache,dst=/root/.cache/pip pip install flask\n",
     "FROM python:3.12 AS base\nRUN adduser --disabled-password --uid=10001 web\nFROM base\nUSER web\n"
     "RUN --mount=type=cache,dst=/home/web/.cache/pip,uid=10001 pip install flask\n"),
    # a numeric USER with a group: uid and gid; a wrong uid= replaced
    ("FROM python:3.12\nUSER 1000:1000\nRUN --mount=type=cache,target=/root/.cache/pip,uid=0 pip install flask\n",
     "FROM python:3.12\nUSER 1000:1000\nRUN --mount=type=cache,target=/.cache/pip,uid=1000,gid=1000 pip install flask\n"),
    # a mount on the wrong folder for root (a home that is not root's)
    ("FROM python:3.12\nRUN --mount=type=cache,target=/home/app/.cache/pip pip install flask\n",
     "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n"),
]  # fmt: skip

NOT_FIXED = [
    # the user's uid is not known: a root-owned mount would stay unused, no fix
    "FROM python:3.12\nUSER app\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
]


@pytest.mark.parametrize("before,after", FIXES)
def test_fix(before, after):
    assert fixed(CODE, before) == after


@pytest.mark.parametrize("dockerfile", NOT_FIXED)
def test_no_fix_without_the_users_id(dockerfile):
    assert fixed(CODE, dockerfile) == dockerfile
    (f,) = catches(CODE, dockerfile)
    assert f.fix is None and "uid=" in f.hint
