import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW503"

CATCHES = [
    ("FROM python:3.12\nCMD python\n", 1),
    ("FROM python:3.12\nUSER app\nUSER root\n", 3),
    ("FROM python:3.12 AS build\nUSER app\nFROM python:3.12\nCMD x\n", 3),
]
PASSES = [
    "FROM python:3.12\nUSER app\n",
    "FROM python:3.12 AS base\nUSER 1000\nFROM base\n",
    "FROM scratch\nCOPY x /x\n",
    "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD x\n",
    "FROM mambaorg/micromamba:2.6.1\nCMD x\n",
    "FROM gcr.io/distroless/python3-debian12:nonroot\nCMD x\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)
