"""The files Docker sees: one model of a build context's state, shared by ``explain``, ``bench``
and the server.

A :class:`ContextFiles` is a read-only view of a :class:`~layerwise.context.snapshot.Snapshot`
(the walk of a folder after .dockerignore), optionally with a few paths put back as another
state had them (a git revision: :mod:`layerwise.context.states`). The snapshot's entries are
never copied: two states of one folder share them, and differ only by their overlays.

Content digests follow the tree, as BuildKit's ``contenthash`` keys a copied folder: the digest
of a folder is a digest of its children's names, types, modes, contents (files), link targets
(symlinks) and folder digests (Merkle). A folder's digest is computed once per snapshot, so a
``COPY .`` selection of an unchanged subtree costs one lookup, and a state with an overlay
recomputes only the folders on the paths of what it changed.
"""

from __future__ import annotations

import bisect
import hashlib
import marshal
import os
import posixpath
import re
import struct
from collections import namedtuple
from collections.abc import Iterator, Mapping

from layerwise.errors import LayerwiseError, Location

__all__ = ["ContextFiles", "Entry", "Selection", "StateError", "items_digest", "normalize_source", "selection"]


class StateError(LayerwiseError):
    """A project state that cannot be read (no such revision, an unreadable folder...)."""


class Entry(namedtuple("Entry", "kind mode digest target", defaults=(0o644, "", ""))):
    """One context entry as the cache simulation sees it (a tuple: a selection stores it as
    is, and many of them stay small): ``kind``, ``mode`` (permission bits), ``digest`` the raw
    sha256 of a file's content (``b""`` when it cannot be read; ``""`` for other kinds),
    ``target`` a symlink's target. (A namedtuple, not a typing.NamedTuple: no typing import.)"""

    __slots__ = ()


FILE, DIR, SYMLINK = "file", "dir", "symlink"
_EMPTY_FOLDER = hashlib.sha256(b"0\0\0").digest()
_MODE = struct.Struct(">H")
# meta prefixes (kind letter + 2-byte mode) by (kind letter, permission bits): few distinct ones
_PREFIX: dict[tuple[bytes, int], bytes] = {}


_FILE_PREFIX: dict[int, bytes] = {}  # st_mode -> a file's meta up to its digest


def _prefix(letter: bytes, mode: int) -> bytes:
    key = (letter, mode)
    p = _PREFIX.get(key)
    if p is None:
        p = _PREFIX[key] = letter + _MODE.pack(mode & 0o7777)
    return p


def _meta(kind: str, mode: int, digest, target: str | None, sub: bytes | None, builder: str) -> bytes:
    """What a folder's digest records of one child (besides its name): its type, mode and
    content (a file's digest, a folder's own digest, a link's target). BuildKit's incremental
    context sync does not see a folder's mode change (research §3): folder modes count only
    for the legacy builder."""
    if kind == FILE:
        if not digest:
            return _prefix(b"u", mode)  # unreadable: sent empty
        if type(digest) is str:  # (hand-made entries: any text)
            digest = digest.encode("utf-8", "surrogateescape")
        return _prefix(b"f", mode) + len(digest).to_bytes(2, "big") + digest
    if kind == DIR:
        return _prefix(b"d", mode if builder == "legacy" else 0) + (sub or _EMPTY_FOLDER)
    if kind == SYMLINK:
        t = os.fsencode(target or "")
        return _prefix(b"l", mode) + len(t).to_bytes(4, "big") + t
    return _prefix(b"o", mode)


