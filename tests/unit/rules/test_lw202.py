import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW202"

CATCHES = [
    ("FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir flask\n", 2),
    ("FROM python:3.12\nENV PIP_NO_CACHE_DIR=off\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n", 3),
    ("FROM python:3.12\nENV PIP_NO_CACHE_DIR=false\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n", 3),
    ("FROM python:3.12\nENV UV_NO_CACHE=1\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n", 3),
    ("FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv \\\n    uv sync --no-cache --locked\n", 3),
]
PASSES = [
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
    "FROM python:3.12\nRUN pip install --no-cache-dir flask\n",
    "FROM python:3.12\nRUN --mount=type=cache,target=/var/cache/apt pip install --no-cache-dir flask\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)
