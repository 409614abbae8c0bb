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


def _fixed(dockerfile: str) -> str:
    from layerwise.fixes.edits import TextEdit, apply_edits
    from layerwise.parse import parse

    (f,) = catches(CODE, dockerfile)
    assert f.fix is not None and f.fix.safety == "safe"
    new = apply_edits(dockerfile, [TextEdit(e.start_offset, e.end_offset, e.replacement) for e in f.fix.edits])
    parse(new, "Dockerfile")  # still a Dockerfile
    return new


M = "RUN --mount=type=cache,target=/root/.cache/uv "


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (M + "uv sync --no-cache --locked\n", M + "uv sync --locked\n"),
        (M + "uv sync --locked --no-cache\n", M + "uv sync --locked\n"),
        # alone on a continuation line: the whole line goes (no line of a lone backslash)
        (M + "\\\n    uv sync \\\n        --no-cache \\\n        --locked\n", M + "\\\n    uv sync \\\n        --locked\n"),
        # first of several on its line: the indentation stays
        (M + "\\\n    uv sync \\\n        --no-cache --locked \\\n        --frozen\n",
         M + "\\\n    uv sync \\\n        --locked \\\n        --frozen\n"),  # fmt: skip
        # alone on the last line: the continuation before it goes too
        (M + "\\\n    uv sync --locked \\\n        --no-cache\nCMD [\"app\"]\n", M + "\\\n    uv sync --locked\nCMD [\"app\"]\n"),
        # a longer option that starts the same is not touched
        (M + "uv sync --no-cache-x --no-cache\n", M + "uv sync --no-cache-x\n"),
        # the option of the install, not the same text in a quoted word before it
        (M + 'echo "uv sync --no-cache" && uv sync --no-cache --locked\n', M + 'echo "uv sync --no-cache" && uv sync --locked\n'),
    ],
    ids=["middle", "end", "own-line", "line-start", "last-line", "prefix", "quoted-elsewhere"],
)
def test_fix_removes_the_option_and_keeps_lines_tidy(before, after):
    assert _fixed("FROM python:3.12\n" + before) == "FROM python:3.12\n" + after
