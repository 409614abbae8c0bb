"""The engine layer interrupted: no docker child, daemon or work dir outlives the interrupt.

- ``Engine.build`` and ``Engine.docker`` interrupted in our process only (SIGINT to the test's
  main thread, which the docker CLI does not get): the CLI is sent SIGINT (it cancels the build
  on the engine), and when they return neither it nor its buildx plugin runs any more. A CLI that
  ignores SIGINT is killed, with what it started, after ``procs.STOP_GRACE``.
  A second Ctrl-C during that grace time kills at once.
- ``Daemon.start`` interrupted or failing part-way: the dockerd and containerd it launched are
  stopped and its work dir removed, also when the interrupt lost the dockerd handle.

Synchronisation is by markers: a build's hooked RUN step (or the engine's download for
``docker import``) connects to a socket of the test, and the interrupt is sent once the test has
accepted that connection; a fake CLI writes to a FIFO the test reads.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from layerwise.engine import Daemon, Engine, EngineError, find_engine, procs
from layerwise.engine import client as client_mod

from .conftest import _no_engine

TIMEOUT = 300  # generous: shared cores


# ------------------------------------------------------------------ processes, seen from /proc
def _stat(pid: int) -> tuple[str, int, str, int] | None:
    """(comm, ppid, state, start time) of a process, None when gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()
    return data[data.index("(") + 1 : data.rindex(")")], int(fields[1]), fields[0], int(fields[19])


