"""Project states for ``explain``: a folder, or a git revision seen the way Docker would see it.

Docker reads the files on disk, not git: untracked and git-ignored files are sent too. So the
state of a revision ``REV`` is the working tree with every *tracked* path put back as it is in
``REV`` (modified files restored, files added since removed, deleted files brought back), and
everything git does not track left as it is. With the default ``--before HEAD`` that is exactly
what the last build of HEAD saw, give or take the untracked files changed since.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import subprocess
import threading
from pathlib import Path

from layerwise.context.files import ContextFiles, Entry, StateError
from layerwise.errors import LayerwiseError, Location
from layerwise.records import Record
from layerwise.safefs import DOCKERFILE_LIMIT, PROJECT_FILE_LIMIT, size_text


class ProjectState(Record):
    """One state of a project: the Dockerfile text and the context files Docker would see."""

    _fields = ("label", "dockerfile_text", "dockerfile_path", "files")

    def __init__(self, label: str, dockerfile_text: bytes, dockerfile_path: str, files: dict[str, Entry]) -> None:
        self.label = label
        self.dockerfile_text = dockerfile_text
        self.dockerfile_path = dockerfile_path  # for messages
        self.files = files


def _git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise StateError("git is not installed; give --before/--after as folders") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise StateError(f"git {' '.join(args[:2])}: {msg[-1] if msg else 'failed'}", Location(str(cwd)))
    return proc.stdout


def git_toplevel(path: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, check=False
        )
    except FileNotFoundError:
        return None
    if out.returncode != 0:
        return None
    return Path(out.stdout.decode().strip())


def _blob_digests(top: Path, shas: list[str], keep: set[str] = frozenset()) -> tuple[dict[str, bytes], dict[str, bytes]]:  # type: ignore[assignment]
    """(sha1 -> sha256 digest of each blob, sha1 -> content of the blobs in ``keep``), read
    from one ``git cat-file --batch`` blob by blob: a blob is hashed in chunks as it streams
    in, so memory stays at one chunk, not the sum of the blobs (800 MB of changed files)."""
    digests: dict[str, bytes] = {}
    contents: dict[str, bytes] = {}
    if not shas:
        return digests, contents
    try:
        proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=top, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    except FileNotFoundError:
        raise StateError("git is not installed; give --before/--after as folders") from None
    # the names go in from a thread: git answers while it reads, and a full pipe must not stall us
    feeder = threading.Thread(target=_feed, args=(proc.stdin, "".join(s + "\n" for s in shas).encode()), daemon=True)
    feeder.start()
    out = proc.stdout
    assert out is not None
    try:
        for sha in shas:
            header = out.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                raise StateError(f"git cat-file --batch: no blob {sha}", Location(str(top)))
            left = int(header[2])
            h = hashlib.sha256()
            kept = [] if sha in keep else None
            while left:
                chunk = out.read(min(left, _BLOB_CHUNK))
                if not chunk:
                    raise StateError("git cat-file --batch: output ended early", Location(str(top)))
                h.update(chunk)
                if kept is not None:
                    kept.append(chunk)
                left -= len(chunk)
            out.read(1)  # the newline after each blob
            digests[sha] = h.digest()
            if kept is not None:
                contents[sha] = b"".join(kept)
    finally:
        out.close()
        feeder.join()
        proc.wait()
    return digests, contents


_BLOB_CHUNK = 1 << 20


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except OSError:  # git ended first (an error): reported by the reader
        pass


def _git_blob(top: Path, spec: str, limit: int, shown: str) -> bytes:
    """A file of a revision (``REV:path``), its size checked before it is read: a 3 GB
    Dockerfile in a commit is a located error, not 3 GB in memory (a StateError when the
    revision has no such file)."""
    size = _git(top, "cat-file", "-s", spec).strip()
    if int(size or 0) > limit:
        raise LayerwiseError(f"is too large in {spec.split(':', 1)[0][:12]} ({size_text(int(size))}; the limit is "
                             f"{size_text(limit)})", Location(shown))  # fmt: skip
    return _git(top, "show", spec)


def _content_digest(data: bytes) -> bytes:
    """The digest the snapshot records for a file's content (raw sha256, as Entry.digest)."""
    return hashlib.sha256(data).digest()


