"""``layerwise fix`` proven on a real engine, on 15 small projects (issue 6).

Each project in ``fix_projects/<name>/project`` (and the bundled flask-demo) starts with a
cache-unfriendly Dockerfile: the whole context is copied before the dependency install. For
each one, ``fix`` runs on a copy, then on the engine (BuildKit):

1. ``build``: the original and the fixed Dockerfile build;
2. ``equivalent``: the fixed image holds the same files as the original one under the app
   folder and every ``site-packages``/``dist-packages`` (paths and sha256; bytecode,
   ``RECORD``/``INSTALLER``/``REQUESTED``/``direct_url.json`` ignored) and has the same
   CMD, ENTRYPOINT, USER and WORKDIR;
3. ``cache``: after a code-only change the dependency-install step is CACHED (engine's
   report), and after a dependency change it runs again;
4. ``starts``: the app starts; servers answer HTTP (before and after the code change, which
   must show in the answer).

``fix`` then runs a second time on its own output: it must change nothing (so the four
checks on the second run's files are the checks on the first run's; should it ever change
something, the checks run on its files too).

Legitimate differences between the images, allowed by the comparison:

* the new ``.dockerignore`` excludes the Dockerfile and ``.dockerignore`` themselves, which
  the original ``COPY . .`` put into the app folder (nothing else of these junk-free
  projects is excluded: asserted);
* package-manager caches (``--no-cache-dir`` is added) and the ``/tmp`` requirements file of
  the ``pip install .`` split live outside the compared folders; uv's ``uv_cache.json``
  (modification times of the project's sources) is not compared;
* ENV may gain ``UV_LINK_MODE=copy`` (uv with a cache mount), so ENV is not compared.

The proofs run concurrently (one thread per project), except the builds, which take turns
(see ``ONE_BUILD_AT_A_TIME``); each test waits for its project. ``LAYERWISE_FIX_PROJECTS=uv,pdm``
proves only those. Tool versions are pinned; lock files were generated with the real tools
(poetry 2.5.1, uv 0.13.9, pdm 2.29.4, pipenv 2026.10.3, pip-tools 7.6.2) and committed,
together with the lock files after the dependency change (``deps-change/``).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import layerwise
from layerwise.context.ignore import IgnoreFile
from layerwise.fixes import fix_project

HERE = Path(__file__).parent / "fix_projects"
EXAMPLE = Path(layerwise.__file__).parent / "examples" / "flask-demo"


@dataclass(frozen=True)
class Case:
    name: str
    app_dir: str  # the folder the code is copied to in the image
    code_file: str  # edited for the code-only change
    deps_step: str  # text of the fixed Dockerfile's dependency-install step
    deps_change: tuple[tuple[str, str, str], ...] = ()  # (file, old, new); plus deps-change/
    server: int | None = None  # the port it listens on; 0: the port in $PORT
    says: str = "hello v1"  # in the app's answer/output; "v1" becomes "v2" by the code change
    template: Path | None = None

    @property
    def source(self) -> Path:
        return self.template or HERE / self.name / "project"


ADD_SIX = ("requirements.txt", "idna==3.10\n", "idna==3.10\nsix==1.17.0\n")

CASES = [
    Case("flask-demo", "/app", "app.py", "RUN pip install --no-cache-dir -r requirements.txt",
         (("requirements.txt", "flask==2.3.2\n", "flask==2.3.2\nsix==1.17.0\n"),),
         server=5000, says="Hello, Docker!", template=EXAMPLE),
    Case("pip-requirements", "/app", "app.py", "RUN pip install --no-cache-dir -r requirements.txt",
         (ADD_SIX,), server=0),
    Case("requirements-includes", "/srv/app", "server.py", "RUN python -m pip install",
         (("requirements/base.txt", "idna\n", "idna\nsix\n"),), server=0),
    Case("pip-tools", "/app", "cli.py", "RUN pip install --no-cache-dir --no-deps --require-hashes"),
    Case("poetry", "/app", "src/hello_poetry/__init__.py", "RUN poetry install --no-cache --no-root"),
    Case("uv", "/app", "src/hello_uv/__init__.py", "uv sync --no-install-project", server=0),
    Case("pdm", "/app", "src/hello_pdm/__main__.py", "RUN pdm --no-cache install --no-self"),
    Case("pipenv", "/app", "app.py", "RUN pipenv install", server=0),
    Case("pyproject-only", "/src", "hello_pkg/__init__.py", "layerwise-requirements.txt",
         (("pyproject.toml", '"six==1.17.0",', '"six==1.17.0",\n    "idna==3.10",'),),
         says="hello v1 six 1.17.0 --from docker"),
    Case("readme", "/app", "src/hello_readme/__init__.py", "layerwise-requirements.txt",
         (("pyproject.toml", '["idna==3.10"]', '["idna==3.10", "six==1.17.0"]'),), server=0),
    Case("pyproject-extras", "/app", "hello_extras/__init__.py", "layerwise-requirements.txt",
         (("pyproject.toml", 'web = ["idna==3.10"]', 'web = ["idna==3.10", "certifi==2024.8.30"]'),),
         server=0, says="hello v1 xn--bcher-kva.example 1.17.0"),
    Case("uv-pip", "/opt/hello", "hello_uvpip/__init__.py", "uv pip install --system --no-cache -r",
         (("pyproject.toml", 'cli = ["idna==3.10"]', 'cli = ["idna==3.10", "certifi==2024.8.30"]'),),
         says="hello v1 xn--bcher-kva.example six 1.17.0"),
    Case("multi-stage", "/app", "server.py", "RUN /opt/venv/bin/pip install", (ADD_SIX,), server=0),
    Case("non-root", "/home/app/src", "main.py", "RUN pip install --no-cache-dir --user", (ADD_SIX,),
         server=0),
    Case("context-free", "/app", "app.py", "RUN pip install --no-cache-dir six==",
         (("Dockerfile", "six==1.17.0", "six==1.16.0"),), says="hello v1 xn--bcher-kva.example True"),
]  # fmt: skip
CHECKS = ["build", "equivalent", "cache", "starts"]
# Builds run one at a time (the rest of a proof runs concurrently): BuildKit merges the
# identical vertices (the shared base image) of concurrent builds, and a build that overlapped
# another one was seen to miss its whole cache chain (every step after FROM re-ran).
ONE_BUILD_AT_A_TIME = threading.Lock()
# Install records that legitimately vary between two installs of the same files (uv_cache.json:
# uv's record of the project sources' modification times, for its editable install).
IGNORED_NAMES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"}

# Lists the files of the app folder and of every site-/dist-packages folder with their sha256.
LIST_FILES = r"""
import hashlib, json, os, sys
app = sys.argv[1].rstrip("/") + "/"
out = {}
for root, dirs, files in os.walk("/"):
    if root == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "tmp", "run")]
    dirs[:] = [d for d in dirs if d != "__pycache__"]
    for f in files:
        p = os.path.join(root, f)
        if not (p.startswith(app) or "/site-packages/" in p or "/dist-packages/" in p):
            continue
        if f.endswith((".pyc", ".pyo")):
            continue
        if os.path.islink(p):
            out[p] = "-> " + os.readlink(p)
        elif os.path.isfile(p):
            with open(p, "rb") as fh:
                out[p] = hashlib.sha256(fh.read()).hexdigest()
