"""Child processes that end with us: the docker CLI (and its buildx plugin), dockerd.

A docker child is stopped the way a terminal's Ctrl-C stops it, even when only our process got
the signal: :func:`stop_child` sends it SIGINT (the CLI then cancels its build on the engine),
waits a bounded time, then SIGKILLs it and whatever it started (the buildx plugin), and reaps
it. :func:`child_setup` makes a child get a signal when we die without doing that (SIGKILL).

Processes are named by ``(pid, start time)`` so that a recycled pid is never signalled. The
``/proc`` parts are Linux-only; elsewhere they find nothing and only the child itself is
signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "KILL_WAIT",
    "STOP_GRACE",
    "Proc",
    "child_setup",
    "descendants",
    "referencing",
    "signals_held",
    "stop_child",
    "stop_processes",
]

# Seconds a docker child gets, after SIGINT, to cancel what it is doing (a build: the engine
# stops the running step) before it and its own children get SIGKILL.
STOP_GRACE = 10.0
KILL_WAIT = 10.0  # at most this long for SIGKILLed processes to be gone

Proc = tuple[int, int]  # (pid, start time in clock ticks since boot)

_prctl: Callable[..., int] | bool | None = None


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent (a forked child should only call it)."""
    global _prctl
    if _prctl is None:
        _prctl = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _prctl = ctypes.CDLL(None, use_errno=True).prctl
            except (OSError, AttributeError):
                pass
    return _prctl or None