def _folder_digest(names: list[str], metas: list[bytes]) -> bytes:
    """A folder's digest from its children in name order (names hold no NUL; each meta is
    self-delimiting, so the encoding is unambiguous)."""
    h = hashlib.sha256(b"%d\0" % len(names))
    h.update("\0".join(names).encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(b"".join(metas))
    return h.digest()


class _Tree:
    """What every view of one snapshot shares: the sorted paths and the folder digests."""

    def __init__(self, snap) -> None:
        self.snap = snap
        self.entries = snap.entries
        self.paths: list[str] = snap.paths
        self.digests: dict[str, dict[str, bytes]] = {}  # builder -> folder -> digest
        self.token = os.urandom(16)  # this snapshot, in digests of changes (ContextFiles.by_changes)
        self.read: set[str] = set()  # roots whose files were hashed (and checked) for a digest of changes
        self.unreadable: list[str] = []  # files read by a step that could not be read (sent empty)
        self._bad_dirs: dict[str, str] | None = None
        # folder digests kept with the stat cache (see _stored_digests): read on first use
        self._stored: dict[str, dict[str, bytes]] | None = None
        self._computed = False  # a folder digest computed here (worth writing)
        self._walk_token = getattr(snap, "cache_token", None)
        changes = getattr(snap, "walk_changes", None)
        self._changes = changes() if changes is not None else None

    def get(self, path: str):
        paths = self.paths
        i = bisect.bisect_left(paths, path)
        if i < len(paths) and paths[i] == path:
            return self.entries[i]
        return None

    def below(self, folder: str) -> tuple[int, int]:
        """The index range of the entries strictly below ``folder`` ("" : the root)."""
        if not folder:
            return 0, len(self.paths)
        paths = self.paths
        return bisect.bisect_left(paths, folder + "/"), bisect.bisect_left(paths, folder + "0")  # "0" follows "/"

    def children(self, folder: str) -> list:
        lo, hi = self.below(folder)
        n = len(folder) + 1 if folder else 0
        return [e for e in self.entries[lo:hi] if "/" not in e.path[n:]]

    def unreadable_file(self, path: str) -> None:
        """A file a step reads that could not be read. BuildKit sends it empty (the build goes
        on, the image gets an empty file: checked on the engine), so it is predicted so and
        noted; the legacy builder refuses the whole context (``states.refuse_unreadable``)."""
        msg = next((w.message for w in self.snap.warnings if w.path == path), "")
        if msg.startswith("cannot read") and path not in self.unreadable:
            self.unreadable.append(path)

    def check_folder(self, path: str) -> None:
        """A folder a step reads that could not be listed: BuildKit's sender fails on it."""
        if not self.snap.warnings:
            return
        if self._bad_dirs is None:
            self._bad_dirs = {w.path: w.message for w in self.snap.warnings if w.message.startswith("cannot read folder")}
        msg = self._bad_dirs.get(path)
        if msg:
            raise StateError(msg, Location(os.path.join(os.fspath(self.snap.root), path)))

    def folder(self, folder: str, builder: str) -> bytes:
        """The digest of ``folder`` (of what is below it) in the snapshot: computed once for
        its whole subtree (every folder in it remembered), then one lookup."""
        memo = self.digests.get(builder)
        if memo is None:
            if self._stored is None:
                self._stored = _stored_digests(self)
            memo = self.digests[builder] = dict(self._stored.get(builder, ()))
        d = memo.get(folder)
        if d is not None:
            return d
        self._computed = True
        lo, hi = self.below(folder)
        entries = self.entries
        span = entries[lo:hi]
        self.snap.ensure_digests(span)  # only what is not hashed yet (stat cache first)
        # the children of each folder, in name order (a folder's own children sort in path
        # order, though its subfolders' entries come between them)
        groups: dict[str, tuple[list[str], list]] = {folder: ([], [])}
        last = None
        names = kids = None
        for e in span:
            parent, _, name = e.path.rpartition("/")
            if parent != last:
                g = groups.get(parent)
                if g is None:
                    g = groups[parent] = ([], [])
                names, kids = g
                last = parent
            names.append(name)  # type: ignore[union-attr]
            kids.append(e)  # type: ignore[union-attr]
        warnings = bool(self.snap.warnings)
        legacy = builder == "legacy"
        files = _FILE_PREFIX
        for f in sorted(groups, reverse=True):  # a folder's subfolders sort after it
            names, kids = groups[f]
            metas: list[bytes] = []
            add = metas.append
            for e in kids:
                kind = e.kind
                if kind == FILE:
                    rec = e.rec
                    if len(rec) == 64:
                        p = files.get(e.st_mode)
                        if p is None:
                            p = files[e.st_mode] = _prefix(b"f", e.st_mode) + b"\0\x20"
                        add(p + rec[32:])
                        continue
                    self.unreadable_file(e.path)
                    add(_prefix(b"u", e.st_mode))
                elif kind == DIR:
                    if warnings:
                        self.check_folder(e.path)
                    add(_prefix(b"d", e.st_mode if legacy else 0) + memo.get(e.path, _EMPTY_FOLDER))
                else:
                    add(_meta(kind, e.st_mode, None, e.target, None, builder))
            memo[f] = _folder_digest(names, metas)
        return memo[folder]


    def save_digests(self) -> None:
        """Keep the folder digests computed here with the stat cache (once it is written: the
        digests name the cache they were checked against), but those of the folders above a
        file the cache does not vouch for."""
        snap = self.snap
        cache_file = getattr(snap, "cache_file", None)
        token = getattr(snap, "cache_token", None)
        if not self._computed or cache_file is None or token is None:
            return
        gone: list[str] = []
        if token == self._walk_token:
            # the cache the walk compared with: the files it sent are the cache's, but those
            # found changed or new, whose folders are left out, and those it holds that are gone
            # (listed: a later walk must find the same ones gone)
            if self._changes is None:
                return
            if self._changes[1]:
                from layerwise.context.revcache import _gone

                found = _gone(snap)
                if found is None or len(found) != self._changes[1]:
                    return
                gone = found
            dirty = _above(self._changes[0])
        else:
            # written by this run from this walk: left out, the folders above a file it did
            # not write (not hashed, too recent, unreadable)
            racy, failed = snap._racy, snap._failed
            dirty = _above(e.path for e in self.entries
                           if e.kind == FILE and (len(e.rec) != 64 or e.path in racy or e.path in failed))  # fmt: skip
        kept = {b: {f: d for f, d in memo.items() if f not in dirty} for b, memo in self.digests.items()}
        data = {"v": _DIGESTS_VERSION, "root": os.fsencode(snap.root), "token": token, "shape": _shape(snap),
                "gone": gone, "digests": kept}  # fmt: skip
        path = cache_file.with_suffix(".dig")
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(data))
            os.replace(tmp, path)
        except (OSError, ValueError):
            try:
                os.unlink(tmp)
            except OSError:
                pass


