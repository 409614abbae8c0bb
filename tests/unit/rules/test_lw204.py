import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW204"

CATCHES = [
    ("FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n", 2),
    ("FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv uv pip install --system -r r.txt\n", 2),
]
PASSES = [
    "FROM python:3.12\nENV UV_LINK_MODE=copy\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n",
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --link-mode=copy\n",
    "FROM python:3.12\nRUN uv sync --locked --no-cache\n",
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)
