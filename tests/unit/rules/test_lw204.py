import pytest

from tests.unit.rules.helpers import catches, findings, passes

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


def test_fix_sets_the_link_mode_above_the_run():
    from layerwise.fixes.edits import TextEdit, apply_edits

    text = "FROM python:3.12\n# deps\n  RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n"
    (f,) = findings(CODE, text)
    assert f.fix is not None and f.fix.safety == "safe"
    new = apply_edits(text, [TextEdit(e.start_offset, e.end_offset, e.replacement) for e in f.fix.edits])
    assert new == ("FROM python:3.12\n# deps\n  ENV UV_LINK_MODE=copy\n"
                   "  RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n")  # fmt: skip
    passes(CODE, new)
