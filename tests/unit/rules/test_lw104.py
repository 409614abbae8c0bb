import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW104"

CATCHES = [
    ("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y gcc\n", 3),
    ("FROM debian:12\nRUN apt-get update && apt-get install -y gcc\n", 2),
    ("FROM debian:12\nRUN apt update && apt install -y gcc\n", 2),
]
PASSES = [
    "FROM debian:12\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update && apt-get install -y gcc\n",
    "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\nFROM debian:12\nCOPY --from=build /x /x\n",
    "FROM debian:12\nRUN apt-get update \\\n  && apt-get install -y gcc \\\n  && apt-get clean \\\n  && rm -rf /var/lib/apt/lists/*\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)
