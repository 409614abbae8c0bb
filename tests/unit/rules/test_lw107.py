import tempfile
from pathlib import Path

import pytest

from tests.unit.rules.fixtable import fixed
from tests.unit.rules.helpers import catches, passes

CODE = "LW107"

CATCHES = [
    ("FROM python:3.12-alpine\nADD . /app\nRUN apk add --no-cache curl\n", 3),
    ("FROM python:3.12\nCOPY . /app\nRUN apt-get update && apt-get install -y gcc\n", 3),
    ("FROM fedora:40\nCOPY . .\nRUN dnf -y install gcc\n", 3),
]
PASSES = [
    "FROM python:3.12\nRUN apt-get update && apt-get install -y gcc\nCOPY . /app\n",
    "FROM python:3.12\nCOPY requirements.txt .\nRUN apt-get update && apt-get install -y gcc\n",
    "FROM python:3.12 AS a\nCOPY . .\nFROM python:3.12\nRUN apk add curl\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


# ------------------------------------------------------------------ the fix: input -> output

APT = "RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n"

FIXES = [
    # moved above the copy with its comment, past metadata it does not use
    (f"FROM python:3.12\nWORKDIR /app\n# the code\nCOPY . .\nENV PORT=8000\nEXPOSE 8000\n# tools\n{APT}CMD [\"python\"]\n", False,
     f"FROM python:3.12\nWORKDIR /app\n# tools\n{APT}# the code\nCOPY . .\nENV PORT=8000\nEXPOSE 8000\nCMD [\"python\"]\n"),
    # alpine, ADD, at the end of a file without a final newline
    ("FROM python:3.12-alpine\nADD . /app\nRUN apk add --no-cache curl", False,
     "FROM python:3.12-alpine\nRUN apk add --no-cache curl\nADD . /app\n"),
    # past another RUN that reads no context: their order changes, an unsafe fix
    (f"FROM python:3.12\nCOPY . /app\nRUN useradd app\n{APT}", True,
     f"FROM python:3.12\n{APT}COPY . /app\nRUN useradd app\n"),
]  # fmt: skip

NOT_FIXED = [
    # the install reads a copied file
    "FROM python:3.12\nCOPY . /app\nRUN apt-get install -y $(cat /app/packages.txt)\n",
    "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN xargs apt-get install -y < apt.txt\n",
    # an ENV it uses is set after the copy
    "FROM python:3.12\nCOPY . /app\nENV PKGS=gcc\nRUN apt-get install -y $PKGS\n",
    # a USER or WORKDIR in between changes what it runs as / where
    "FROM python:3.12\nCOPY . /app\nUSER app\nRUN apt-get install -y gcc\n",
    # a RUN in between that may read the copy
    "FROM python:3.12\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nRUN apt-get install -y gcc\n",
    # the copy writes to / (it may bring apt's configuration)
    "FROM python:3.12\nCOPY . /\nRUN apt-get install -y gcc\n",
    # it works on a copied file (no such file above the copy) or reads the project (npm ci)
    "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN apt-get install -y gcc && chmod +x start.sh\n",
    "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN apt-get install -y nodejs && npm ci\n",
]


@pytest.mark.parametrize("before,unsafe,after", FIXES)
def test_fix(before, unsafe, after):
    assert fixed(CODE, before, unsafe=unsafe) == after
    if unsafe:
        assert fixed(CODE, before) == before  # not applied without --unsafe-fixes


@pytest.mark.parametrize("dockerfile", NOT_FIXED)
def test_no_fix_when_the_run_may_depend_on_the_copy(dockerfile):
    (f,) = catches(CODE, dockerfile)
    assert f.fix is None


# ------------------------------------------------------------------ with LW101 (one move or the other)

LAYOUT = f"FROM python:3.12\nWORKDIR /app\nCOPY . .\n{APT}RUN pip install -r requirements.txt\n"
FILES = {"requirements.txt": "flask==3.0.3\n", "app.py": "print(1)\n"}


def _fix(select: set[str], dockerfile: str = LAYOUT) -> str:
    from layerwise.fixes import fix_dockerfile_text

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for rel, body in {**FILES, "Dockerfile": dockerfile}.items():
            (root / rel).write_text(body)
        out, _, _ = fix_dockerfile_text(dockerfile, str(root / "Dockerfile"), root, select=select)
    return out


def test_leaves_the_move_to_lw101_when_lw101_runs():
    # LW101's fix moves the COPY below the dependency install, and so below the RUN too
    assert _fix({"LW101", "LW107"}) == _fix({"LW101"}) != LAYOUT
    assert _fix({"LW101", "LW107"}).index("apt-get") < _fix({"LW101", "LW107"}).index("COPY . .")


def test_moves_the_run_itself_when_lw101_is_not_selected():
    (f,) = catches(CODE, LAYOUT, FILES)
    assert f.fix is not None and f.fix.safety == "safe"
    assert _fix({"LW107"}) == f"FROM python:3.12\nWORKDIR /app\n{APT}COPY . .\nRUN pip install -r requirements.txt\n"


def test_moves_the_run_itself_when_an_inline_directive_turns_lw101_off_at_the_copy():
    ignored = LAYOUT.replace("COPY . .\n", "# layerwise: ignore[LW101]\nCOPY . .\n")
    assert _fix({"LW101", "LW107"}, ignored) == (
        f"FROM python:3.12\nWORKDIR /app\n{APT}# layerwise: ignore[LW101]\nCOPY . .\nRUN pip install -r requirements.txt\n"
    )