def child_setup(death_signal: int) -> Callable[[], None] | None:
    """A ``preexec_fn``: the child gets ``death_signal`` when the thread that started it ends
    (PR_SET_PDEATHSIG), e.g. when we are killed; and again for each other thread of ours that
    it is handed to and that ends (a SIGKILLed layerwise with a timer thread: twice). So start
    the child from a thread that outlives it. None where there is no prctl."""
    prctl = _load_prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def setup() -> None:  # pragma: no cover - runs in the child
        prctl(1, death_signal, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # we died before that: as if just now
            os.kill(os.getpid(), death_signal)

    return setup


_HELD = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """For the ``with`` block (keep it short: starting a child and keeping its handle), the
    Python handlers of SIGINT, SIGTERM and SIGHUP only record a signal; at the end each one
    recorded is raised again, for the handler that was there. So a Ctrl-C cannot land between
    the fork of a child and the assignment of its handle, which would leave the child running
    unseen. Off the main thread (where no Python handler runs) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    saved: dict[int, object] = {}

    def record(signum: int, frame: object) -> None:
        held.append(signum)

    for s in _HELD:
        old = signal.getsignal(s)
        if callable(old):  # (not SIG_IGN, SIG_DFL, or a handler not set from Python)
            saved[s] = old
            signal.signal(s, record)
    try:
        yield
    finally:
        for s, old in saved.items():
            signal.signal(s, old)  # type: ignore[arg-type]
        for s in dict.fromkeys(held):
            signal.raise_signal(s)


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return data[data.rindex(")") + 2 :].split()


def identify(pid: int) -> Proc | None:
    """``(pid, start time)`` of a live process, None when it is gone (or a zombie)."""
    fields = _stat(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return pid, int(fields[19])


def alive(p: Proc) -> bool:
    """The same process (not a later one with a recycled pid) still runs (a zombie does not)."""
    return identify(p[0]) == p


def _pids() -> list[int]:
    try:
        return [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return []


def descendants(pid: int) -> set[Proc]:
    """Live processes below ``pid`` (children, theirs, ...)."""
    children: dict[int, list[Proc]] = {}
    for q in _pids():
        fields = _stat(q)
        if fields is None or fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append((q, int(fields[19])))
    out: set[Proc] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in out:
                out.add(child)
                todo.append(child[0])
    return out


def referencing(path: str | os.PathLike[str], programs: Iterable[str]) -> set[Proc]:
    """Live processes of one of ``programs`` (the name their command line starts with, or its
    prefix: ``containerd`` also finds ``containerd-shim-runc-v2``) with ``path`` (a folder), or a
    path under it, in their command line: for a private dockerd's work dir, that dockerd, its
    containerd and the shims."""
    root = os.fsencode(os.path.abspath(os.fspath(path))).rstrip(b"/")
    if not root:  # "/" would name everything
        return set()
    names = tuple(os.fsencode(n) for n in programs)
    me = os.getpid()
    out: set[Proc] = set()
    for q in _pids():
        if q == me:
            continue
        try:
            with open(f"/proc/{q}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if not os.path.basename(args[0]).startswith(names):
            continue
        if any(a == root or a.startswith(root + b"/") for a in args[1:]):
            p = identify(q)
            if p is not None:
                out.add(p)
    return out


def _signal(p: Proc, sig: int) -> None:
    if alive(p):
        try:
            os.kill(p[0], sig)
        except OSError:
            pass


def _wait_gone(procs: Iterable[Proc], deadline: float) -> bool:
    procs = list(procs)
    while True:
        procs = [p for p in procs if alive(p)]
        if not procs:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _reap(child: subprocess.Popen) -> None:
    """Wait for a SIGKILLed child; a Ctrl-C meanwhile does not leave it a zombie."""
    interrupted: KeyboardInterrupt | None = None
    for _ in range(100):
        try:
            child.wait(1)
            break
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt as exc:
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def stop_processes(
    procs: Iterable[Proc],
    sig: int = signal.SIGTERM,
    grace: float = STOP_GRACE,
    *,
    child: subprocess.Popen | None = None,
    signal_procs: bool = True,
) -> None:
    """Send ``sig`` to ``child`` (a process we started) and, unless ``signal_procs`` is false,
    to ``procs`` (other processes, e.g. its descendants); wait until all have ended, at most
    ``grace`` seconds; SIGKILL the rest (and what ``child`` started meanwhile); reap ``child``
    and wait (:data:`KILL_WAIT` at most) until the others are gone.

    A KeyboardInterrupt while waiting (Ctrl-C again) skips to the SIGKILL, and is raised again
    once everything is stopped."""
    procs = set(procs)
    interrupted: KeyboardInterrupt | None = None
    try:
        if child is not None and child.poll() is None:
            _send(child, sig)
        if signal_procs:
            for p in procs:
                _signal(p, sig)
        deadline = time.monotonic() + grace
        if child is not None and child.poll() is None:
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        _wait_gone(procs, deadline)
    except KeyboardInterrupt as exc:
        interrupted = exc
    try:
        if child is not None and child.poll() is None:
            procs |= descendants(child.pid)  # while it is still their parent
            child.kill()
        for p in procs:
            _signal(p, signal.SIGKILL)
        if child is not None:
            _reap(child)
    except KeyboardInterrupt as exc:  # pragma: no cover - a third Ctrl-C within microseconds
        interrupted = interrupted or exc
    try:
        # kill() returns before the process has ended (the others are not ours to reap).
        _wait_gone(procs, time.monotonic() + KILL_WAIT)
    except KeyboardInterrupt as exc:  # pragma: no cover
        interrupted = interrupted or exc
    if interrupted is not None:
        raise interrupted


def _send(child: subprocess.Popen, sig: int) -> None:
    if os.name == "nt":  # pragma: no cover - no SIGINT for another process there
        child.terminate()
    else:
        child.send_signal(sig)


def _drain(child: subprocess.Popen) -> None:
    """Read (and drop) what the child still writes, so that it never blocks on a full pipe
    while it cancels. Each pipe is closed by its thread, at its end."""
    if child.stdin is not None:
        try:
            child.stdin.close()
        except OSError:
            pass
    for stream in (child.stdout, child.stderr):
        if stream is None or stream.closed:
            continue

        def drain(stream=stream) -> None:
            try:
                while os.read(stream.fileno(), 65536):
                    pass
            except (OSError, ValueError):
                pass
            finally:
                try:
                    stream.close()
                except OSError:
                    pass

        threading.Thread(target=drain, name="lw-drain", daemon=True).start()


def stop_child(child: subprocess.Popen, grace: float | None = None, *, drain: bool = True) -> None:
    """Stop a docker CLI child as Ctrl-C would: SIGINT to it alone (it cancels its build or
    request on the engine, and tells its plugin), at most ``grace`` seconds for it and what it
    started (the buildx plugin) to end (default: :data:`STOP_GRACE`), then SIGKILL for what
    remains; the child is reaped. ``drain``: read its pipes meanwhile (not when another thread
    still reads them). A Ctrl-C meanwhile hurries it (SIGKILL at once) and is raised again at
    the end."""
    if child.poll() is not None:
        return
    family = descendants(child.pid)
    if drain:
        _drain(child)
    grace = STOP_GRACE if grace is None else grace
    stop_processes(family, signal.SIGINT, grace, child=child, signal_procs=False)