def _live() -> dict[int, tuple[str, int, int]]:
    """Every live (not zombie) process: pid -> (comm, ppid, start time)."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (st := _stat(int(d))) and st[2] not in ("Z", "X"):
            out[int(d)] = (st[0], st[1], st[3])
    return out


def _family(pid: int) -> dict[tuple[int, int], str]:
    """A process and everything below it: (pid, start time) -> comm."""
    live = _live()
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        if p in live:
            out[(p, live[p][2])] = live[p][0]
            todo += [c for c, (_, ppid, _) in live.items() if ppid == p]
    return out


def _docker_clis() -> dict[tuple[int, int], str]:
    """Our docker CLI children and what they started (the buildx plugin)."""
    live = _live()
    out: dict[tuple[int, int], str] = {}
    for pid, (comm, ppid, _) in live.items():
        if ppid == os.getpid() and comm == "docker":
            out.update(_family(pid))
    return out


def _still_running(procs_: dict[tuple[int, int], str]) -> list[str]:
    live = _live()
    return [f"{pid} {comm}" for (pid, start), comm in procs_.items() if pid in live and live[pid][2] == start]


def _live_where(proc_file: str, keep: Callable[[int, list[bytes]], bool]) -> dict[tuple[int, int], str]:
    """Live processes for which ``keep(pid, fields)`` holds, ``fields`` being their
    ``/proc/PID/<proc_file>`` split at NULs (cmdline, environ)."""
    out = {}
    for pid, (comm, _, start) in _live().items():
        try:
            fields = Path(f"/proc/{pid}/{proc_file}").read_bytes().split(b"\0")
        except OSError:
            continue
        if keep(pid, fields):
            out[(pid, start)] = comm
    return out


def _naming(path: Path) -> dict[tuple[int, int], str]:
    """Live processes whose command line names ``path`` (or something under it)."""
    root = os.fsencode(path)
    return _live_where(
        "cmdline", lambda pid, args: pid != os.getpid() and any(a == root or a.startswith(root + b"/") for a in args)
    )


def _with_env(entry: str) -> dict[tuple[int, int], str]:
    """Live processes with ``entry`` (NAME=value) in their environment."""
    want = os.fsencode(entry)
    return _live_where("environ", lambda _pid, env: want in env)


def _mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mounts") as f:
        mps = [line.split()[1] for line in f]
    return [m for m in mps if m == str(path) or m.startswith(f"{path}/")]


# ------------------------------------------------------------------ interrupting our main thread
class Hook:
    """A socket the engine connects to. ``interrupt_on_connect`` runs a thread that accepts
    the connection, records our docker CLIs, then sends SIGINT to the main thread only."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None
        self.request = b""
        self.clis: dict[tuple[int, int], str] = {}
        self.error: BaseException | None = None

    def interrupt_on_connect(self) -> threading.Thread:
        main = threading.main_thread().ident
        assert main is not None

        def run() -> None:
            try:
                self.server.settimeout(TIMEOUT)
                self.conn, _ = self.server.accept()
                self.conn.settimeout(TIMEOUT)
                while b"\r\n" not in self.request:
                    chunk = self.conn.recv(4096)
                    if not chunk:
                        break
                    self.request += chunk
                self.clis = _docker_clis()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                self.error = exc
            finally:
                signal.pthread_kill(main, signal.SIGINT)  # our process (thread) alone

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def engine_hung_up(self, timeout: float = 120) -> bool:
        """The engine closed the connection (the RUN step, or the download, was stopped)."""
        assert self.conn is not None
        self.conn.settimeout(timeout)
        try:
            return self.conn.recv(4096) == b""
        except (TimeoutError, OSError):
            return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def leftovers():
    """What a failing test would leave, cleaned up: ``(procs, dirs)``, two lists the test adds
    callables to. Each of ``procs`` gives ``{(pid, start): comm}`` (or None): those still running
    get SIGKILL. Each of ``dirs`` gives a daemon's work dir (or None): processes naming it get
    SIGKILL, its mounts are unmounted, it is removed."""
    procs_: list = []
    dirs: list = []
    yield procs_, dirs
    for get in procs_:
        for pid, start in get() or {}:
            st = _stat(pid)
            if st is not None and st[3] == start and st[2] not in ("Z", "X"):
                os.kill(pid, signal.SIGKILL)
    for get in dirs:
        d = get()
        if d is None:
            continue
        for pid, _ in _naming(d):
            os.kill(pid, signal.SIGKILL)
        for mp in sorted(_mounts_under(d), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], check=False, capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sigint_raises():
    """SIGINT raises KeyboardInterrupt in the main thread (Python's default), for the test."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


HOOKED = """\
FROM busybox:latest
ARG HOOK_PORT
RUN echo "calling the test"; wget -q -O- "http://127.0.0.1:$HOOK_PORT/run"
"""


@pytest.mark.engine
@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_build_interrupted_in_our_process_only_cancels_the_cli(engine, image_tag, tmp_path, monkeypatch, builder,
                                                               sigint_raises, leftovers):  # fmt: skip
    tmpdir = tmp_path / "tmp"  # where build() makes its --iidfile
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(HOOKED)
    tag = image_tag("lw-interrupt")
    images_before = set(engine.docker("images", "-aq", "--no-trunc").stdout.split())
    hook = Hook()
    leftovers[0].append(lambda: hook.clis)
    try:
        waiter = hook.interrupt_on_connect()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            engine.build(ctx, builder=builder, tag=tag, no_cache=True, build_args={"HOOK_PORT": str(hook.port)},
                         timeout=TIMEOUT)  # fmt: skip
        seconds = time.monotonic() - t0
        waiter.join(TIMEOUT)
        assert hook.error is None, hook.error
        assert hook.request.startswith(b"GET /run "), hook.request
        assert "docker" in hook.clis.values(), hook.clis  # the CLI was seen while the RUN ran
        if builder == "buildkit":
            assert "docker-buildx" in hook.clis.values(), hook.clis

        # Once build() has raised, neither the CLI nor its plugin runs any more (not killed
        # after the grace time either: SIGINT made the CLI cancel the build).
        assert _still_running(hook.clis) == []
        assert not _docker_clis()
        assert seconds < TIMEOUT
        # The engine stopped the RUN step, and no image came of the build.
        assert hook.engine_hung_up(), "the hooked RUN step was not stopped"
    finally:
        hook.close()
    assert not engine.image_exists(tag)
    if builder == "buildkit":  # (the legacy builder keeps the images of finished steps: its cache)
        assert set(engine.docker("images", "-aq", "--no-trunc").stdout.split()) <= images_before
    assert list(tmpdir.iterdir()) == []


@pytest.mark.engine
def test_docker_command_interrupted_in_our_process_only_stops_the_cli(engine, image_tag, sigint_raises, leftovers):
    """``docker import URL``: the engine downloads from the test's socket; interrupted then,
    ``Engine.docker`` returns only once the CLI is gone (SIGINT), and no image is made."""
    tag = image_tag("lw-import")
    hook = Hook()
    leftovers[0].append(lambda: hook.clis)
    try:
        waiter = hook.interrupt_on_connect()
        with pytest.raises(KeyboardInterrupt):
            engine.import_image(f"http://127.0.0.1:{hook.port}/rootfs.tar", tag)
        waiter.join(TIMEOUT)
        assert hook.error is None, hook.error
        assert hook.request.startswith(b"GET /rootfs.tar "), hook.request
        assert "docker" in hook.clis.values(), hook.clis
        assert _still_running(hook.clis) == []
        assert not _docker_clis()
    finally:
        # (dockerd 26.1 does not cancel an import's download when its client goes: it ends
        # here, an empty and so invalid tar.)
        hook.close()
    assert not engine.image_exists(tag)


# ------------------------------------------------------------------ a CLI that ignores SIGINT
FAKE_DOCKER = """\
# A docker CLI that does not end on SIGINT (it says it got one), with a helper process of its
# own (like the buildx plugin). Each message is one open of the FIFO. (Python: a shell's trap
# can run twice, or not at all, for one signal that arrives as it waits.)
import os, signal, subprocess, time