def resolve_revision(context: Path, rev: str, option: str = "--before") -> tuple[Path, str]:
    """(the repository's top folder, the commit ``rev`` names); a located error naming the
    revision and the folder when there is no repository, no commit yet, or no such revision.
    Within a :func:`one_walk` scope, asked of git once per folder and revision."""
    resolved = getattr(_SCOPE, "resolved", None)
    if resolved is not None:
        key = (str(context.resolve()), rev)
        if key not in resolved:
            resolved[key] = _resolve_revision(context, rev, option)
        return resolved[key]
    return _resolve_revision(context, rev, option)


_GIT_PATHS = ("--show-toplevel", "--git-path", "index", "--git-path", "config", "--git-path", "info/attributes")


def _git_dirs(path: Path, rev: str | None = None) -> tuple[tuple[Path, tuple[str, ...]] | None, str]:
    """((the repository's top folder, the paths of its index, config and info/attributes
    files) or None outside a repository, the commit ``rev`` names or "" when it names none),
    in one git process: each git child costs a few milliseconds of a 70 ms ``explain``."""
    # --end-of-options: a revision named like an option (-x) is a name, not an option
    verify = () if rev is None else ("--verify", "--quiet", "--end-of-options", rev + "^{commit}")
    try:
        out = subprocess.run(["git", "rev-parse", *_GIT_PATHS, *verify], cwd=path, capture_output=True, check=False)
    except FileNotFoundError:
        return None, ""
    # (a revision that names no commit: git prints the paths, then fails without a word)
    lines = out.stdout.decode(errors="surrogateescape").splitlines()
    found = rev is not None and out.returncode == 0
    if out.returncode not in ((0, 1) if rev is not None else (0,)) or len(lines) != 4 + found:
        return None, ""
    dirs = Path(lines[0]), tuple(os.path.join(os.path.abspath(path), p) for p in lines[1:4])
    return dirs, lines[4].strip() if found else ""


def git_dirs(context: Path) -> tuple[Path, tuple[str, ...]] | None:
    """:func:`_git_dirs`, asked once per folder within a :func:`one_walk` scope."""
    resolved = getattr(_SCOPE, "resolved", None)
    if resolved is None:
        return _git_dirs(context)[0]
    key = ("dirs", str(context.resolve()))
    if key not in resolved:
        resolved[key] = _git_dirs(context)[0]
    return resolved[key]


def _resolve_revision(context: Path, rev: str, option: str) -> tuple[Path, str]:
    resolved = getattr(_SCOPE, "resolved", None)
    dirs_key = ("dirs", str(context.resolve()))
    if resolved is not None and dirs_key in resolved:
        dirs, sha = resolved[dirs_key], None
    else:
        dirs, sha = _git_dirs(context, rev)  # the folders and the commit, in one git process
        if resolved is not None:
            resolved[dirs_key] = dirs
    top = dirs[0] if dirs is not None else None
    if top is None:
        raise StateError(f"{option} {rev}: no such folder, and this folder is not in a git repository "
                         "(so it names no revision)", Location(str(context)))  # fmt: skip
    if sha is None:
        try:
            out = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}")
        except StateError:
            out = b""
        sha = out.decode(errors="replace").strip()
    if sha:
        return top, sha
    try:
        has_commits = bool(_git(top, "rev-list", "-n", "1", "--all").strip())
    except StateError:
        has_commits = False
    if not has_commits:
        raise StateError(f"{option} {rev}: this git repository has no commits yet (commit first, or give "
                         f"{option} as a folder)", Location(str(top)))  # fmt: skip
    raise StateError(f"{option} {rev}: no such folder, nor a revision of this git repository",
                     Location(str(top)))  # fmt: skip


