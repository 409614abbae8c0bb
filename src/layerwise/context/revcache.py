"""A revision's git state, kept with the stat cache: the paths ``git diff <commit>`` reported
changed, per tree id, so that a warm ``explain`` does not have git stat every tracked file
again (the same pass as the walk's, on the same two cores: ~0.1 s of a 0.6 s run at 100,000
files).

What ``git diff <commit> -- <context>`` reports for a path depends on the commit's tree, the
index (a file added to it but not committed is reported) and the file on disk. The record of
one run (:func:`schedule`, written when the command ends: :func:`write_scheduled`) holds git's
answer with what it was checked against: the tree id, the stamps of the index, git's config and
attributes files (``gitkey``), and the token of the stat cache the walk compared the files
with. A later run with the same tree, ``gitkey`` and cache token (:func:`known_diff`) knows, from
its own walk, which files are unchanged since the cache was written: those with the same size,
mtime, ctime and inode as the cache records (git's own test). Git is asked again only about
the rest, by name (``git diff <commit> -- <paths>``): the files the walk found changed or new,
the files the record's run could not vouch for (changed then, or too recent for the cache),
symlinks whose target is not the record's, and the ignore files and Dockerfile when their
stamps moved (they may sit outside what is walked). Files the cache holds that the walk did not
send (removed, renamed, now excluded) must be exactly those the record knew gone; otherwise,
or when more than :data:`MAX_ASKED` paths are in question (git matches each name against
every index entry), git's full diff is read again and recorded.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import time
from pathlib import Path

from layerwise.context.entry import FILE

#: beyond this many paths to ask git about by name, its full diff costs less
MAX_ASKED = 32
#: records kept per context folder (one per tree id, context and repository)
_KEPT = 8
#: a record whose lists grow beyond this is not written (the next run reads git's full diff)
_MAX_LISTED = 50_000
_MAX_DIFF_BYTES = 1 << 20
_VERSION = 3  # (3: git's raw diff, with the commit's modes and blobs)


def _stamp(path: str) -> tuple | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def gitkey(top: Path, prefix: str, git_paths: tuple[str, ...]) -> tuple:
    """What git's answer depends on besides the tree and the files: the index (``git add`` of
    a new file makes git report it), the config and attributes files (filters, line endings),
    including the ``.gitattributes`` of the folders above the context (those in it are walked)."""
    paths = list(git_paths)
    folder = str(top)
    paths.append(os.path.join(folder, ".gitattributes"))
    for part in prefix.split("/")[:-1]:
        folder = os.path.join(folder, part)
        paths.append(os.path.join(folder, ".gitattributes"))
    return tuple((p, _stamp(p)) for p in paths)


def extra_stamps(top: Path, prefix: str, paths: list[str]) -> dict[str, tuple | None]:
    """Stamps of the files git is asked about by name besides the walk's (the ignore files and
    the Dockerfile: excluded files are not walked), by path from the repository's top."""
    return {p: _stamp(os.path.join(top, p)) for p in paths if p.startswith(prefix)}


def _record_file(snap) -> Path | None:
    cache_file = getattr(snap, "cache_file", None)
    return None if cache_file is None else cache_file.with_suffix(".rev")


def record_file_for(context: Path) -> Path:
    """Where the records of a context folder live: beside its stat cache."""
    from layerwise.context.snapshot import _cache_file_for

    return _cache_file_for(Path(os.path.realpath(context)), None).with_suffix(".rev")


def _load(path: Path, root) -> dict:
    try:
        with open(path, "rb") as f:
            data = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if type(data) is not dict or data.get("v") != _VERSION or data.get("root") != os.fsencode(root):
        return {}
    return data


def _has_submodules(top: Path) -> bool:
    # a submodule's commit is not a file the walk stats: git alone knows whether it moved
    return os.path.lexists(os.path.join(top, ".gitmodules"))


class KnownDiff:
    """``git diff --raw -z`` output of a commit against the working tree, as
    :class:`~layerwise.context.states._PendingDiff` gives it, made from a record and git's
    answer about the paths in question."""

    proc = None

    def __init__(self, commit: str, prefix: str, raw: bytes, asked: int) -> None:
        self.commit = commit
        self.prefix = prefix
        self._raw = raw
        self.asked = asked  # how many paths git was asked about (for tests and timings)
        self._changed: set[str] | None = None

    def result(self) -> bytes:
        return self._raw

    def changed(self) -> set[str]:
        if self._changed is None:
            parts = self._raw.split(b"\0")
            self._changed = {os.fsdecode(parts[i + 1]) for i in range(0, len(parts) - 1, 2)}
        return self._changed


