import json

import pytest

from tests.unit.rules.helpers import catches, findings, passes

CODE = "LW504"

CATCHES = [
    ("FROM python:3.12\nCMD gunicorn app:app\n", 2),
    ("FROM python:3.12\nENTRYPOINT python -m app\n", 2),
    ("FROM python:3.12\nCMD python manage.py migrate && gunicorn app\n", 2),
]
PASSES = [
    'FROM python:3.12\nCMD ["gunicorn", "app:app"]\n',
    "FROM python:3.12\nCMD exec gunicorn app:app\n",
    "FROM python:3.12 AS build\nCMD make\nFROM python:3.12\nCMD [\"x\"]\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


def test_exec_form_fix_only_without_shell_syntax():
    text = "FROM python:3.12\nCMD gunicorn --bind :8000 app:app\n"
    (f,) = findings(CODE, text)
    (e,) = f.fix.edits
    new = text[: e.start_offset] + e.replacement + text[e.end_offset :]
    assert json.loads(new.splitlines()[1][4:]) == ["gunicorn", "--bind", ":8000", "app:app"]
    (g,) = findings(CODE, "FROM python:3.12\nCMD gunicorn -b :$PORT app\n")
    assert g.fix is None