print(json.dumps(out))
"""


@dataclass
class Variant:
    """One fixed version of a project and what the engine said about it."""

    label: str  # "first fix run" | "second fix run"
    dockerfile: str
    dockerignore: str | None
    results: dict[str, str | None] = field(default_factory=dict)  # check -> None (pass) or why not


@dataclass
class ProjectRun:
    case: Case
    variants: list[Variant] = field(default_factory=list)
    second_run_changed: bool = False
    error: str | None = None  # the original project itself did not build or run


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def _replace(ctx: Path, file: str, old: str, new: str) -> None:
    p = ctx / file
    text = p.read_text()
    assert old in text, f"{file} has no {old!r}"
    p.write_text(text.replace(old, new, 1))


def _code_change(case: Case, ctx: Path) -> str:
    """Edit the code; returns what the app says afterwards."""
    if case.name == "flask-demo":
        _replace(ctx, case.code_file, "Hello, Docker!", "Hello, World!")
        return "Hello, World!"
    _replace(ctx, case.code_file, '"hello v1"', '"hello v2"')
    return case.says.replace("hello v1", "hello v2")


def _deps_change(case: Case, ctx: Path) -> None:
    for file, old, new in case.deps_change:
        _replace(ctx, file, old, new)
    overlay = HERE / case.name / "deps-change"
    if overlay.is_dir():
        shutil.copytree(overlay, ctx, dirs_exist_ok=True)
    assert case.deps_change or overlay.is_dir(), case.name


class Prover:
    """Runs the whole proof for one project; every engine call goes through here."""

    def __init__(self, engine, case: Case, work: Path, tags: list[str]) -> None:
        self.engine = engine
        self.case = case
        self.work = work
        self.tags = tags

    def tag(self, what: str) -> str:
        t = f"lw-fixproj-{self.case.name}-{what}-{uuid.uuid4().hex[:6]}"
        self.tags.append(t)
        return t

    def build(self, ctx: Path, tag: str):
        with ONE_BUILD_AT_A_TIME:
            r = self.engine.build(ctx, builder="buildkit", tag=tag)
        if not r.ok:
            raise AssertionError(f"build failed: {r.error}\n{r.summary()}\n--- log ---\n{r.log[-4000:]}")
        return r

    def files(self, tag: str) -> dict[str, str]:
        p = self.engine.run(tag, ["-c", LIST_FILES, self.case.app_dir], detach=False, entrypoint="python3",
                            extra_args=["--user", "0"], timeout=300)  # fmt: skip
        assert p.returncode == 0, p.stderr
        listing = json.loads(p.stdout)
        return {k: v for k, v in listing.items() if k.rsplit("/", 1)[-1] not in IGNORED_NAMES}

    def config(self, tag: str) -> dict:
        c = self.engine.inspect_image(tag)["Config"]
        return {k: c.get(k) for k in ("Cmd", "Entrypoint", "User", "WorkingDir")}

    def answer(self, tag: str) -> str:
        """What the app says: its HTTP answer (servers) or its output (commands)."""
        if self.case.server is None:
            p = self.engine.run(tag, [], detach=False, timeout=300)
            assert p.returncode == 0, f"exit {p.returncode}: {p.stdout}{p.stderr}"
            return p.stdout.strip()
        port = self.case.server or _free_port()
        with self.engine.run(tag, [], env={"PORT": str(port)}) as c:
            return self.engine.wait_http(f"http://127.0.0.1:{port}/", timeout=60, container=c)

    def run(self) -> ProjectRun:
        case = self.case
        out = ProjectRun(case)
        original = _copy(case.source, self.work / "original")
        try:
            orig_tag = self.tag("original")
            self.build(original, orig_tag)
            orig_files = self.files(orig_tag)
            orig_config = self.config(orig_tag)
            assert case.says in self.answer(orig_tag)
        except Exception as exc:  # noqa: BLE001 - the project itself is broken: every check fails with this
            out.error = f"the original project: {type(exc).__name__}: {exc}"
            return out

        fixed = _copy(case.source, self.work / "fixed1")
        first = fix_project(fixed, fixed / "Dockerfile")
        assert first.changed, "fix found nothing to fix"
        first.write()
        second = fix_project(fixed, fixed / "Dockerfile")
        variants = [(Variant("first fix run", first.dockerfile, first.dockerignore), fixed)]
        if second.changed:
            out.second_run_changed = True
            again = _copy(fixed, self.work / "fixed2")
            second2 = fix_project(again, again / "Dockerfile")
            second2.write()
            variants.append((Variant("second fix run", second.dockerfile, second.dockerignore), again))
        for variant, ctx in variants:
            out.variants.append(variant)
            self.check_variant(variant, ctx, orig_files, orig_config)
        return out

    def check_variant(self, v: Variant, ctx: Path, orig_files: dict, orig_config: dict) -> None:
        case = self.case

        def check(name: str, fn) -> bool:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - each check's failure is reported, the others still run
                v.results[name] = f"{type(exc).__name__}: {exc}"
                return False
            v.results[name] = None
            return True

        tag = self.tag("fixed")
        if not check("build", lambda: self.build(ctx, tag)):
            for c in CHECKS[1:]:
                v.results[c] = "the fixed Dockerfile did not build"
            return

        def equivalent() -> None:
            ignore = IgnoreFile.from_text((ctx / ".dockerignore").read_text()) if (ctx / ".dockerignore").exists() else None
            excluded = set()
            if ignore is not None:
                for p in case.source.rglob("*"):
                    rel = p.relative_to(case.source).as_posix()
                    if p.is_file() and ignore.excludes(rel):
                        excluded.add(rel)
            assert excluded <= {"Dockerfile", ".dockerignore"}, f"the new .dockerignore excludes {excluded}"
            gone = {f"{case.app_dir}/{rel}" for rel in excluded}
            expected = {k: d for k, d in orig_files.items() if k not in gone}
            got = self.files(tag)
            missing = sorted(set(expected) - set(got))
            extra = sorted(set(got) - set(expected))
            changed = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
            assert not (missing or extra or changed), f"missing {missing[:10]}, extra {extra[:10]}, changed {changed[:10]}"
            assert self.config(tag) == orig_config

        check("equivalent", equivalent)
        check("starts", lambda: _contains(self.answer(tag), case.says))

        def cache() -> None:
            says = _code_change(case, ctx)
            r = self.build(ctx, tag)
            step = _step(r, case.deps_step)
            assert step.cached, f"after a code-only change the install ran:\n{r.summary()}"
            # the code change is in the image, and the app still starts
            _contains(self.answer(tag), says)
            _deps_change(case, ctx)
            r = self.build(ctx, tag)
            step = _step(r, case.deps_step)
            assert step.ran, f"after a dependency change the install did not run:\n{r.summary()}"

        check("cache", cache)


def _contains(text: str, want: str) -> None:
    assert want in text, f"expected {want!r} in {text!r}"


def _step(build, text: str):
    hits = [s for s in build.steps if text in s.instruction]
    assert len(hits) == 1, f"{len(hits)} steps with {text!r}:\n{build.summary()}"
    return hits[0]


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def proofs(engine, tmp_path_factory):
    """Starts every project's proof at once; maps name -> Future[ProjectRun]."""
    tags: list[str] = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=7, thread_name_prefix="lw-fixproj")
    futures = {}
    only = os.environ.get("LAYERWISE_FIX_PROJECTS")  # e.g. "uv,poetry": prove only these
    for case in CASES:
        if only and case.name not in only.split(","):
            continue
        work = tmp_path_factory.mktemp(f"fixproj-{case.name}")
        futures[case.name] = pool.submit(Prover(engine, case, work, tags).run)
    yield futures
    pool.shutdown(wait=True)
    for t in tags:
        engine.remove_image(t)