_DIGESTS_VERSION = 1


def _above(paths) -> set[str]:
    """Every folder above the paths (the context root "" included)."""
    out: set[str] = set()
    for p in paths:
        parent = posixpath.dirname(p)
        while parent not in out:
            out.add(parent)
            if not parent:
                break
            parent = posixpath.dirname(parent)
    return out


def _shape(snap) -> tuple:
    """What of a walk the stat cache does not vouch for: its folders and their modes, its
    symlinks and their targets, its special files (the walk lists them as it goes)."""
    return (sorted((e.path, e.st_mode) for e in snap.walk_dirs),
            sorted((e.path, e.st_mode, e.target or "") for e in snap.walk_links),
            sorted((e.path, e.st_mode) for e in snap.walk_others))  # fmt: skip


def _stored_digests(tree: _Tree) -> dict[str, dict[str, bytes]]:
    """The folder digests kept with the stat cache that hold for this walk (#17: a ``COPY .``
    of an unchanged subtree costs one lookup, and no hashing pass, from one command to the
    next). They hold when they were computed against the stat cache the walk loaded (its
    token), the walk sent every file the cache holds but those already gone then (removed,
    renamed or newly excluded since), and its folders, symlinks and special files are the same (a folder added,
    removed or renamed, a mode or a link target changed; an ignore file that sends more or
    less); every file is then the cache's, unchanged (same stamp), but those the walk found
    changed or new: the folders above them are computed again."""
    snap = tree.snap
    cache_file = getattr(snap, "cache_file", None)
    changes = tree._changes
    if cache_file is None or changes is None or tree._walk_token is None:
        return {}
    try:
        with open(cache_file.with_suffix(".dig"), "rb") as f:
            data = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if type(data) is not dict or data.get("v") != _DIGESTS_VERSION or data.get("root") != os.fsencode(snap.root) \
            or data.get("token") != tree._walk_token or type(data.get("digests")) is not dict:  # fmt: skip
        return {}
    gone = data.get("gone")
    if type(gone) is not list or not all(type(p) is str for p in gone) \
            or changes[1] != sum(1 for p in gone if (e := tree.get(p)) is None or e.kind != FILE):  # fmt: skip
        return {}  # (files gone since: where is not known)
    if data.get("shape") != _shape(snap):
        return {}
    dirty = _above(changes[0])
    out: dict[str, dict[str, bytes]] = {}
    for builder, memo in data["digests"].items():
        if type(memo) is dict:
            out[builder] = {f: d for f, d in memo.items() if f not in dirty and type(d) is bytes and len(d) == 32}
    return out