def lookup(context: Path, top: Path, commit: str, prefix: str, key: tuple) -> dict | None:
    """The record for this commit's tree with this ``gitkey`` (checked against the walk by
    :func:`known_diff`), before the walk: without one, git's full diff runs beside the walk."""
    if _has_submodules(top):
        return None
    data = _load(record_file_for(context), os.path.realpath(context))
    tree = data.get("commits", {}).get(commit)
    if tree is None:
        return None
    rec = data.get("records", {}).get((os.fsencode(top), prefix, tree))
    if type(rec) is not dict or rec.get("gitkey") != key:
        return None
    kinds = {"token": bytes, "diff": bytes, "unstable": dict, "gone": list, "links": dict, "extra": dict}
    if any(type(rec.get(k)) is not t for k, t in kinds.items()):
        return None  # (a damaged record: git's full diff is read)
    return rec


def known_diff(rec: dict, snap, top: Path, commit: str, prefix: str, key: tuple,
               extras: dict[str, tuple | None]) -> KnownDiff | None:  # fmt: skip
    """git's diff of ``commit`` against the working tree from the record ``rec``, asking git
    only about the paths in question (see the module docstring); None when the record does
    not hold for this walk (then git's full diff is read)."""
    if rec.get("token") is None or rec.get("token") != snap.cache_token or rec.get("gitkey") != key:
        return None
    changes = snap.walk_changes()
    if changes is None:
        return None
    sent_misses, vanished = changes
    gone = rec["gone"]
    still_gone = sum(1 for p in gone if (e := snap.get(p)) is None or e.kind != FILE)
    if vanished != still_gone:
        return None  # files the record's run saw were removed (or renamed, or excluded) since
    # the files the stat cache does not vouch for: asked about unless the record's run saw
    # them with the same (trusted) stamp
    unstable: dict[str, bytes | None] = rec["unstable"]
    asked: set[str] = set()
    for p in sent_misses:
        was = unstable.get(p)
        if was is None or snap.get(p).rec[:32] != was:
            asked.add(p)
    for p, was in unstable.items():
        if was is None:
            asked.add(p)
        elif p not in asked:
            e = snap.get(p)
            if e is None or e.kind != FILE or e.rec[:32] != was:
                asked.add(p)
    if len(asked) > MAX_ASKED:
        return None
    links = rec["links"]
    now_links = {e.path: e.target for e in snap.walk_links}
    asked.update(p for p, t in now_links.items() if links.get(p) != t)
    asked.update(p for p in links if p not in now_links)
    if len(asked) > MAX_ASKED:
        return None
    top_paths = {prefix + p for p in asked}
    old_extras = rec["extra"]
    top_paths.update(p for p, stamp in extras.items() if p not in old_extras or old_extras[p] != stamp)
    if len(top_paths) > MAX_ASKED:
        return None
    answer = _ask(top, commit, prefix, sorted(top_paths), key) if top_paths else b""
    parts = answer.split(b"\0")
    answered = {parts[i + 1] for i in range(0, len(parts) - 1, 2)}
    asked_b = {os.fsencode(p) for p in top_paths}
    kept = []
    parts = rec["diff"].split(b"\0")
    for i in range(0, len(parts) - 1, 2):
        name = parts[i + 1]
        # (a name asked about may now be a folder: git's answer lists the files below it)
        if name not in asked_b and name not in answered and not any(name.startswith(a + b"/") for a in asked_b):
            kept.append(parts[i] + b"\0" + name + b"\0")
    kept.append(answer)
    return KnownDiff(commit, prefix, b"".join(kept), len(top_paths))


#: an index beyond this size (about 300,000 entries) is asked in two steps (see _ask)
_BIG_INDEX = 32 << 20


def _ask(top: Path, commit: str, prefix: str, paths: list[str], key: tuple) -> bytes:
    """``git diff --raw -z <commit> -- <paths>``: git's answer about a few paths.

    With a big index, ``git diff <commit> -- <path>`` can take far longer than the full diff
    (git 2.39, a 1,000,000-file index: over 30 s for one path, 2 s for the whole tree); there
    the commit is compared with the index (``diff --cached``) and the index with the files
    (``diff-files``), 0.2 s each. Their union may name a path of the commit whose file is as
    the commit has it (changed in the index only, or stat-dirty): that path is put back as the
    commit has it, which changes nothing; a path the commit does not have is named by both
    exactly when the index has it, as by ``git diff <commit>``."""
    from layerwise.context.states import _diff_args, _git

    index_stamp = key[0][1] if key and key[0][1] is not None else None
    if index_stamp is None or index_stamp[1] <= _BIG_INDEX:
        args = _diff_args(commit, prefix)[:-2]
        return _git(top, "--literal-pathspecs", *args, "--", *paths)
    cached = _git(top, "--literal-pathspecs", "diff", "--cached", "--no-renames", "--raw", "--no-abbrev", "-z",
                  commit, "--", *paths)  # fmt: skip
    # (a path only diff-files names is as the commit has it in the index: its old side is the
    # commit's, as ``git diff <commit>`` gives it)
    files = _git(top, "--literal-pathspecs", "diff-files", "--raw", "--no-abbrev", "-z", "--", *paths)
    seen: set[bytes] = set()
    out = []
    for raw in (cached, files):
        parts = raw.split(b"\0")
        for i in range(0, len(parts) - 1, 2):
            if parts[i + 1] not in seen:
                seen.add(parts[i + 1])
                out.append(parts[i] + b"\0" + parts[i + 1] + b"\0")
    return b"".join(out)


