"""The code-only change that ``bench`` makes: a temporary edit of one source file, undone
whatever happens (an exception, Ctrl-C, SIGTERM, SIGHUP), with the file's bytes, mode and times
back."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from layerwise.errors import LayerwiseError, Location
from layerwise.signals import held_while

# Files the change goes to, in order of preference, when the user names none.
PREFERRED = ("app.py", "main.py", "manage.py", "server.py", "wsgi.py", "run.py")
NOT_CODE = {"setup.py", "conftest.py"}


def edit_text(original: bytes, nonce: str) -> bytes:
    """The edited content: one comment line appended (a code change that changes no behaviour)."""
    nl = b"\r\n" if b"\r\n" in original else b"\n"
    sep = b"" if not original or original.endswith(b"\n") else nl
    return original + sep + b"# layerwise bench " + nonce.encode() + nl


@contextlib.contextmanager
def temporary_edit(path: str | os.PathLike[str], nonce: str) -> Iterator[Path]:
    """Append a comment line to ``path`` for the duration of the ``with`` block.

    The original bytes, mode and access/modification times are restored on the way out,
    also on KeyboardInterrupt. Meanwhile (in the main thread) SIGTERM and SIGHUP raise
    KeyboardInterrupt too, and from the first instruction of the restore on, Ctrl-C, SIGTERM
    and SIGHUP are held back and delivered once the file is back (see :mod:`signals`).
    """
    p = Path(path)
    try:
        original = p.read_bytes()
        st = p.stat()
    except OSError as exc:
        raise LayerwiseError(f"cannot read the file to change: {exc.strerror}", Location(str(p))) from None
    with held_while() as guard:
        try:
            p.write_bytes(edit_text(original, nonce))
            yield p
        finally:
            guard.holding = True  # before any call: no signal can interrupt the restore
            _restore(p, original, st)


def _restore(p: Path, original: bytes, st: os.stat_result) -> None:
    # In place: a symlink stays a symlink, the inode and owner stay.
    with open(p, "wb") as f:
        f.write(original)
    os.chmod(p, st.st_mode & 0o7777)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))


def pick_change_file(context: Path, candidates: list[str]) -> str:
    """The source file to change: a usual entry point, else the first ``*.py`` (sorted) among
    ``candidates`` (context-relative paths that the build copies)."""
    py = sorted(c for c in candidates if c.endswith(".py") and Path(c).name not in NOT_CODE)
    for name in PREFERRED:
        if name in py:
            return name
    for name in PREFERRED:
        hit = next((c for c in py if Path(c).name == name), None)
        if hit:
            return hit
    if py:
        return min(py, key=lambda c: (c.count("/"), c))
    raise LayerwiseError(
        "found no Python source file to change; name one with --change FILE", Location(str(context))
    )