def revision_state(
    context: Path,
    rev: str,
    worktree_files: dict[str, Entry],
    dockerfile: Path,
    excluded,
    option: str = "--before",
    diff: _PendingDiff | None = None,
) -> ProjectState:
    """The state of ``rev`` as Docker would see it (see the module docstring).

    ``worktree_files`` is the working tree snapshot (after .dockerignore); ``excluded(path)``
    tells whether .dockerignore drops a path. ``diff``: git's list of changed paths, started
    (:func:`start_diff`) while the working tree was walked.
    """
    top, commit = resolve_revision(context, rev, option)
    label = rev
    rev = commit  # the commit itself from here on: never read as an option or a path
    prefix = _prefix_in(context, top)
    # Tracked paths that differ between rev and the working tree.
    raw = diff.result() if diff is not None and diff.commit == rev else None
    if raw is None:
        raw = _git(top, *_diff_args(rev, prefix))
    parts = raw.split(b"\0")
    changed: list[tuple[str, str]] = []
    # The rev's view of those paths, from git's raw diff (``:<old mode> <new mode> <old sha>
    # <new sha> <status>``): the old side is the commit's; no mode (000000: added since) or a
    # submodule's commit (160000) is no file of the revision.
    tree: dict[str, tuple[str, str]] = {}
    for i in range(0, len(parts) - 1, 2):
        old_mode, _, old_sha, _, status = parts[i][1:].decode().split()
        path = os.fsdecode(parts[i + 1])
        changed.append((status, path))
        if old_mode in ("100644", "100755", "120000"):
            tree[path] = (old_mode, old_sha)
    # a view of the working tree's snapshot with the revision's paths put back (nothing copied)
    files = worktree_files.overlay() if isinstance(worktree_files, ContextFiles) else dict(worktree_files)
    links = {sha for mode, sha in tree.values() if mode == "120000"}  # their target: the content
    digests, contents = _blob_digests(top, sorted({sha for _, sha in tree.values()}), links)
    removed_dirs: set[str] = set()
    for _status, path in changed:
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix) :]
        if excluded(rel):
            continue
        if path in tree:
            mode, sha = tree[path]
            if mode == "120000":
                files[rel] = Entry("symlink", 0o777, "", os.fsdecode(contents[sha]))
            else:
                old = files.get(rel)
                perm = 0o755 if mode == "100755" else 0o644
                if old is not None and old.kind == "file" and (old.mode & 0o111) == (perm & 0o111):
                    perm = old.mode  # keep the on-disk permission bits git does not record
                files[rel] = Entry("file", perm, digests[sha], "")
            parent = posixpath.dirname(rel)
            while parent and parent not in files:
                files[parent] = Entry("dir", 0o755)
                parent = posixpath.dirname(parent)
        else:
            files.pop(rel, None)
            removed_dirs.add(posixpath.dirname(rel))
    # Folders that only exist for files added since the revision did not exist then
    # (git records no folders: a folder of the revision has at least one tracked file).
    _drop_emptied_dirs(top, rev, prefix, files, removed_dirs)
    # Dockerfile of that revision (when tracked), else the one on disk (also when git says the
    # revision's is the one on disk: no git call then).
    df_rel = os.path.relpath(dockerfile.resolve(), top.resolve()).replace(os.sep, "/")
    from layerwise.parse.parser import read_dockerfile

    if df_rel.startswith(prefix) and df_rel not in {p for _, p in changed}:
        text = read_dockerfile(dockerfile)
    else:
        try:
            text = _git_blob(top, f"{rev}:{df_rel}", DOCKERFILE_LIMIT, str(dockerfile))
        except StateError:
            text = read_dockerfile(dockerfile)
    return ProjectState(label, text, str(dockerfile), files)


def _prefix_in(context: Path, top: Path) -> str:
    prefix = os.path.relpath(context.resolve(), top.resolve()).replace(os.sep, "/")
    return "" if prefix == "." else prefix + "/"


def _diff_args(commit: str, prefix: str) -> list[str]:
    # (raw: each changed path with the commit's mode and blob, so no ``ls-tree`` is needed)
    return ["diff", "--no-renames", "--raw", "--no-abbrev", "-z", commit, "--", prefix or "."]