class ContextFiles(Mapping):
    """A state of a build context: ``path -> Entry`` (posix paths relative to the context
    root), a view of a snapshot plus an overlay of the paths this state has otherwise.

    Content is hashed lazily, through the stat cache: reading a file's entry hashes it when
    needed; :meth:`folder_digest` hashes only the files below the folder asked for."""

    def __init__(self, snap, *, _tree: _Tree | None = None) -> None:
        self._snap = snap
        self._tree = _tree if _tree is not None else _Tree(snap)
        self._over: dict[str, Entry | None] = {}  # None: removed in this state
        self._affected: dict[str, list[str]] | None = None  # folder -> overlay paths just below
        self._memo: dict[str, dict[str, bytes]] = {}  # this view's own folder digests
        self._by_changes = False  # selection digests from the overlay alone (see by_changes)

    # -- the mapping -----------------------------------------------------------------------

    @property
    def unreadable(self) -> list[str]:
        return self._tree.unreadable

    def _entry(self, e) -> Entry:
        tree = self._tree
        if e.kind == FILE:
            if e.digest is None:
                self._snap.ensure_digests([e])
                if e.digest is None:
                    tree.unreadable_file(e.path)
            return Entry(FILE, e.st_mode & 0o7777, e.digest or b"", e.target or "")
        if e.kind == DIR:
            tree.check_folder(e.path)
        return Entry(e.kind, e.st_mode & 0o7777, "", e.target or "")

    def __getitem__(self, path: str) -> Entry:
        over = self._over
        if path in over:
            v = over[path]
            if v is None:
                raise KeyError(path)
            return v
        e = self._tree.get(path)
        if e is None:
            raise KeyError(path)
        return self._entry(e)

    def __contains__(self, path: object) -> bool:
        over = self._over
        if path in over:
            return over[path] is not None
        return isinstance(path, str) and self._tree.get(path) is not None

    def __iter__(self) -> Iterator[str]:
        over = self._over
        if not over:
            return iter(self._tree.paths)
        return self._iter_overlaid()

    def _iter_overlaid(self) -> Iterator[str]:
        over = self._over
        for p in self._tree.paths:
            if over.get(p, True) is not None:
                yield p
        tree = self._tree
        for p in sorted(over):
            if over[p] is not None and tree.get(p) is None:
                yield p

    def __len__(self) -> int:
        tree = self._tree
        n = len(tree.paths)
        for p, v in self._over.items():
            there = tree.get(p) is not None
            n += (v is not None) - there
        return n

    def get(self, path, default=None):
        try:
            return self[path]
        except KeyError:
            return default

    def items(self):
        return [(p, self[p]) for p in self]

    def values(self):
        return [self[p] for p in self]

    # -- changing a state (a revision's paths put back) --------------------------------------

    def __setitem__(self, path: str, entry: Entry) -> None:
        self._over[path] = entry
        self._changed()

    def pop(self, path: str, *default):
        try:
            v = self[path]
        except KeyError:
            if default:
                return default[0]
            raise
        self._over[path] = None
        self._changed()
        return v

    def _changed(self) -> None:
        self._affected = None
        self._memo.clear()

    def has_below(self, folder: str) -> bool:
        """Whether any entry of this state is strictly below ``folder``."""
        prefix = folder + "/"
        if any(v is not None and p.startswith(prefix) for p, v in self._over.items()):
            return True
        lo, hi = self._tree.below(folder)
        over = self._over
        return any(over.get(self._tree.paths[i], True) is not None for i in range(lo, hi))

    def overlay(self) -> ContextFiles:
        """A view of the same snapshot to change (a revision's state on top of this one)."""
        other = ContextFiles(self._snap, _tree=self._tree)
        other._over = dict(self._over)
        return other

    def by_changes(self) -> ContextFiles:
        """This state, for comparing with other states of the same snapshot only: the digest
        of a selection is then one of what this state has otherwise than the snapshot below
        what it selects (nothing is listed or hashed but that), not of its content. Two such
        digests are equal exactly when the selections are, for states of one snapshot (a
        revision against the working tree); never compare them with any other digest."""
        other = ContextFiles(self._snap, _tree=self._tree)
        other._over = self._over
        other._by_changes = True
        return other

    def same_base(self, other: object) -> bool:
        return isinstance(other, ContextFiles) and other._tree is self._tree

    @property
    def overlaid(self) -> dict[str, Entry | None]:
        """The paths this state has otherwise than the snapshot (None: absent here)."""
        return self._over

    # -- content -----------------------------------------------------------------------------

    def prefetch(self, paths) -> None:
        """Hash (in parallel, through the stat cache) the files among ``paths`` not hashed yet."""
        get = self._tree.get
        over = self._over
        todo = [e for e in (get(p) for p in paths if p not in over) if e is not None]
        if todo:
            self._snap.ensure_digests(todo)

    def copy(self) -> dict[str, Entry]:
        """A plain dict with every digest computed (a frozen view of the files now)."""
        self.prefetch(list(self))
        return dict(self.items())

    def save_cache(self) -> None:
        """Write the stat cache now if digests were computed since it was read (and rewriting
        it costs less than hashing them again would)."""
        snap = self._snap
        if snap is not None and getattr(snap, "_unsaved", 0) and getattr(snap, "cache_file", None) is not None \
                and snap._worth_saving():  # fmt: skip
            snap.save_cache()
        self._tree.save_digests()  # (after the cache: they name the cache they hold for)

    def folder_digest(self, folder: str, builder: str) -> bytes:
        """The digest of what is below ``folder`` in this state (``""``: the whole context)."""
        if not self._over:
            return self._tree.folder(folder, builder)
        affected = self._affected_folders()
        if folder not in affected:
            e = self._tree.get(folder) if folder else True
            return self._tree.folder(folder, builder) if e is not None else _EMPTY_FOLDER
        memo = self._memo.setdefault(builder, {})
        d = memo.get(folder)
        if d is not None:
            return d
        tree = self._tree
        base = tree.get(folder) if folder else True
        if base is not None and (not folder or base.kind == DIR):
            tree.folder(folder, builder)  # the snapshot's whole subtree, once
        over = self._over
        kids: dict[str, bytes] = {}
        n = len(folder) + 1 if folder else 0
        if base is not None:
            for e in tree.children(folder):
                if e.path in over:
                    continue
                name = e.path[n:]
                if e.kind == DIR:
                    kids[name] = _prefix(b"d", e.st_mode if builder == "legacy" else 0) + self.folder_digest(e.path, builder)
                else:
                    v = self._entry(e)
                    kids[name] = _meta(v.kind, v.mode, v.digest, v.target, None, builder)
        for p in affected[folder]:
            v = over[p]
            if v is None:
                continue
            sub = self.folder_digest(p, builder) if v.kind == DIR else None
            kids[p[n:]] = _meta(v.kind, v.mode, v.digest, v.target, sub, builder)
        names = sorted(kids)
        memo[folder] = d = _folder_digest(names, [kids[k] for k in names])
        return d

    def _affected_folders(self) -> dict[str, list[str]]:
        """The folders whose digest the overlay changes (the folders above its paths), each
        with the overlay paths directly in it."""
        if self._affected is None:
            aff: dict[str, list[str]] = {}
            for p in self._over:
                parent = posixpath.dirname(p)
                aff.setdefault(parent, []).append(p)
                while parent:
                    parent = posixpath.dirname(parent)
                    aff.setdefault(parent, [])
            self._affected = aff
        return self._affected


