import pytest

from tests.unit.rules.fixtable import fixed
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


# ------------------------------------------------------------------ the fix: input -> output

FIXES = [
    # the update RUN merged into the install, the lists removed
    ("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y gcc\n",
     "FROM debian:12\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n"),
    # its options and env prefixes kept; the comment above the update stays; CRLF kept
    ("FROM debian:12\r\n# lists\r\nRUN apt-get -qq update\r\nRUN DEBIAN_FRONTEND=noninteractive apt-get install -y gcc\r\n",
     "FROM debian:12\r\n# lists\r\nRUN apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y gcc"
     " && rm -rf /var/lib/apt/lists/*\r\n"),
    # the continuation style of the RUN: leading &&
    ("FROM debian:12\nRUN apt-get update \\\n && apt-get install -y gcc\n",
     "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y gcc \\\n && rm -rf /var/lib/apt/lists/*\n"),
    # trailing && \
    ("FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y gcc\n",
     "FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y gcc && \\\n    rm -rf /var/lib/apt/lists/*\n"),
    # two installs on the same old lists: each updates; the update RUN goes once
    ("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y gcc\nRUN apt-get install -y make\n",
     "FROM debian:12\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n"
     "RUN apt-get update && apt-get install -y make && rm -rf /var/lib/apt/lists/*\n"),
    # flags of the install RUN stay in front
    ("FROM debian:12\nRUN apt-get update\nRUN --network=host apt-get install -y gcc\n",
     "FROM debian:12\nRUN --network=host apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n"),
    # a builder stage: no cleanup needed (its layers do not ship), the merge still
    ("FROM debian:12 AS build\nRUN apt-get update\nRUN apt-get install -y gcc\nFROM debian:12\nCOPY --from=build /x /x\n",
     "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\nFROM debian:12\nCOPY --from=build /x /x\n"),
    # escape=` (Windows style continuations)
    ("# escape=`\nFROM debian:12\nRUN apt-get update `\n && apt-get install -y gcc\n",
     "# escape=`\nFROM debian:12\nRUN apt-get update `\n && apt-get install -y gcc `\n && rm -rf /var/lib/apt/lists/*\n"),
]  # fmt: skip

NOT_FIXED = [
    # a later stage FROM this one installs on these lists: removing them would break it
    "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y gcc\nFROM base\nRUN apt-get install -y make\n",
    # the update RUN does more than update: left alone (the finding stays, without a fix)
    "FROM debian:12\nRUN apt-get update && echo hi > /x\nRUN apt-get install -y gcc\n",
    # exec form
    'FROM debian:12\nRUN apt-get update\nRUN ["apt-get", "install", "-y", "gcc"]\n',
]


@pytest.mark.parametrize("before,after", FIXES)
def test_fix(before, after):
    assert fixed(CODE, before) == after


@pytest.mark.parametrize("dockerfile", NOT_FIXED)
def test_no_fix_when_it_could_break_the_build(dockerfile):
    assert fixed(CODE, dockerfile) == dockerfile
    assert catches(CODE, dockerfile)
