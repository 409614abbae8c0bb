"""Property tests of the surfaces a hostile project controls besides its Dockerfile: the
requirements files (``-r``/``-c`` includes, continuations, comments), ``[tool.layerwise]``
and what leaves the tool (masking and escaping). Whatever the input: nothing outside the
project is read or named as a context file, no secret is printed, no exception escapes but
a located :class:`~layerwise.errors.LayerwiseError`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layerwise import escape, safefs
from layerwise.analyses.project import ProjectContext
from layerwise.errors import LayerwiseError
from tests.fuzz.strategies import fuzz_settings

SECRET = "S3CRET_do_not_print"

# path pieces a requirements include or a config value may be made of
_PIECES = st.sampled_from(["..", ".", "sub", "link", "outside", "secret.txt", "base.txt", "req.txt", "", "/", "//",
                           "proc/self/environ", "link/secret.txt", "sub/../..", "%2e%2e", "\\", "~"])  # fmt: skip
paths = st.lists(_PIECES, min_size=1, max_size=6).map("/".join)
_OPTIONS = st.sampled_from(["-r", "-c", "--requirement", "--constraint", "--requirement=", "-r=", "-e", "--index-url"])
_TAILS = st.sampled_from(["", " # comment", " \\", "\\", "  ", "\r", "\t#x", " --hash=sha256:00"])
lines = st.one_of(
    st.tuples(_OPTIONS, st.sampled_from([" ", "", "  "]), paths, _TAILS).map("".join),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,8}([<>=!~]=?[0-9.]{1,5})?", fullmatch=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)
files = st.lists(lines, max_size=12).map("\n".join)


def _project(root: Path, req: str, base: str) -> Path:
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_text(f"-r ../proj/req.txt\n{SECRET}==1\n")
    proj = root / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "req.txt").write_text(req)
    (proj / "sub" / "base.txt").write_text(base)
    (proj / "base.txt").write_text(base)
    (proj / "link").symlink_to(root / "outside")
    (proj / "secret.txt").symlink_to(root / "outside" / "secret.txt")
    return proj


@pytest.mark.slow  # a project folder per example
@fuzz_settings()
@given(files, files)
def test_includes_never_leave_the_context(req, base):
    with tempfile.TemporaryDirectory() as d:
        proj = _project(Path(d), req, base)
        project = ProjectContext(proj)
        closure = project.requirements_closure(["req.txt", "sub/base.txt"])
        for f in closure:
            assert safefs.contained(proj, f) is not None, f
            assert SECRET not in (project.read_text(f) or "")
            for _n, line in project.requirement_lines(f) or []:
                assert SECRET not in line
        for f in closure:
            for _n, _opt, target in project.requirement_includes(f):
                assert target.startswith("/") or not target.startswith("..")
        for e in project.errors:
            assert isinstance(e, LayerwiseError) and e.location is not None
            assert SECRET not in str(e)


@pytest.mark.slow  # a project folder per example
@fuzz_settings(max_examples=60)
@given(files)
def test_check_never_prints_what_is_outside(req):
    from layerwise.analyses.check import check_dockerfile
    from layerwise.report.findings import render_github, render_json, render_text

    with tempfile.TemporaryDirectory() as d:
        proj = _project(Path(d), req, "flask\n")
        (proj / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\nRUN pip install -r req.txt -c sub/base.txt\n")
        result = check_dockerfile(proj / "Dockerfile", context=proj)
        out = render_text(result.findings, result.sources) + render_json(result.findings) + render_github(result.findings)
        assert SECRET not in out and all(SECRET not in e for e in result.errors)
        assert not any("internal error" in e for e in result.errors), result.errors


_VALUES = st.one_of(paths, st.text(max_size=12))


@pytest.mark.slow  # a project folder per example
@fuzz_settings()
@given(st.sampled_from(["dockerfile", "context"]), _VALUES, st.booleans())
def test_config_paths_stay_in_the_project_or_are_refused(key, value, repo):
    from layerwise.config import load_config

    with tempfile.TemporaryDirectory() as d:
        proj = _project(Path(d), "", "")
        if repo:
            (proj / ".git").mkdir()
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        (proj / "pyproject.toml").write_text(f'[tool.layerwise]\n{key} = "{escaped}"\n')
        try:
            cfg = load_config(proj)
        except LayerwiseError as exc:
            assert exc.location is not None
            return
        got = getattr(cfg, key)
        if got is not None:
            target = os.path.realpath(cfg.resolve(got))
            root = os.path.realpath(proj)
            assert target == root or target.startswith(root + os.sep), (value, target)


def _url_with_credentials():
    part = st.text(alphabet=st.characters(blacklist_characters="/@ \t\r\n'\"<>:", codec="utf-8",
                                          blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=10)  # fmt: skip
    return st.tuples(st.sampled_from(["https", "git+https", "http", "git+ssh"]), st.one_of(st.none(), part), part,
                     st.sampled_from(["pypi.example.com", "h:8080", "gitlab.com"]),
                     st.sampled_from(["", "/simple", "/o/r.git@v1#egg=r"]))  # fmt: skip


@pytest.mark.slow
@fuzz_settings()
@given(_url_with_credentials(), st.text(max_size=10), st.text(max_size=10))
def test_credentials_never_survive(url, before, after):
    scheme, user, secret, host, path = url
    auth = f"{user}:{secret}" if user is not None else secret
    text = f"{before} {scheme}://{auth}@{host}{path} {after}"
    masked = escape.redact(text)
    assert f"{scheme}://{(user + ':') if user is not None else ''}****@{host}{path}" in masked
    assert f":{secret}@" not in masked and f"//{secret}@" not in masked


@fuzz_settings()
@given(st.text())
def test_escaped_output_is_inert(text):
    cleaned = escape.clean(text)
    assert all(c in "\t\n" or (ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F) for c in cleaned)
    assert not any(c in cleaned for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    cleaned.encode("utf-8")  # valid UTF-8, whatever surrogates came in
    data = escape.github_data(text)
    assert "\n" not in data and "\r" not in data
    prop = escape.github_property(text)
    assert not any(c in prop for c in ":,\r\n")


@fuzz_settings()
@given(st.binary(max_size=16))
def test_undecodable_names_become_valid_utf8(raw):
    name = os.fsdecode(raw)
    out = escape.undecodable(name)
    out.encode("utf-8")
    if b"\\" not in raw:  # Git's form: the same bytes back from the octal escapes
        back = out.encode("utf-8", "surrogatepass")
        import re

        assert re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), back) == raw


# --- CI YAML -------------------------------------------------------------------------------------

_YAML_PIECES = st.sampled_from([
    "name: ci", "on: push", "on: [push, pull_request]", "jobs:", "  build:", "    runs-on: ubuntu-latest",
    "    steps:", "      - uses: actions/checkout@v4", "      - uses: docker/build-push-action@v5",
    "      - uses: docker/setup-buildx-action@v3", "        with:", "          push: true",
    "          cache-from: type=gha", "          cache-to: type=gha,mode=max", "          context: .",
    "          file: docker/Dockerfile", "          build-args: |", "            TOKEN=https://u:S3CRET_do_not_print@h/x",
    "      - run: docker build --cache-from x -t app .", "      - run: |", "          docker buildx build --push .",
    "defaults: &d", "  <<: *d", "x: *d", "a: [[[[[[", "b: {c: d", "\t- tab", "- - -", "? complex", ": value",
    "script:", "  - docker build -t $CI_REGISTRY_IMAGE .", "build:", "  extends: .base", ".base: &base",
    "  image: docker:24", "'quoted': \"x\"", "%YAML 1.1", "---", "...", "!!binary x", "key: !tag v",
])  # fmt: skip
_yaml_texts = st.lists(st.one_of(_YAML_PIECES, st.text(max_size=12)), max_size=25).map("\n".join)


@pytest.mark.slow
@fuzz_settings(max_examples=150)
@given(_yaml_texts, st.sampled_from([".github/workflows/ci.yml", ".gitlab-ci.yml"]))
def test_ci_files_load_without_surprises(text, name):
    from layerwise.ci.project import load_ci

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / ".git").mkdir()
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8", errors="surrogateescape")
        ci = load_ci(root)  # never raises
        nlines = text.count("\n") + 1
        for e in ci.errors:
            assert 1 <= e.line <= nlines + 1 and e.column >= 1 and e.message
        for b in ci.builds:  # each build is at a real place of its file
            assert 1 <= b.pos.line <= nlines and b.pos.column >= 1
            line_text = text.split("\n")[b.pos.line - 1]
            assert text[b.pos.offset : b.pos.offset + 1] == line_text[b.pos.column - 1 : b.pos.column]