# -- what a COPY reads ----------------------------------------------------------------------

WILDCARD = re.compile(r"[*?\[]")


def _go_match(pattern: str, name: str) -> bool:
    """Go ``filepath.Match``: ``*`` and ``?`` never match ``/``; a bad pattern matches nothing."""
    from layerwise.context import gopath

    try:
        return gopath.match(pattern, name)
    except gopath.BadPattern:
        return False


def normalize_source(src: str) -> str:
    """A COPY source as BuildKit selects it: relative to the context root, cleaned."""
    p = posixpath.normpath("/" + src).lstrip("/")
    return "" if p == "." else p


class Selection:
    """The entries a ``COPY <src>`` reads: a view of a state (its roots and how they are
    named), not a copy. :meth:`items` lists them (``name -> (kind, mode, digest, target)``,
    names relative to what is copied); :meth:`digest` is their content digest, from the
    state's folder digests when it can be (one lookup per selected folder)."""

    __slots__ = ("_items", "bases", "excludes", "files", "roots", "wildcard")

    def __init__(self, files: Mapping, roots: list[str], excludes: list[str], wildcard: bool = False) -> None:
        self.files = files
        self.roots = roots
        self.excludes = excludes
        self.wildcard = wildcard  # the source is a pattern
        many = len(roots) > 1
        self.bases = [posixpath.basename(r) if many or (r and files[r].kind != DIR) else "" for r in roots]
        self._items: dict[str, tuple] | None = None

    def __bool__(self) -> bool:
        return bool(self.roots)

    def context_path(self, name: str) -> str | None:
        """The context path of the selected ``name`` (names are relative to what is copied:
        ``COPY ./app /app/app`` names ``app/main.py`` ``main.py``): the file a user edits.
        None when no root of this selection names it."""
        for root, base in zip(self.roots, self.bases):
            if not base:
                return posixpath.join(root, name) if root and name else root or name
            if name == base:
                return root
            if name.startswith(base + "/"):
                return posixpath.join(root, name[len(base) + 1 :])
        return None

    def items(self) -> dict[str, tuple]:
        """``name -> entry`` of everything selected (computed once)."""
        if self._items is not None:
            return self._items
        files = self.files
        roots = self.roots
        prefetch = getattr(files, "prefetch", None)
        if prefetch is not None:  # hash only what this COPY reads, in parallel
            prefixes = tuple(r + "/" for r in roots if r)
            prefetch([p for p in files if "" in roots or p in roots or p.startswith(prefixes)])
        excluder = None
        if self.excludes:
            from layerwise.context.ignore import IgnoreFile

            excluder = IgnoreFile.from_patterns(list(self.excludes))
        out: dict[str, tuple] = {}
        for root, base in zip(roots, self.bases):
            prefix = root + "/" if root else ""
            for path in files:
                if root and path != root and not path.startswith(prefix):
                    continue
                rel = path[len(prefix) :] if path != root else ""
                if excluder is not None and rel and excluder.excludes(rel):
                    continue
                name = (posixpath.join(base, rel) if rel else base) if base else rel
                e = files[path]
                out[name] = e if type(e) is Entry else (e.kind, e.mode, e.digest, e.target)
        self._items = out
        return out

    def _by_folders(self) -> bool:
        """Whether :meth:`digest` can read the state's folder digests."""
        return (isinstance(self.files, ContextFiles) and not self.excludes
                and len(set(self.bases)) == len(self.bases))  # fmt: skip

    def digest(self, builder: str) -> bytes:
        """The content digest of the selection: equal for two selections exactly when
        :meth:`items` are (the folder-digest encoding of those items)."""
        if not self._by_folders():
            return items_digest(self.items(), builder)
        files: ContextFiles = self.files  # type: ignore[assignment]
        roots, bases = self.roots, self.bases
        if files._by_changes and not self.wildcard:
            # (a wildcard's roots may differ between the states while what they list does not:
            # its content digest, from the folder digests, compares them)
            return self._changes_digest(builder)
        if len(roots) == 1 and not bases[0]:  # a folder copied as itself (or the whole context)
            root = roots[0]
            if root:
                files[root]  # (reading it checks that the folder could be listed)
            return _top(root != "", files.folder_digest(root, builder))
        kids: dict[str, bytes] = {}
        for root, base in zip(roots, bases):
            e = files[root]
            sub = files.folder_digest(root, builder) if e.kind == DIR else None
            kids[base] = _meta(e.kind, e.mode, e.digest, e.target, sub, builder)
        names = sorted(kids)
        return _top(False, _folder_digest(names, [kids[n] for n in names]))


    def _changes_digest(self, builder: str) -> bytes:
        """:meth:`digest` of a state kept :meth:`~ContextFiles.by_changes`: the snapshot, the
        roots and the overlay's entries below them that differ from the snapshot's (as the
        cache key sees entries: a folder's mode only for the legacy builder, the copied
        folder's never). The files read are hashed as a copy would (the stat cache first),
        so that unreadable ones are noted, and a folder that could not be listed is an error."""
        files: ContextFiles = self.files  # type: ignore[assignment]
        tree = files._tree
        snap = tree.snap
        for root in self.roots:
            if root in tree.read:
                continue
            todo = snap.without_digest(root) if hasattr(snap, "without_digest") else None
            if todo is None:
                lo, hi = tree.below(root)
                e = tree.get(root) if root else None
                span = tree.entries[lo:hi] if e is None or e.kind == DIR else []
                todo = [e, *span] if e is not None else span
            snap.ensure_digests(todo)
            prefix = root + "/" if root else ""
            for p in sorted(snap._failed):
                if p == root or p.startswith(prefix):
                    f = tree.get(p)
                    if f is not None and f.kind == FILE and f.digest is None:
                        tree.unreadable_file(p)
            if snap.warnings:
                for w in snap.warnings:
                    if w.path == root or w.path.startswith(prefix):
                        tree.check_folder(w.path)
            tree.read.add(root)  # (checked: a folder that cannot be listed raises each time)
        over = files._over
        changed = []
        for p in sorted(over):
            for root, base in zip(self.roots, self.bases):
                if root and p != root and not p.startswith(root + "/"):
                    continue
                rel = p[len(root) + 1 :] if root and p != root else ("" if root else p)
                name = (posixpath.join(base, rel) if rel else base) if base else rel
                b = tree.get(p)
                was = _key_view(files._entry(b) if b is not None else None, name, builder)
                now = _key_view(over[p], name, builder)
                if now != was:
                    changed.append((name, now))
        return hashlib.sha256(repr((tree.token, builder, self.roots, self.bases, changed)).encode()).digest()


