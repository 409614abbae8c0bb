"""How a command that cleans up (``bench``, the writes of ``fix`` and ``pin``) ends on a signal:
SIGTERM and SIGHUP (a ``kill``, a closed terminal) end it the way Ctrl-C does, by raising
KeyboardInterrupt in the main thread, so that every cleanup runs (the edited file restored,
temporary files deleted, images removed, a private engine stopped), and the command exits as the shell reports a process ended by that signal: 128 + its
number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP; :func:`exit_status`).

A signal that the process ignores (``nohup``, a background job) stays ignored. Once one
SIGTERM/SIGHUP has been turned into KeyboardInterrupt, further ones are ignored until the
outermost guard exits: the cleanup it started runs to the end (SIGKILL still stops it).
Ctrl-C keeps Python's meaning outside :func:`held_while`: each one raises KeyboardInterrupt.

Off the main thread (where Python runs no signal handlers) the guards do nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

_ending = False  # a SIGTERM/SIGHUP has been raised as KeyboardInterrupt: the cleanup is running
_raised: int | None = None  # the SIGTERM/SIGHUP last raised as KeyboardInterrupt, for the exit status
_depth = 0  # guards installed (nested)


class Guard:
    """The handler one guard installs. While ``holding`` is true, signals are only recorded
    (and delivered again, to the previous handlers, when the guard exits)."""

    def __init__(self) -> None:
        self.holding = False
        self.held: list[int] = []
        self.saved: dict[int, object] = {}

    def handle(self, signum: int, frame: object) -> None:
        global _ending, _raised
        if self.holding:
            self.held.append(signum)
            return
        if signum != signal.SIGINT:
            if _ending:
                return
            _ending = True
        _raised = signum if signum != signal.SIGINT else None
        raise KeyboardInterrupt


@contextlib.contextmanager
def _guard(signals: tuple[int, ...]) -> Iterator[Guard]:
    global _depth, _ending, _raised
    guard = Guard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    for s in signals:
        old = signal.getsignal(s)
        if old is signal.SIG_IGN or old is None:  # ignored on purpose, or not Python's to change
            continue
        guard.saved[s] = old
        signal.signal(s, guard.handle)
    if _depth == 0:
        _raised = None  # a new guarded run: no signal of an earlier one counts
    _depth += 1
    try:
        yield guard
    finally:
        guard.holding = True  # (first: a signal now is held, not raised in the middle of this)
        try:
            for s, old in guard.saved.items():
                signal.signal(s, old)  # type: ignore[arg-type]
        finally:
            _depth -= 1
            if _depth == 0:
                _ending = False
            for s in guard.held:
                signal.raise_signal(s)


def terminate_as_interrupt() -> contextlib.AbstractContextManager[Guard]:
    """For the ``with`` block, SIGTERM and SIGHUP raise KeyboardInterrupt (once)."""
    return _guard(TERMINATING)


def held_while() -> contextlib.AbstractContextManager[Guard]:
    """Like :func:`terminate_as_interrupt`, for SIGINT too; and setting ``guard.holding = True``
    (an assignment: Python checks for signals at calls and loops, not there) holds every such
    signal back until the block exits, when each is delivered again to the handler that was
    there before. Put the assignment first in the ``finally`` that must not be interrupted."""
    return _guard((signal.SIGINT, *TERMINATING))


def exit_status() -> int:
    """The exit status for a KeyboardInterrupt that ended the command: 128 + the number of the
    signal behind it (SIGINT unless a guard turned a SIGTERM/SIGHUP into it)."""
    return 128 + (_raised if _raised is not None else signal.SIGINT)