def say(text):
    with open(os.environ["FAKE_FIFO"], "w") as f:
        f.write(text + "\\n")

signal.signal(signal.SIGINT, lambda signum, frame: say("got INT"))
helper = subprocess.Popen(["sleep", "1000"])
say(f"started {helper.pid}")
while True:
    time.sleep(0.1)  # (short: a signal pending before a long sleep's start waits it out)
"""


def _fake_cli(tmp_path: Path, leftovers) -> tuple[Engine, Path]:
    fake = tmp_path / "docker"  # (so that it shows as "docker" in /proc)
    fake.write_text(f"#!{sys.executable}\n{FAKE_DOCKER}")
    fake.chmod(0o755)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    leftovers[0].append(lambda: _with_env(f"FAKE_FIFO={fifo}"))  # the CLI and its helper
    return Engine(None, fake, env={"FAKE_FIFO": str(fifo)}), fifo


def _message(fifo: Path, timeout: float = TIMEOUT) -> str | None:
    """The fake CLI's next message (one open of the FIFO), None when none comes in time."""
    box: list[str] = []

    def read() -> None:
        with open(fifo) as f:  # blocks until the fake CLI writes one
            box.append(f.read().strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        _release(fifo)
        reader.join(timeout)
    return box[0] if box and box[0] else None


def _release(fifo: Path) -> None:
    """Unblock a reader still waiting for a message that will not come (an empty one)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # no reader waiting
        pass


@pytest.mark.parametrize("call", ["build", "docker"])
def test_cli_that_does_not_end_on_sigint_is_killed_after_the_grace_time(tmp_path, monkeypatch, call, sigint_raises,
                                                                        leftovers):  # fmt: skip
    monkeypatch.setattr(procs, "STOP_GRACE", 1.0)
    eng, fifo = _fake_cli(tmp_path, leftovers)
    main = threading.main_thread().ident
    assert main is not None
    seen: dict[str, object] = {}

    def interrupt_when_started() -> None:
        try:
            seen["started"] = _message(fifo)
            seen["clis"] = _docker_clis()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            seen["error"] = exc
        finally:
            signal.pthread_kill(main, signal.SIGINT)  # to us, not to the CLI
        try:
            seen["cli got"] = _message(fifo)  # forwarded by build()/docker()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            seen["error"] = exc

    waiter = threading.Thread(target=interrupt_when_started, daemon=True)
    waiter.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        if call == "build":
            eng.build(tmp_path, timeout=TIMEOUT)
        else:
            eng.docker("version", timeout=TIMEOUT)
    seconds = time.monotonic() - t0
    clis = seen["clis"]
    assert isinstance(clis, dict) and len(clis) == 2, clis  # the CLI and its helper
    assert _still_running(clis) == []  # the CLI and its helper: killed (and the CLI reaped)
    assert not _docker_clis()
    _release(fifo)
    waiter.join(TIMEOUT)
    assert "error" not in seen, seen
    assert seen["cli got"] == "got INT"  # it had SIGINT first
    assert seconds >= 1.0  # and its grace time


def test_ctrl_c_again_during_the_grace_time_kills_at_once(tmp_path, monkeypatch, sigint_raises, leftovers):
    monkeypatch.setattr(procs, "STOP_GRACE", TIMEOUT)  # only the second Ctrl-C can end it soon
    eng, fifo = _fake_cli(tmp_path, leftovers)
    main = threading.main_thread().ident
    assert main is not None
    seen: dict[str, object] = {}

    def interrupt_twice() -> None:
        try:
            seen["started"] = _message(fifo)
            seen["clis"] = _docker_clis()
            signal.pthread_kill(main, signal.SIGINT)
            seen["cli got"] = _message(fifo)  # build() forwarded it: its grace time has begun
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            seen["error"] = exc
        finally:
            signal.pthread_kill(main, signal.SIGINT)

    waiter = threading.Thread(target=interrupt_twice, daemon=True)
    waiter.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        eng.build(tmp_path, timeout=TIMEOUT)
    seconds = time.monotonic() - t0
    assert _still_running(seen["clis"]) == []  # type: ignore[arg-type]
    _release(fifo)
    waiter.join(TIMEOUT)
    assert "error" not in seen, seen
    assert seen["cli got"] == "got INT"
    assert seconds < TIMEOUT / 2


@pytest.mark.parametrize("call", ["build", "docker"])
def test_interrupt_as_the_cli_starts_does_not_lose_it(tmp_path, monkeypatch, call, sigint_raises, leftovers):
    """SIGINT right after the fork, before build()/docker() hold the child's handle: the
    interrupt waits for the handle, and the child is stopped all the same."""
    monkeypatch.setattr(procs, "STOP_GRACE", 1.0)
    eng, fifo = _fake_cli(tmp_path, leftovers)
    started: dict[tuple[int, int], str] = {}
    real_spawn = Engine._spawn

    def spawn_then_sigint(argv, **kw):
        child = real_spawn(argv, **kw)
        st = _stat(child.pid)
        assert st is not None
        started[(child.pid, st[3])] = "docker"
        signal.raise_signal(signal.SIGINT)  # handled here, at once, were it not held
        return child

    monkeypatch.setattr(Engine, "_spawn", staticmethod(spawn_then_sigint))
    with pytest.raises(KeyboardInterrupt):
        if call == "build":
            eng.build(tmp_path, timeout=TIMEOUT)
        else:
            eng.docker("version", timeout=TIMEOUT)
    assert len(started) == 1
    assert _still_running(started) == []
    assert not _docker_clis()
    assert _with_env(f"FAKE_FIFO={fifo}") == {}  # nor its helper


def test_cli_gets_sigint_when_we_are_killed(tmp_path, leftovers):
    """SIGKILL leaves no time to stop the CLI: the kernel sends it SIGINT (PR_SET_PDEATHSIG)."""
    _, fifo = _fake_cli(tmp_path, leftovers)
    driver = "import sys; from layerwise.engine import Engine; " \
             "Engine(None, sys.argv[1], env={'FAKE_FIFO': sys.argv[2]}).build(sys.argv[3])"  # fmt: skip
    us = subprocess.Popen([sys.executable, "-c", driver, str(tmp_path / "docker"), str(fifo), str(tmp_path)])
    try:
        assert (_message(fifo) or "").startswith("started ")
        us.kill()
        assert us.wait(TIMEOUT) == -signal.SIGKILL
        # (Once per thread of ours that ends, as the kernel hands the child from one to the next:
        # here the main thread's and build()'s timer thread's.)
        got = _message(fifo)
        assert got is not None and set(got.splitlines()) == {"got INT"}, got
    finally:
        if us.poll() is None:
            us.kill()
            us.wait()


# ------------------------------------------------------------------ Daemon.start part-way
@pytest.fixture
def install():
    inst, reason = find_engine()
    if inst is None:
        _no_engine(reason)
    if os.geteuid() != 0:
        _no_engine("the private engine needs root")
    return inst


@pytest.mark.engine
def test_daemon_start_interrupted_after_dockerd_answered(install, monkeypatch, leftovers):
    """KeyboardInterrupt in start() once dockerd and its containerd run: both stopped, the
    work dir (with its mounts) removed, before start() re-raises."""
    real_ping = client_mod.Engine.ping
    seen: dict[str, object] = {}
    leftovers[1].append(lambda: seen.get("workdir"))

    def ping_then_interrupt(self: Engine) -> bool:
        if not real_ping(self):
            return False
        wd = Path(self.docker_host.removeprefix("unix://")).parent
        seen["workdir"] = wd
        seen["procs"] = _naming(wd)
        raise KeyboardInterrupt

    monkeypatch.setattr(client_mod.Engine, "ping", ping_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        Daemon.start(install=install, timeout=TIMEOUT)
    wd = seen["workdir"]
    assert isinstance(wd, Path)
    launched = seen["procs"]
    assert isinstance(launched, dict) and {"dockerd", "containerd"} <= set(launched.values()), launched
    assert _still_running(launched) == []
    assert _naming(wd) == {}
    assert not wd.exists()
    assert _mounts_under(wd) == []


@pytest.mark.engine
def test_daemon_start_interrupted_as_dockerd_was_launched(install, monkeypatch, leftovers):
    """The interrupt lands as Popen returns dockerd's handle (start() never gets it): dockerd is
    found by its command line (it names the work dir) and stopped; the work dir removed."""
    real_popen = subprocess.Popen
    seen: dict[str, object] = {}
    leftovers[1].append(lambda: seen.get("workdir"))

    class PopenThenInterrupt(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args, *a, **kw):
            super().__init__(args, *a, **kw)
            if str(args[0]).endswith("/dockerd"):
                seen["workdir"] = Path(args[args.index("--data-root") + 1]).parent
                seen["dockerd"] = {(self.pid, _stat(self.pid)[3]): "dockerd"}  # type: ignore[index]
                raise KeyboardInterrupt

    monkeypatch.setattr(subprocess, "Popen", PopenThenInterrupt)
    with pytest.raises(KeyboardInterrupt):
        Daemon.start(install=install, timeout=TIMEOUT)
    monkeypatch.undo()
    wd = seen["workdir"]
    assert isinstance(wd, Path)
    assert _still_running(seen["dockerd"]) == []  # type: ignore[arg-type]
    assert _naming(wd) == {}
    assert not wd.exists()
    assert _mounts_under(wd) == []


@pytest.mark.engine
def test_daemon_start_failing_part_way_cleans_up(install, leftovers):
    """start() failing (here: no answer within its timeout) stops the dockerd it launched and
    removes the work dir."""
    parent = Path(tempfile.mkdtemp(prefix="lw-t-", dir="/tmp"))  # (short: a socket path)
    leftovers[1].append(lambda: parent)
    wd = parent / "wd"
    with pytest.raises(EngineError, match="did not answer"):
        Daemon.start(wd, install=install, timeout=0)
    assert _naming(parent) == {}
    assert not wd.exists()
