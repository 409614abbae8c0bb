import pytest

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