def _run(proofs, name: str) -> ProjectRun:
    if name not in proofs:
        pytest.skip("not in $LAYERWISE_FIX_PROJECTS")
    run = proofs[name].result(timeout=1800)
    if run.error:
        pytest.fail(run.error, pytrace=False)
    return run


@pytest.mark.engine
@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_fixed_project(proofs, name, check):
    run = _run(proofs, name)
    failures = [f"{v.label}: {v.results[check]}" for v in run.variants if v.results.get(check)]
    if failures:
        pytest.fail(f"{name} / {check}:\n" + "\n".join(failures) + "\n--- fixed Dockerfile ---\n"
                    + run.variants[0].dockerfile, pytrace=False)  # fmt: skip


@pytest.mark.engine
@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_second_fix_run_changes_nothing(proofs, name):
    run = _run(proofs, name)
    assert not run.second_run_changed, run.variants[-1].dockerfile


# ------------------------------------------------------------------- the bundled example

ARTICLE_OPTIMIZED = """\
FROM python:3.10-slim
WORKDIR /app
# Install dependencies early for caching
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
# Copy only the rest of the app after dependencies are installed
COPY . .
CMD ["python", "app.py"]
"""


def _instructions(text: str) -> list[tuple[str, ...]]:
    """The instructions with COPY destinations made absolute (``COPY . .`` under ``WORKDIR
    /app`` is ``COPY . /app/``): what the builder runs, whatever the comments say."""
    import posixpath

    from layerwise.parse import parse

    out = []
    workdir = "/"
    for node in parse(text, "Dockerfile").nodes:
        cmd = node.cmd.upper()
        args = list(node.args)
        if cmd == "WORKDIR":
            workdir = posixpath.join(workdir, args[0])
        if cmd in ("COPY", "ADD") and args:
            dest = posixpath.normpath(posixpath.join(workdir, args[-1]))
            args[-1] = dest.rstrip("/") + "/"
        out.append((cmd, *node.flags, *args))
    return out


