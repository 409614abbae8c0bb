"""The build contexts the server has walked, kept until a file in them changes.

A walk of the context (the files Docker sends, after ``.dockerignore``) is what a check with
the context and a prediction cost on a big tree (seconds at 100,000 files); a keystroke in the
Dockerfile does not change it. So each walk is kept (one per context, Dockerfile and builder:
the ignore file depends on the Dockerfile) and shared by the checks, the predictions
(``explain_project``'s ``walks``) and the hovers, until it is known to be stale:

* the client watches the files (``workspace/didChangeWatchedFiles``, registered by the server
  when the client allows it) or a document is saved: the server calls :meth:`invalidate`;
* a client that cannot watch files: before a kept walk is used (once per change of the
  Dockerfile: its check and its prediction share one), its entries are compared with ``lstat`` (size, mtime, ctime, inode of every file and folder
  sent, the context folder and the ignore file): a changed file, or a folder whose entries
  changed, drops it. That costs less than a walk (no listing, no ignore matching: about two
  thirds of one at 100,000 files) and runs in the background only.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

BUILDER = "buildkit"


def _stamp(path: str) -> bytes | None:
    from layerwise.context.entry import stamp_of

    try:
        return stamp_of(os.lstat(path))
    except OSError:
        return None


class Contexts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: context folder -> the walks kept for it (``explain_project``'s ``walks`` dict)
        self._walks: dict[str, dict] = {}
        #: (context, walk key) -> stamps of the context folder and the ignore file at walk time
        self._outer: dict[tuple[str, tuple], tuple[bytes | None, str | None, bytes | None]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._checked: dict[tuple, object] = {}  # walk key -> the token it was walked or last checked for
        #: the client tells the server of changed files: no stat checks needed
        self.watching = False
        self.walked = 0  # walks made
        #: LAYERWISE_SERVER_KEEP_WALKS=0: walk again at each use (how the server worked before the
        #: walks were kept; bench/server_bench.py's reference)
        self.keep = os.environ.get("LAYERWISE_SERVER_KEEP_WALKS", "1") != "0"
        self.on_walk = None  # called with a line for the log after each walk

    def _key(self, context: str) -> str:
        return os.path.realpath(context)

    def walks(self, context: str) -> dict:
        """The walks kept for ``context`` (the dict to give ``explain_project``)."""
        key = self._key(context)
        with self._lock:
            return self._walks.setdefault(key, {})

    def files(self, context: str, dockerfile: str, builder: str = BUILDER, *, token: object = None):
        """(the files Docker sends, as a lazily hashed ``path -> Entry`` mapping, the ignore
        file used): the kept walk, else a new one (kept). Blocks for a walk: call it from a
        worker thread, never from the event loop. ``token``: the calls given the same token
        (the check with the context and the prediction of one change) share one stat check."""
        from layerwise.context.states import walked

        ctx = self._key(context)
        with self._lock:
            lock = self._locks.setdefault(ctx, threading.Lock())
        with lock:  # one walk of a context at a time: a second caller waits for it and shares it
            walks = self.walks(ctx)
            key = (ctx, str(Path(dockerfile).resolve()), builder)
            if key in walks and not self.keep:
                walks.pop(key, None)
            elif key in walks and not self.watching and (token is None or self._checked.get(key) != token):
                if self._stale(ctx, key, walks[key]):
                    walks.pop(key, None)
                else:
                    self._checked[key] = token
            if key not in walks:
                root_stamp = _stamp(ctx)
                t0 = time.perf_counter()
                got = walked(walks, Path(ctx), Path(dockerfile), builder)
                self.walked += 1
                if self.on_walk is not None:
                    self.on_walk(f"layerwise: walked the build context {ctx} ({len(got[0]):,} entries sent, "
                                 f"{time.perf_counter() - t0:.2f} s)")  # fmt: skip
                ignore = got[1]
                ign_path = os.fspath(ignore.path) if ignore is not None and getattr(ignore, "path", None) else None
                self._outer[(ctx, key)] = (root_stamp, ign_path, _stamp(ign_path) if ign_path else None)
                self._checked[key] = token
            return walks[key]

    def peek(self, context: str, dockerfile: str, builder: str = BUILDER):
        """The kept walk, or None (never walks, never checks: for the event loop)."""
        ctx = self._key(context)
        with self._lock:
            walks = self._walks.get(ctx) or {}
        return walks.get((ctx, str(Path(dockerfile).resolve()), builder))

    def invalidate(self, paths: list[str] | None = None) -> bool:
        """Forget the walks that ``paths`` changed (all when None): a walk is kept when every
        path is outside its context or left out by its ignore file (``.git/``, caches), and
        is not the ignore file itself. Whether any walk was dropped. A walk in progress
        finishes for the caller that asked for it, then is not kept."""
        with self._lock:
            if paths is None:
                dropped = any(self._walks.values())
                self._walks.clear()
                self._outer.clear()
                return dropped
            dropped = False
            for ctx, walks in list(self._walks.items()):
                for key, (_files, ignore) in list(walks.items()):
                    if any(self._touches(ctx, ignore, os.path.realpath(p)) for p in paths):
                        del walks[key]
                        self._outer.pop((ctx, key), None)
                        dropped = True
            return dropped

    @staticmethod
    def _touches(ctx: str, ignore, path: str) -> bool:
        if path == ctx:
            return True
        if not path.startswith(ctx.rstrip(os.sep) + os.sep):
            return False
        if ignore is None:
            return True
        ign = getattr(ignore, "path", None)
        if ign is not None and os.path.realpath(ign) == path:
            return True
        rel = os.path.relpath(path, ctx).replace(os.sep, "/")
        return not ignore.excludes(rel)

    def _stale(self, ctx: str, key: tuple, got) -> bool:
        """Whether a file or folder the kept walk saw changed since (lstat of each)."""
        root_stamp, ign_path, ign_stamp = self._outer.get((ctx, key), (None, None, None))
        if root_stamp is None or _stamp(ctx) != root_stamp:
            return True
        if ign_path is not None and _stamp(ign_path) != ign_stamp:
            return True
        snap = getattr(got[0], "_snap", None)
        if snap is None:
            return True
        from layerwise.context.entry import STAMP

        root = os.fspath(snap.root)
        lstat = os.lstat
        pack = STAMP.pack
        join = os.path.join
        for e in snap.entries:
            try:
                s = lstat(join(root, e.path))
            except OSError:
                return True
            if pack(s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino & 0xFFFFFFFFFFFFFFFF) != e.rec[:32]:
                return True
        return False
