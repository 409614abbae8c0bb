"""What ``bench`` leaves behind, without an engine (a fake one builds instantly or hangs):
nothing in the user's cache dir for its temporary copies, and on SIGTERM/SIGHUP/Ctrl-C at any
point the same cleanup as on an error. The signal guards themselves are tested in-process."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import layerwise
from layerwise.signals import held_while, terminate_as_interrupt

EXAMPLES = Path(layerwise.__file__).parent / "examples"
SRC = str(Path(layerwise.__file__).parent.parent)

# A bench driver for a subprocess: a fake engine (ids and removals logged to stdout), the plan
# given as JSON. ``hang``: the build of that tag (its variant) prints "building" and waits.
DRIVER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import layerwise.bench as bench
    from layerwise.bench import make_plan, run_bench
    from layerwise.bench.run import Plan, VariantSpec
    from layerwise.engine.client import BuildResult

    args = json.loads(sys.argv[1])

    class FakeEngine:
        n = 0

        def build(self, ctx, df, *, tag, no_cache=False, **kw):
            if args.get("hang") and tag.endswith(":" + args["hang"]) and no_cache == (args["when"] == "cold"):
                print("building", flush=True)
                # in slices: a signal that arrives between the print and a long sleep's start is
                # only handled by Python at the next bytecode check, and one long sleep has none
                # (a rare 60 s hang of this test under load, not of bench)
                for _ in range(1200):
                    time.sleep(0.1)
            FakeEngine.n += 1
            iid = "sha256:%064x" % FakeEngine.n
            print("built", iid, tag, flush=True)
            return BuildResult(ok=True, returncode=0, builder="buildkit", steps=[], log="", image_id=iid,
                               tag=tag, seconds=0.01)

        def inspect_image(self, ref):
            return {"RepoTags": []}

        def remove_image(self, ref, force=True):
            print("removed", ref, flush=True)
            return True

    if args.get("copies_only"):
        ctx = Path(args["context"])
        text = (ctx / "Dockerfile").read_text()
        plan = Plan(ctx, ctx / "Dockerfile", "app.py", [VariantSpec("after", "a copy", text)], runs=2)
    else:
        plan = make_plan(args["context"], against=args.get("against"), runs=2)
    if args.get("cli"):
        import contextlib
        from layerwise.cli import main

        @contextlib.contextmanager
        def fake_open_engine(say=print, builder="buildkit", **kwargs):
            yield FakeEngine(), "a fake engine", builder

        bench.open_engine = fake_open_engine
        main(["bench", args["context"], "-o", args["output"]] + (["--against", args["against"]]
             if args.get("against") else []))
    run_bench(FakeEngine(), plan)
    print("done", flush=True)
    """
)


def _project(tmp_path: Path, files: int = 40) -> Path:
    """flask-demo plus enough files that the stat cache is written during the run, not at exit."""
    ctx = tmp_path / "flask-demo"
    shutil.copytree(EXAMPLES / "flask-demo", ctx)
    (ctx / "pkg").mkdir()
    for i in range(files):
        (ctx / "pkg" / f"m{i}.py").write_text(f"X = {i}\n")
    return ctx


def _env(tmp_path: Path, cache_var: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "LAYERWISE_DEBUG")}
    env["HOME"] = str(tmp_path / "home")
    if cache_var == "XDG_CACHE_HOME":
        env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    env["TMPDIR"] = str(tmp_path / "tmp")
    env["PYTHONPATH"] = SRC
    for d in (tmp_path / "home", tmp_path / "tmp"):
        d.mkdir(exist_ok=True)
    return env


def _cache_files(tmp_path: Path) -> list[str]:
    """Every file under both candidate cache dirs (relative)."""
    out = []
    for base in (tmp_path / "xdg-cache", tmp_path / "home" / ".cache"):
        if base.exists():
            out += [p.relative_to(tmp_path).as_posix() for p in base.rglob("*") if not p.is_dir()]
    return sorted(out)


def _stat_key(folder: Path) -> str:
    # the name snapshot.py gives a folder's stat cache file
    return hashlib.sha256(os.fsencode(os.path.realpath(folder))).hexdigest()[:24] + ".cache"