class _PendingDiff:
    """``git diff`` of a commit against the working tree, running in the background (git
    stats the tracked files while the snapshot walks the same tree: two cores, one wait)."""

    def __init__(self, top: Path, commit: str, prefix: str) -> None:
        self.commit = commit
        self.prefix = prefix
        self._out: bytes | None = None
        self._changed: set[str] | None = None
        self.proc = subprocess.Popen(["git", *_diff_args(commit, prefix)], cwd=top, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def result(self) -> bytes | None:
        """git's output, or None when it failed (then asked again, for its error)."""
        if self._out is None:
            self._out, _ = self.proc.communicate()
        return self._out if self.proc.returncode == 0 else None

    def changed(self) -> set[str] | None:
        """The paths (from the repository's top) git reports changed; None when it failed."""
        if self._changed is None:
            raw = self.result()
            if raw is None:
                return None
            parts = raw.split(b"\0")
            self._changed = {os.fsdecode(parts[i + 1]) for i in range(0, len(parts) - 1, 2)}
        return self._changed


#: the files of a repository's own .git folder that differ between builds of two commits
#: (HEAD's reflog gets a line each time HEAD moves; HEAD itself when there is no reflog)
_GIT_MARKERS = (".git/logs/HEAD", ".git/HEAD")


def git_folder_moved(context: str, old: ProjectState, before: str | None, after: str | None) -> ProjectState | None:
    """Docker sends the repository's own ``.git`` folder unless .dockerignore excludes it, and
    git reports no change there; yet a build of another commit saw another ``.git`` (HEAD's
    reflog has a line more each time HEAD moves). The before state of a revision whose commit
    is not the after state's gets a ``.git/logs/HEAD`` that differs: a ``COPY .`` rebuilds, as
    it does on the engine. None when nothing changes (the same commit, a folder state, no
    ``.git`` folder sent)."""
    if before is None or os.path.isdir(before) or (after is not None and os.path.isdir(after)):
        return None
    files = old.files
    marker = next((p for p in _GIT_MARKERS if getattr(files.get(p), "kind", None) == "file"), None)
    if marker is None:
        return None
    try:
        was = resolve_revision(Path(context), before)[1]
        now = resolve_revision(Path(context), after or "HEAD", "--after")[1]
    except StateError:
        return None
    if was == now:
        return None
    files = files.overlay() if isinstance(files, ContextFiles) else dict(files)
    digest = hashlib.sha256(f"layerwise: {marker} when {was} was built".encode()).digest()
    files[marker] = Entry("file", files[marker].mode, digest, "")
    return ProjectState(old.label, old.dockerfile_text, old.dockerfile_path, files)


def start_diff(context: Path, rev: str, option: str = "--before") -> _PendingDiff | None:
    """Start listing the paths ``rev`` and the working tree differ in (None when ``rev``
    names no commit: the error comes from :func:`revision_state`, where it always did)."""
    try:
        top, commit = resolve_revision(context, rev, option)
        return _PendingDiff(top, commit, _prefix_in(context, top))
    except (StateError, OSError):
        return None


def revision_ignore(context: Path, rev: str, dockerfile: Path, builder: str, option: str = "--before",
                    diff: _PendingDiff | None = None):  # fmt: skip
    """The ignore file the build of revision ``rev``'s state used (that state: the working
    tree with the tracked paths put back as in ``rev``): for each file the builder looks
    for, in order, ``rev``'s version when git tracks a difference there (absent in ``rev``:
    the next candidate), else the one on disk. ``diff``: the paths git reports changed in
    the context (:func:`start_diff`), read instead of asking git again."""
    from layerwise.context.ignore import IgnoreFile, ignore_file_candidates

    top, commit = resolve_revision(context, rev, option)
    known = diff.changed() if diff is not None and diff.commit == commit else None
    for cand in ignore_file_candidates(context, dockerfile, builder):
        rel = os.path.relpath(os.path.realpath(cand), top.resolve()).replace(os.sep, "/")
        if rel.startswith("../"):
            continue
        if known is not None and rel.startswith(diff.prefix):  # type: ignore[union-attr]
            differs = rel in known
        else:
            differs = bool(_git(top, "diff", "--no-renames", "--name-only", "-z", commit, "--", rel).strip(b"\0"))
        if differs:
            try:
                text = _git_blob(top, f"{commit}:{rel}", PROJECT_FILE_LIMIT, str(cand))
            except StateError:
                continue  # added since the revision: that state had none there
            return IgnoreFile.from_text(text, cand)
        if cand.is_file():
            return IgnoreFile.read(cand)
    return None


class _RevisionPlan:
    """How a revision's git state is read for one command: from the record kept with the
    stat cache (:mod:`layerwise.context.revcache`), asking git about the paths in question
    only, or from git's full diff (then recorded when the command ends)."""

    def __init__(self, context: Path, top: Path, commit: str, prefix: str, git_paths: tuple[str, ...],
                 extras: list[str]) -> None:  # fmt: skip
        from layerwise.context import revcache

        self.top, self.commit, self.prefix, self.git_paths = top, commit, prefix, git_paths
        self.extra_paths = extras
        # (stamped before git reads anything: a change after that is seen by the next run)
        self.key = revcache.gitkey(top, prefix, git_paths)
        self.extras = revcache.extra_stamps(top, prefix, extras)
        self.record = revcache.lookup(context, top, commit, prefix, self.key)
        if self.record is not None:
            from layerwise.context.snapshot import cache_token

            if self.record["token"] != cache_token(context):
                # another command rewrote the stat cache since: git's full diff, beside the walk
                # (not after it, as when the record fails only once the walk is done)
                self.record = None
        self._scheduled = None

    @classmethod
    def make(cls, context: Path, rev: str, option: str, dockerfile: Path, builder: str) -> _RevisionPlan | None:
        try:
            top, commit = resolve_revision(context, rev, option)
        except StateError:
            return None  # (the error comes from revision_state, where it always did)
        dirs = git_dirs(context)  # (read with the revision, within a one_walk scope)
        if dirs is None:
            return None
        from layerwise.context.ignore import ignore_file_candidates

        real_top = top.resolve()
        extras = [os.path.relpath(os.path.realpath(c), real_top).replace(os.sep, "/")
                  for c in [*ignore_file_candidates(context, dockerfile, builder), dockerfile]]  # fmt: skip
        return cls(context, top, commit, _prefix_in(context, top), dirs[1], extras)

    def diff(self, snap, pending):
        """git's changed paths for this walk: from the record when it holds (asking git about
        the paths in question), else git's full diff (``pending``, or started now), recorded."""
        from layerwise.context import revcache

        if self.record is not None:
            from layerwise.context.revcache import extra_stamps

            extras = extra_stamps(self.top, self.prefix, self.extra_paths)
            try:
                known = revcache.known_diff(self.record, snap, self.top, self.commit, self.prefix, self.key, extras)
            except (StateError, TypeError, ValueError, AttributeError):
                known = None  # (a damaged record, or git failing on the paths: its full diff says why)
            if known is not None:
                # (recorded again if this run rewrites the stat cache: git's state for this walk)
                pending, self.extras = known, extras
            else:
                self.extras = extras
                self.key = revcache.gitkey(self.top, self.prefix, self.git_paths)
                pending = _PendingDiff(self.top, self.commit, self.prefix)
        if pending is None:
            return None
        self._scheduled = revcache.Pending(snap, self.top, self.commit, self.prefix, self.git_paths, self.key,
                                           self.extras, pending)  # fmt: skip
        records = getattr(_SCOPE, "records", None)
        if records is not None:
            records.append(self._scheduled)
        return pending

    def cancel(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancelled = True

    def write_now(self) -> None:
        """Outside a :func:`one_walk` scope: the record is written once git's diff is read."""
        if self._scheduled is not None and getattr(_SCOPE, "records", None) is None:
            self._scheduled.write()


def _same_ignore(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a.path == b.path and [(p.text, p.line) for p in a.patterns] == [(p.text, p.line) for p in b.patterns]


def _drop_emptied_dirs(top: Path, rev: str, prefix: str, files, candidates: set[str]) -> None:
    todo = sorted({d for d in candidates if d}, key=lambda d: -d.count("/"))
    seen: set[str] = set()
    while todo:
        d = todo.pop(0)
        if d in seen or d not in files or files[d].kind != "dir":
            continue
        seen.add(d)
        if files.has_below(d) if isinstance(files, ContextFiles) else any(p.startswith(d + "/") for p in files):
            continue
        in_rev = _git(top, "ls-tree", "--full-tree", "--name-only", rev, "--", prefix + d)
        if not in_rev.strip():
            files.pop(d, None)
            parent = posixpath.dirname(d)
            if parent:
                todo.append(parent)
                todo.sort(key=lambda x: -x.count("/"))


def _dockerfile_in(context: Path, dockerfile: str | None, base: Path) -> Path:
    """The Dockerfile of a state rooted at ``context`` (``-f`` is relative to the cwd)."""
    if dockerfile is None:
        return context / "Dockerfile"
    df = Path(dockerfile)
    if context == base:
        return df
    # the same Dockerfile, relative to the other folder
    try:
        rel = df.resolve().relative_to(base.resolve())
    except ValueError:
        return df
    return context / rel


#: the walks of the current :func:`one_walk` scope, per thread (``walks`` unset outside one:
#: every call walks)
_SCOPE = threading.local()
#: (``resolved``: the commits revisions name, within that scope; outside it git is asked each time)


@contextlib.contextmanager
def one_walk(keep: dict | None = None):
    """Within this scope a folder is walked once, however many states read it (the worktree
    is both a state and the base of a revision's state). Outside it every load walks again,
    so a long-running process (the language server) never sees a stale tree, unless it passes
    ``keep``: a dict it holds on to, where the walks are kept for the next scopes given the
    same dict (the caller empties it when a file changes). The scope is per thread."""
    outer = getattr(_SCOPE, "walks", None)
    if outer is None:
        _SCOPE.walks = {} if keep is None else keep
        _SCOPE.resolved = {}  # never kept: a branch moves without a file changing
        _SCOPE.records = []
    try:
        yield
    finally:
        if outer is None:
            walked = _SCOPE.walks
            records = _SCOPE.records
            _SCOPE.walks = _SCOPE.resolved = _SCOPE.records = None
            for files, _ in list(walked.values()):
                files.save_cache()  # the digests computed meanwhile, for the next command
            for rec in records:
                rec.write()  # revisions' git state, for the stat cache as now written


def folder_files(context: Path, dockerfile: Path, builder: str) -> tuple[SnapshotFiles, object]:
    """The context files of a folder after .dockerignore, and the ignore file used."""
    from layerwise.context.ignore import load_ignore
    from layerwise.context.snapshot import Snapshot

    ignore = load_ignore(context, dockerfile, builder)
    # a build reads most of its context (COPY .): the stat cache's digests come with the walk
    snap = Snapshot.take(context, ignore, cached_digests=True)
    return snapshot_entries(snap), ignore


def _folder_files_once(context: Path, dockerfile: Path, builder: str) -> tuple[SnapshotFiles, object]:
    """``folder_files``, walked once per command (the worktree is both a state and the base
    of a revision's state)."""
    walks = getattr(_SCOPE, "walks", None)
    if walks is None:
        return folder_files(context, dockerfile, builder)
    return walked(walks, context, dockerfile, builder)


def walked(walks: dict, context: Path, dockerfile: Path, builder: str) -> tuple[SnapshotFiles, object]:
    """``folder_files``, from ``walks`` when this folder was walked for this Dockerfile and
    builder (kept there otherwise)."""
    key = (str(context.resolve()), str(dockerfile.resolve()), builder)
    got = walks.get(key)
    if got is None:
        got = walks[key] = folder_files(context, dockerfile, builder)
    return got


#: the context files of a snapshot (the name this module's callers know)
SnapshotFiles = ContextFiles


def snapshot_entries(snap) -> ContextFiles:
    return ContextFiles(snap)


def refuse_unreadable(files) -> None:
    """The legacy builder sends the whole context and stops on the first file or folder it
    cannot read ("error checking context: no permission to read from ...", checked on the
    engine): a located error for the first one."""
    snap = getattr(files, "_snap", None)
    if snap is None:
        return
    from layerwise.context.report import _with_unreadable_files

    for w in _with_unreadable_files(snap):
        if w.message.startswith("cannot read"):
            what = w.message.split(";")[0].split(":")[0]
            raise StateError(f"{what}: the legacy builder fails on it (it sends the whole context)",
                             Location(os.path.join(os.fspath(snap.root), w.path)))  # fmt: skip


def _sends_git_folder(context: Path, dockerfile: Path, builder: str) -> bool:
    """Whether the context holds the repository's .git folder and .dockerignore keeps it."""
    if not os.path.isdir(os.path.join(context, ".git")):
        return False
    from layerwise.context.ignore import load_ignore

    ignore = load_ignore(context, dockerfile, builder)
    return ignore is None or not ignore.excludes(".git")


def load_state(
    path: str, dockerfile: str | None, spec: str | None, *, builder: str, option: str = "--before"
) -> ProjectState:
    """A project state from ``spec``: None (the folder ``path``), a folder, or a git revision
    (``option`` names where ``spec`` came from, for messages)."""
    base = Path(path)
    if not base.is_dir():
        raise StateError("no such folder", Location(str(base)))
    if spec is not None and not spec.strip():
        # an unset CI variable ($BASE_SHA): never read as "." (the tree compared with itself)
        raise StateError(f"{option} is empty (an unset variable?): give a git revision or a folder")
    if spec is not None and os.path.exists(spec) and not os.path.isdir(spec):
        raise StateError(f"{option}: a file, not a folder or a git revision", Location(spec))
    if spec is None or Path(spec).is_dir():
        context = base if spec is None else Path(spec)
        df = _dockerfile_in(context, dockerfile, base)
        from layerwise.parse.parser import read_dockerfile

        if not df.exists():
            raise StateError("no Dockerfile here (use -f to name it)", Location(str(df)))
        text = read_dockerfile(df)  # a located error for a folder or FIFO, before the walk
        files, _ = _folder_files_once(context, df, builder)
        if builder == "legacy":
            refuse_unreadable(files)
        return ProjectState(str(context) if spec else "the working tree", text, str(df), files)
    df = _dockerfile_in(base, dockerfile, base)
    plan = _RevisionPlan.make(base, spec, option, df, builder)
    # without a record of this revision's git state, git stats the tree while we walk it;
    # unless the walk sends .git: git diff writes .git/index.lock as it refreshes the index,
    # and a walk running beside it would see that file (then git runs after the walk)
    needs_diff = plan is None or plan.record is None
    pending = start_diff(base, spec, option) if needs_diff and not _sends_git_folder(base, df, builder) else None
    try:
        files, ignore = _folder_files_once(base, df, builder)
    except BaseException:
        if pending is not None:
            pending.proc.kill()
            pending.proc.communicate()
        raise
    if needs_diff and pending is None:
        pending = start_diff(base, spec, option)
    snap = getattr(files, "_snap", None)
    if plan is not None and snap is not None:
        pending = plan.diff(snap, pending)
    rev_ignore = revision_ignore(base, spec, df, builder, option, diff=pending)
    if not _same_ignore(rev_ignore, ignore):
        # the revision's .dockerignore, not the tree's: what its build sent (walked again)
        from layerwise.context.snapshot import Snapshot

        if pending is not None and pending.proc is None:
            # (git's state from a record covers the files walked with the tree's ignore file only)
            pending = start_diff(base, spec, option)
        if plan is not None:
            plan.cancel()
        files, ignore = snapshot_entries(Snapshot.take(base, rev_ignore)), rev_ignore

    def excluded(rel: str) -> bool:
        return ignore is not None and ignore.excludes(rel)

    if builder == "legacy":
        refuse_unreadable(files)
    state = revision_state(base, spec, files, df, excluded, option, diff=pending)
    if plan is not None:
        plan.write_now()
    return state
