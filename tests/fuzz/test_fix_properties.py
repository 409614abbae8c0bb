"""Properties of ``layerwise fix`` on generated Python-project Dockerfiles and contexts:

* the result parses, and fixing it again changes nothing (idempotent);
* nothing outside the edited instructions changes: every comment line survives unchanged, and
  every original instruction is still there, moved or with only the fixes' own changes
  (ADD -> COPY, ``--no-cache-dir``/``--no-cache``, a cache mount, a dependencies-only flag);
* the line-ending style is kept;
* the check <-> fix invariants of ``tests/fix_invariants.py`` (nothing fixable left, nothing
  changed that no finding reported, no file the build reads lost from the context).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layerwise.fixes import fix_project
from layerwise.parse import parse
from tests.fix_invariants import check_project

INSTALLS = {
    "pip": ("pip install -r requirements.txt", {"requirements.txt": "flask==3.0.3\n"}),
    "pip-includes": ("python -m pip install -r requirements/prod.txt",
                     {"requirements/prod.txt": "-r base.txt\n", "requirements/base.txt": "six\n"}),
    "pip-project": ("pip install .", {"pyproject.toml": "[project]\nname='x'\ndependencies=['six']\n"}),
    "poetry": ("pip install poetry && poetry install --only main", {"pyproject.toml": "", "poetry.lock": ""}),
    "uv": ("uv sync --locked", {"pyproject.toml": "", "uv.lock": ""}),
    "pdm": ("pdm install --prod", {"pyproject.toml": "", "pdm.lock": ""}),
    "pipenv": ("pipenv install --deploy --system", {"Pipfile": "", "Pipfile.lock": "{}"}),
    "free": ("pip install flask gunicorn", {}),
    "needs-code": ("python manage.py collectstatic && pip install -r requirements.txt", {"requirements.txt": ""}),
}  # fmt: skip

comments = st.lists(st.sampled_from(["# build it", "# deps", "#  spaced  comment", "# ünïcode"]), max_size=2)


@st.composite
def projects(draw):
    lines: list[str] = []

    def add(line: str) -> None:
        lines.extend(draw(comments))
        lines.append(line)

    add(draw(st.sampled_from(["FROM python:3.12-slim", "from python:3.11 AS app", "FROM python:3.10-slim"])))
    workdir = draw(st.sampled_from(["", "/app", "/srv/app"]))
    if workdir:
        add(f"WORKDIR {workdir}")
    if draw(st.booleans()):
        add("ENV PYTHONDONTWRITEBYTECODE=1")
    copy = draw(st.sampled_from(["COPY . .", "ADD . /app", "copy . ./", "COPY --chown=1000:1000 . ."]))
    add(copy)
    for _ in range(draw(st.integers(0, 2))):
        add(draw(st.sampled_from([
            "RUN apt-get update && apt-get install -y --no-install-recommends gcc",
            "RUN useradd -m app",
            "ARG VERSION=1",
            "RUN echo hello \\\n    && mkdir -p /data",
        ])))  # fmt: skip
    kind = draw(st.sampled_from(sorted(INSTALLS)))
    cmd, files = INSTALLS[kind]
    flags = draw(st.sampled_from(["", "--mount=type=cache,target=/root/.cache/pip "]))
    add(f"RUN {flags}{cmd}")
    if draw(st.booleans()):
        add('CMD ["python", "-m", "app"]')
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = ("\n".join(lines) + ("\n" if draw(st.booleans()) else "")).replace("\n", newline)
    existing_ignore = draw(st.sampled_from([None, "__pycache__/\n*.pyc\n", "*.txt\n*.md\n", ".git\n"]))
    return text, {"app.py": "print(1)\n", "README.md": "hi\n", **files}, existing_ignore, newline


def _normalise_instruction(src: str) -> str:
    s = re.sub(r"\s--no-cache-dir\b|\s--no-cache\b|\s--no-root\b|\s--no-install-project\b|\s--no-self\b|\s--no-deps\b", "", src)
    s = re.sub(r"\s--mount=type=cache,target=\S+", "", s)
    s = re.sub(r"\s*(?:\\\r?\n\s*)?&&\s*(?:\\\r?\n\s*)?rm -rf /var/lib/apt/lists/\*$", "", s)  # LW104
    s = re.sub(r"^(ADD|add)\b", lambda m: "COPY" if m.group(1) == "ADD" else "copy", s)
    return s


@pytest.mark.slow
@given(projects())
def test_fix_properties(project):
    text, files, existing_ignore, newline = project
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for name, body in files.items():
            p = root / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(body)
        (root / "Dockerfile").write_bytes(text.encode())
        if existing_ignore is not None:
            (root / ".dockerignore").write_text(existing_ignore)
        result = fix_project(root, root / "Dockerfile")
        out = result.dockerfile
        # parses, and the line-ending style is kept
        fixed = parse(out)
        if newline == "\r\n":
            assert "\n" not in out.replace("\r\n", "")
        else:
            assert "\r" not in out
        # comments survive unchanged, as a multiset
        def comment_lines(s: str) -> list[str]:
            return sorted(x.strip() for x in s.splitlines() if x.strip().startswith("#"))

        assert comment_lines(text) == [c for c in comment_lines(out) if c in comment_lines(text)]
        # every original instruction is still there (moved, or with only the fixes' changes)
        original = parse(text)
        after = [_normalise_instruction(fixed.source(n)) for n in fixed.nodes]
        for node in original.nodes:
            assert _normalise_instruction(original.source(node)) in after, original.source(node)
        # idempotent, Dockerfile and .dockerignore
        result.write()
        again = fix_project(root, root / "Dockerfile")
        assert not again.changed, again.diff()


@pytest.mark.slow
@given(projects())
def test_check_fix_invariants(project):
    text, files, existing_ignore, _ = project
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "random"
        for name, body in files.items():
            p = root / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(body)
        (root / "Dockerfile").write_bytes(text.encode())
        if existing_ignore is not None:
            (root / ".dockerignore").write_text(existing_ignore)
        for unsafe in (False, True):
            assert check_project(root, unsafe_fixes=unsafe) == []