def test_bundled_example_gets_the_articles_dockerfile(tmp_path):
    """``layerwise fix`` on the bundled flask-demo: the article's optimized Dockerfile (its
    comments are the user's own, kept in place) plus a ``.dockerignore`` in ``**/`` form."""
    ctx = _copy(EXAMPLE, tmp_path / "flask-demo")
    result = fix_project(ctx, ctx / "Dockerfile")
    result.write()
    fixed = (ctx / "Dockerfile").read_text()
    assert _instructions(fixed) == _instructions(ARTICLE_OPTIMIZED)
    assert [ln for ln in fixed.splitlines() if not ln.startswith("#")] == [
        "FROM python:3.10-slim", "WORKDIR /app", "COPY requirements.txt ./",
        "RUN pip install --no-cache-dir -r requirements.txt", "COPY . /app", 'CMD ["python", "app.py"]',
    ]  # fmt: skip
    ignore = (ctx / ".dockerignore").read_text().splitlines()
    patterns = [p for p in ignore if p and not p.startswith("#")]
    for p in ("**/__pycache__", "**/*.py[cod]", "**/.venv", "**/.git", "**/.env"):
        assert p in patterns
    per_folder = [p for p in patterns if not p.startswith("**/")]
    assert per_folder == [".dockerignore"], per_folder  # only the root's own file is root-only
    matcher = IgnoreFile.from_text("\n".join(ignore))
    assert not matcher.excludes("requirements.txt") and not matcher.excludes("app.py")
    assert matcher.excludes("sub/dir/__pycache__/x.pyc") and matcher.excludes("pkg/.venv/bin/python")
    # a second run changes nothing
    assert not fix_project(ctx, ctx / "Dockerfile").changed


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_fix_is_idempotent_without_engine(tmp_path, name):
    """The second ``fix`` run on the first one's output changes nothing (no engine needed)."""
    case = next(c for c in CASES if c.name == name)
    ctx = _copy(case.source, tmp_path / name)
    first = fix_project(ctx, ctx / "Dockerfile")
    assert first.changed
    first.write()
    second = fix_project(ctx, ctx / "Dockerfile")
    assert not second.changed, second.diff()
    assert re.search(re.escape(case.deps_step), first.dockerfile), first.dockerfile