def _key_view(e: tuple | None, name: str, builder: str) -> tuple | None:
    """An entry as a COPY's cache key sees it (see :func:`_meta`)."""
    if e is None:
        return None
    kind, mode, digest, target = e
    if kind == DIR and (builder != "legacy" or not name):
        mode = 0
    return (kind, mode & 0o7777, digest or (b"" if kind == FILE else ""), target or "")


def _top(has_root: bool, folder: bytes) -> bytes:
    # the copied folder itself ("" in items) counts as present, its mode never (research §3)
    return hashlib.sha256((b"r" if has_root else b"n") + folder).digest()


def items_digest(items: Mapping[str, tuple], builder: str) -> bytes:
    """:meth:`Selection.digest` of a listed selection (``name -> (kind, mode, digest,
    target)``): the folders are those of the names."""
    groups: dict[str, list[str]] = {"": []}
    for name in items:
        if not name:
            continue
        parent, _, base = name.rpartition("/")
        while True:
            g = groups.get(parent)
            if g is not None:
                g.append(base)
                break
            groups[parent] = [base]
            parent, _, base = parent.rpartition("/")
    digests: dict[str, bytes] = {}
    for folder in sorted(groups, reverse=True):
        names = sorted(set(groups[folder]))
        metas = []
        for n in names:
            path = f"{folder}/{n}" if folder else n
            e = items.get(path)
            if e is None:  # a folder only named by what is below it
                metas.append(b"m" + digests.get(path, _EMPTY_FOLDER))
                continue
            kind, mode, digest, target = e
            sub = digests.get(path)
            meta = _meta(kind, mode, digest, target, sub if kind == DIR else None, builder)
            # names below a non-folder: two wildcard matches of one name merged (a file and a folder)
            metas.append(meta if sub is None or kind == DIR else b"s" + meta + sub)
        digests[folder] = _folder_digest(names, metas)
    return _top("" in items, digests[""])


def selection(files: Mapping, src: str, excludes=()) -> Selection | None:
    """What ``COPY <src>`` reads in ``files``: None when a plain path is not there (the build
    fails there); an empty selection when a wildcard matches nothing (BuildKit's
    ``AllowEmptyWildcard``: no error)."""
    p = normalize_source(src)
    roots: list[str]
    wildcard = bool(WILDCARD.search(p))
    if wildcard:
        roots = sorted(path for path in files if _go_match(p, path))
    elif p == "":
        roots = [""]
    elif p in files:
        roots = [p]
    else:
        return None
    return Selection(files, roots, list(excludes), wildcard)