def _run(args: dict, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    import json

    return subprocess.run([sys.executable, "-c", DRIVER, json.dumps(args)], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip


# ---------------------------------------------------------------- the stat cache of temporary copies
@pytest.mark.slow
@pytest.mark.parametrize("cache_var", ["XDG_CACHE_HOME", "HOME"])
def test_temporary_copies_leave_no_stat_cache_file(tmp_path, cache_var):
    ctx = _project(tmp_path)
    p = _run({"context": str(ctx), "copies_only": True}, _env(tmp_path, cache_var))
    assert p.returncode == 0 and "done" in p.stdout, p.stderr
    assert p.stdout.count("built") == 4  # two runs, a cold build and a rebuild each
    assert _cache_files(tmp_path) == []  # also after the exit hooks ran
    assert list((tmp_path / "tmp").iterdir()) == []  # and the copy itself is gone


@pytest.mark.slow
def test_only_your_own_folder_gets_a_stat_cache_file(tmp_path):
    ctx = _project(tmp_path)
    alt = tmp_path / "Dockerfile.alt"
    alt.write_text("FROM python:3.10-slim\nWORKDIR /app\nCOPY . /app\n")
    p = _run({"context": str(ctx), "against": str(alt)}, _env(tmp_path, "XDG_CACHE_HOME"))
    assert p.returncode == 0 and "done" in p.stdout, p.stderr
    assert p.stdout.count("built") == 8
    # the one `explain` and `context` read for this folder next time; none for the copies
    assert _cache_files(tmp_path) == [f"xdg-cache/layerwise/stat/{_stat_key(ctx)}"]


# ---------------------------------------------------------------- a signal at any point: the same cleanup
def _tree(root: Path) -> dict[str, tuple]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None, p.lstat().st_mode,
                                             p.lstat().st_mtime_ns) for p in sorted(root.rglob("*"))}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
@pytest.mark.parametrize(("hang", "when"), [("before", "edited"), ("after", "cold"), ("after", "edited")])
def test_a_signal_mid_build_runs_the_whole_cleanup(tmp_path, sig, hang, when):
    ctx = _project(tmp_path, files=3)
    alt = tmp_path / "Dockerfile.alt"
    alt.write_text("FROM python:3.10-slim\nWORKDIR /app\nCOPY . /app\n")
    before = _tree(ctx)
    args = {"context": str(ctx), "against": str(alt), "hang": hang, "when": when, "cli": True,
            "output": str(tmp_path / "b.svg")}  # fmt: skip
    import json

    proc = subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps(args)], env=_env(tmp_path, "HOME"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "building":
                break
        assert lines and lines[-1].strip() == "building", "".join(lines) + proc.stderr.read()
        if when == "edited" and hang == "before":
            assert b"# layerwise bench" in (ctx / "app.py").read_bytes()
        proc.send_signal(sig)  # to bench alone this time
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, err  # as the shell reports the signal: 130, 143, 129
    assert err.strip().splitlines()[-1] == "Aborted." and "Traceback" not in err, err
    assert _tree(ctx) == before
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary copy is gone
    built = [ln.split()[1:] for ln in lines + out.splitlines(keepends=True) if ln.startswith("built ")]
    removed = [ln.split()[1] for ln in out.splitlines() if ln.startswith("removed ")]
    assert built and {ref for pair in built for ref in pair} <= set(removed)  # every image and tag it made


# ---------------------------------------------------------------- the guards, in-process
@pytest.fixture
def restore_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def _fire(sig: int) -> None:
    signal.raise_signal(sig)
    for _ in range(3):  # a call: where Python runs pending handlers
        len([])


def test_terminate_as_interrupt_raises_once_then_lets_the_cleanup_finish(restore_handlers):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cleaned = False
    with pytest.raises(KeyboardInterrupt), terminate_as_interrupt():
        try:
            _fire(signal.SIGTERM)
            pytest.fail("no KeyboardInterrupt")
        finally:
            _fire(signal.SIGTERM)  # a second TERM: ignored while the cleanup runs
            _fire(signal.SIGHUP)
            cleaned = True
    assert cleaned
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back


def test_an_ignored_signal_stays_ignored(restore_handlers):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with terminate_as_interrupt():
        _fire(signal.SIGHUP)  # nohup: nothing happens
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_held_signals_come_after_the_block(restore_handlers, sig):
    signal.signal(signal.SIGINT, signal.default_int_handler)
    seen = []
    signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
    done = False
    expect = pytest.raises(KeyboardInterrupt) if sig == signal.SIGINT else contextlib.nullcontext()
    with expect, held_while() as guard:
        guard.holding = True
        _fire(sig)
        _fire(sig)
        done = True
    assert done
    assert seen == ([] if sig == signal.SIGINT else [signal.SIGTERM, signal.SIGTERM])


def test_guards_do_nothing_off_the_main_thread(restore_handlers):
    import threading

    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def worker():
        with terminate_as_interrupt(), held_while() as guard:
            seen.append(signal.getsignal(signal.SIGTERM) is before and guard.saved == {})

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [True]
