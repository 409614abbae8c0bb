import pytest

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