class Pending:
    """What a run that read git's full diff writes when the command ends (the stat cache
    may be written first: the record names the cache its stamps were checked against)."""

    def __init__(self, snap, top: Path, commit: str, prefix: str, git_paths: tuple[str, ...], key: tuple,
                 extras: dict, diff) -> None:  # fmt: skip
        self.snap = snap
        self.top = top
        self.commit = commit
        self.prefix = prefix
        self.git_paths = git_paths
        self.key = key
        self.extras = extras
        self.diff = diff  # the _PendingDiff (read by then)
        self.walk_token = snap.cache_token
        self.changes = snap.walk_changes()
        self.links = {e.path: e.target for e in snap.walk_links}
        self.cancelled = False  # (the revision's own ignore file was walked instead)
        #: the diff came from a record that still holds unless this run rewrites the stat cache
        self.only_if_rewritten = isinstance(diff, KnownDiff)

    def write(self) -> None:
        snap = self.snap
        path = _record_file(snap)
        if self.cancelled or path is None:
            return
        raw = self.diff.result()
        if raw is None or len(raw) > _MAX_DIFF_BYTES or _has_submodules(self.top):
            return
        if gitkey(self.top, self.prefix, self.git_paths) != self.key:
            return  # the index (or config) changed while git read the tree: git's refresh, or a `git add`
        token = snap.cache_token
        if token is None or (self.only_if_rewritten and token == self.walk_token):
            return
        if token == self.walk_token:
            # the cache the walk compared with: what it does not vouch for are the files the
            # walk found changed or new; what it holds that was not sent, those files gone
            if self.changes is None:
                return
            misses, vanished = self.changes
            unstable = {p: _trusted_stamp(snap, snap.get(p)) for p in misses}
            gone = _gone(snap) if vanished else []
            if gone is None or len(gone) != vanished:
                return
        else:
            # written by this run from this walk: every file sent is in it, but those not
            # hashed, too recent (racy) or unreadable
            racy, failed = snap._racy, snap._failed
            unstable = {e.path: _trusted_stamp(snap, e) for e in snap.entries
                        if e.kind == FILE and (len(e.rec) != 64 or e.path in racy or e.path in failed)}  # fmt: skip
            gone = []
        if len(unstable) > _MAX_LISTED:
            return
        tree = _tree_id(self.top, self.commit)
        if tree is None:
            return
        data = _load(path, snap.root) or {"v": _VERSION, "root": os.fsencode(snap.root), "commits": {}, "records": {}}
        commits = data["commits"]
        commits[self.commit] = tree
        records = data["records"]
        rkey = (os.fsencode(self.top), self.prefix, tree)
        records.pop(rkey, None)
        records[rkey] = {"token": token, "gitkey": self.key, "diff": raw, "unstable": unstable,
                         "gone": gone, "links": self.links, "extra": self.extras, "written": time.time()}  # fmt: skip
        while len(records) > _KEPT:
            records.pop(next(iter(records)))
        live = {k[2] for k in records}
        data["commits"] = {c: t for c, t in commits.items() if t in live}
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(data))
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _trusted_stamp(snap, e) -> bytes | None:
    """The stamp of a file the stat cache does not hold, when a later walk seeing the same one
    may trust it unchanged (not changed within the racy window of the walk): None otherwise."""
    if e is None or e.path in snap._racy or e.path in snap._failed or len(e.rec) < 32 or not snap._trusted(e.rec):
        return None
    return bytes(e.rec[:32])


def _gone(snap) -> list[str] | None:
    """The files the stat cache holds that the walk did not send (read again: rare)."""
    from layerwise.context.snapshot import _load_cache

    cache = _load_cache(snap.cache_file, snap.root)
    if cache.token != snap.cache_token:
        return None
    out = []
    for p in cache.as_dict():
        e = snap.get(p)
        if e is None or e.kind != FILE:
            out.append(p)
            if len(out) > _MAX_LISTED:
                return None
    return out


def _tree_id(top: Path, commit: str) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--verify", "--quiet", commit + "^{tree}"], cwd=top,
                             capture_output=True, check=False)  # fmt: skip
    except OSError:
        return None
    tree = out.stdout.decode(errors="replace").strip()
    return tree if out.returncode == 0 and tree else None
