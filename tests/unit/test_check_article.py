"""The article's flask-demo: the bad Dockerfile, then the optimised one with its .dockerignore.

hadolint reports only "use COPY instead of ADD" and "use --no-cache-dir" on the first; layerwise
must say that the order is the problem, and that the article's .dockerignore patterns only
match at the context root."""

from __future__ import annotations

from layerwise.analyses.check import check_dockerfile

BAD = """FROM python:3.10-slim
WORKDIR /app
# Add source code and requirements in one step
ADD . /app
# Install dependencies
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""
OPTIMISED = """FROM python:3.10-slim
WORKDIR /app
# Install dependencies early for caching
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
# Copy only the rest of the app after dependencies are installed
COPY . .
CMD ["python", "app.py"]
"""
IGNORE = "__pycache__/\n*.pyc\n*.pyo\n*.pyd\n.env\n.git\n"


def _project(tmp_path, dockerfile, dockerignore=None):
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / "app.py").write_text("from flask import Flask\n")
    (tmp_path / "requirements.txt").write_text("flask==2.3.2\n")
    if dockerignore is not None:
        (tmp_path / ".dockerignore").write_text(dockerignore)
    pkg = tmp_path / "pkg" / "__pycache__"
    pkg.mkdir(parents=True)
    (pkg / "m.cpython-310.pyc").write_bytes(b"\0")
    return check_dockerfile(tmp_path / "Dockerfile", context=tmp_path, display_path="Dockerfile")


def test_bad_dockerfile_order_is_the_finding(tmp_path):
    got = {(f.code, f.line) for f in _project(tmp_path, BAD).findings}
    assert ("LW101", 4) in got  # the order, at the ADD, naming the install at line 6
    assert {("LW502", 4), ("LW201", 6), ("LW301", 4)} <= got


def test_optimised_dockerfile_with_the_articles_dockerignore(tmp_path):
    result = _project(tmp_path, OPTIMISED, IGNORE)
    codes = {f.code for f in result.findings}
    assert "LW101" not in codes and "LW201" not in codes
    root_only = sorted(f.line for f in result.findings if f.code == "LW302")
    assert root_only == [1, 2, 3, 4]  # __pycache__/, *.pyc, *.pyo, *.pyd
    junk = [f for f in result.findings if f.code == "LW303"]
    assert junk and "pkg/__pycache__" in junk[0].message
