import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW105"

CATCHES = [
    ("FROM python\n", 1),
    ("FROM python:latest\n", 1),
    ("FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\n", 2),
    ("FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv /uv /bin/uv\n", 2),
    ("ARG BASE=python\nFROM $BASE\n", 2),
    ("FROM localhost:5000/app\n", 1),
    ("FROM python:3.12\nRUN --mount=from=ghcr.io/astral-sh/uv:latest,source=/uv,target=/bin/uv uv --version\n", 2),
]
PASSES = [
    "FROM python:3.12-slim\n",
    "FROM python@sha256:" + "a" * 64 + "\n",
    "FROM python:3.12 AS base\nFROM base\nCOPY --from=base /x /x\n",
    "FROM scratch\n",
    "FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv\n",
    "FROM localhost:5000/app:1.0\n",
    "ARG BASE\nFROM $BASE\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)
