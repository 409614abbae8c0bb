"""What a build context sends, and what of it is junk or secret: the data behind
``layerwise context``.

:func:`build_report` takes a :class:`~layerwise.context.snapshot.Snapshot` (and, once the
Dockerfile analysis provides them, the ``COPY``/``ADD`` sources) and returns a
:class:`ContextReport`; :func:`render_text` and :func:`render_json` only present it.
"""

from __future__ import annotations

import bisect
import fnmatch
import io
import os
import re
from collections.abc import Iterator, Sequence

from layerwise.context.ignore import IgnorePattern, PatternMatcher
from layerwise.context.junknames import JUNK_ANYWHERE
from layerwise.context.snapshot import DIR, FILE, OTHER, Entry, Snapshot, SnapshotWarning
from layerwise.errors import LayerwiseError, Location
from layerwise.records import Frozen, Record

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from typing import TextIO


try:  # json's own C string escaper (json.encoder.encode_basestring_ascii), without importing json
    from _json import encode_basestring_ascii as _ascii_json_str
except ImportError:  # a Python without the C module
    from json.encoder import encode_basestring_ascii as _ascii_json_str

__all__ = [
    "ContextReport",
    "CopySource",
    "ExcludedByPattern",
    "FolderSize",
    "JunkFinding",
    "RootOnlyPattern",
    "SecretFinding",
    "build_report",
    "render_json",
    "render_text",
]


# The report's records are written out (layerwise.records): a dataclass would be built at
# every start-up of a ``check`` (its context rules read this report).


class CopySource(Frozen):
    """One source of a ``COPY``/``ADD`` from the build context, and where the instruction is."""

    __slots__ = _fields = ("src", "location")

    def __init__(self, src: str, location: Location | None = None) -> None:
        self._init(src, location)

    def __str__(self) -> str:
        return f"{self.location}: {self.src}" if self.location else self.src


class FolderSize(Frozen):
    __slots__ = _fields = ("path", "files", "size")

    def __init__(self, path: str, files: int, size: int) -> None:
        # path: "" for the files directly at the context root
        self._init(path, files, size)


class JunkFinding(Frozen):
    """Python/tooling junk that is sent: ``what`` names the kind (e.g. ``__pycache__``)."""

    __slots__ = _fields = ("what", "paths", "files", "size", "suggestion")

    def __init__(self, what: str, paths: tuple[str, ...], files: int, size: int, suggestion: str) -> None:
        # paths: the topmost junk folders or files
        # suggestion: a .dockerignore line that would exclude them
        self._init(what, paths, files, size, suggestion)


class SecretFinding(Frozen):
    __slots__ = _fields = ("path", "reason", "size", "copied_by")

    def __init__(self, path: str, reason: str, size: int, copied_by: tuple[CopySource, ...] = ()) -> None:
        # copied_by: filled when COPY sources are given
        self._init(path, reason, size, copied_by)


class RootOnlyPattern(Frozen):
    """An ignore pattern that only matches at the context root while matching paths exist
    deeper (``*.pyc`` leaves ``pkg/x.pyc`` in the context)."""

    __slots__ = _fields = ("pattern", "line", "files", "size", "examples", "suggestion")

    def __init__(self, pattern: str, line: int, files: int, size: int, examples: tuple[str, ...],
                 suggestion: str) -> None:  # fmt: skip
        self._init(pattern, line, files, size, examples, suggestion)


class ExcludedByPattern(Frozen):
    __slots__ = _fields = ("pattern", "line", "count", "size", "not_counted")

    def __init__(self, pattern: str, line: int, count: int | None, size: int | None, not_counted: int = 0) -> None:
        # count: None when the line excludes folders that were not walked (see ``not_counted``)
        # not_counted: excluded folders of this line whose contents were not counted
        self._init(pattern, line, count, size, not_counted)


class ContextReport(Record):
    _fields = ("root", "ignore_file", "sent_entries", "sent_files", "sent_size", "excluded_count", "excluded_files",
               "excluded_size", "excluded_by_pattern", "heaviest", "junk", "secrets", "root_only_patterns",
               "warnings", "copy_sources_checked", "snapshot", "excluded_not_counted")  # fmt: skip

    def __init__(self, root: str, ignore_file: str | None, sent_entries: int, sent_files: int, sent_size: int,
                 excluded_count: int | None, excluded_files: int | None, excluded_size: int | None,
                 excluded_by_pattern: list[ExcludedByPattern], heaviest: list[FolderSize], junk: list[JunkFinding],
                 secrets: list[SecretFinding], root_only_patterns: list[RootOnlyPattern],
                 warnings: list[SnapshotWarning], copy_sources_checked: bool = False,
                 snapshot: Snapshot | None = None, excluded_not_counted: int = 0) -> None:  # fmt: skip
        self.root = root
        self.ignore_file = ignore_file
        self.sent_entries = sent_entries
        self.sent_files = sent_files
        self.sent_size = sent_size
        #: None when excluded folders were not walked (``build_report(count_excluded=False)``):
        #: never a figure that leaves them out
        self.excluded_count = excluded_count
        self.excluded_files = excluded_files
        self.excluded_size = excluded_size
        self.excluded_by_pattern = excluded_by_pattern
        self.heaviest = heaviest
        self.junk = junk
        self.secrets = secrets
        self.root_only_patterns = root_only_patterns
        self.warnings = warnings
        self.copy_sources_checked = copy_sources_checked
        self.snapshot = snapshot  # (not in the repr)
        #: excluded folders whose contents were not walked, so not counted
        self.excluded_not_counted = excluded_not_counted

    def __repr__(self) -> str:
        return "ContextReport(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields if n != "snapshot") + ")"


# -- junk ------------------------------------------------------------------------------------

# folder name -> (label, suggested .dockerignore line)
_JUNK_DIRS: dict[str, tuple[str, str]] = {
    "__pycache__": ("__pycache__", "**/__pycache__"),
    ".venv": ("virtualenv", ".venv"),
    "venv": ("virtualenv", "venv"),
    ".pytest_cache": (".pytest_cache", "**/.pytest_cache"),
    ".mypy_cache": (".mypy_cache", "**/.mypy_cache"),
    ".ruff_cache": (".ruff_cache", "**/.ruff_cache"),
    ".pytype": (".pytype", ".pytype"),
    ".hypothesis": (".hypothesis", "**/.hypothesis"),
    ".tox": (".tox", ".tox"),
    ".nox": (".nox", ".nox"),
    ".git": (".git", ".git"),
    ".hg": (".hg", ".hg"),
    ".svn": (".svn", ".svn"),
    "dist": ("dist", "dist"),
    "build": ("build", "build"),
    ".eggs": (".eggs", ".eggs"),
    ".ipynb_checkpoints": (".ipynb_checkpoints", "**/.ipynb_checkpoints"),
    "htmlcov": ("htmlcov", "htmlcov"),
    "node_modules": ("node_modules", "**/node_modules"),
    ".idea": (".idea", ".idea"),
    ".vscode": (".vscode", ".vscode"),
}
# file-name glob -> (label, suggestion)
_JUNK_FILES: list[tuple[str, str, str]] = [
    ("*.pyc", "*.pyc files", "**/*.pyc"),
    ("*.pyo", "*.pyo files", "**/*.pyo"),
    (".coverage", ".coverage", "**/.coverage*"),
    (".coverage.*", ".coverage", "**/.coverage*"),
    (".DS_Store", ".DS_Store", "**/.DS_Store"),
]


#: build outputs that are junk only beside the Python project that builds them (elsewhere a
#: ``build`` folder may be the application's own files: generated templates, a frontend bundle)
_BUILD_OUTPUTS = frozenset({"build", "dist"})
_PY_PROJECT_FILES = frozenset({"setup.py", "setup.cfg", "pyproject.toml"})


def _junk_dir(entry: Entry, name: str, venvs: set[str], py_projects: set[str] | None = None) -> tuple[str, str] | None:
    if name in _BUILD_OUTPUTS and py_projects is not None and entry.path.rpartition("/")[0] not in py_projects:
        return None
    if name in _JUNK_DIRS:
        label, suggestion = _JUNK_DIRS[name]
        if "/" in entry.path and suggestion == name:
            suggestion = f"**/{name}"
        return label, suggestion
    if name.endswith(".egg-info"):
        return "*.egg-info", "**/*.egg-info"
    if entry.path in venvs:
        return "virtualenv", entry.path
    return None


# -- secrets ---------------------------------------------------------------------------------

_ENV_OK = (".example", ".sample", ".template", ".dist", ".defaults", ".default", ".tmpl")
_SECRET_NAMES: dict[str, str] = {
    ".env": "environment file (often holds credentials)",
    "id_rsa": "SSH private key",
    "id_dsa": "SSH private key",
    "id_ecdsa": "SSH private key",
    "id_ed25519": "SSH private key",
    ".pypirc": "PyPI upload credentials",
    ".netrc": "login credentials (netrc)",
    "_netrc": "login credentials (netrc)",
    ".npmrc": "npm registry token",
    ".git-credentials": "git credentials",
    ".dockercfg": "Docker registry credentials",
    ".htpasswd": "password hashes",
    ".vault-token": "Vault token",
    "credentials.json": "credentials file",
    "terraform.tfstate": "Terraform state (contains secrets)",
    "terraform.tfstate.backup": "Terraform state (contains secrets)",
    "kubeconfig": "Kubernetes credentials",
}
_SECRET_GLOBS: list[tuple[str, str]] = [
    ("*.pem", "PEM key or certificate"),
    ("*.key", "private key"),
    ("*.p12", "PKCS#12 key store"),
    ("*.pfx", "PKCS#12 key store"),
    ("*.jks", "Java key store"),
    ("*.keystore", "key store"),
    ("*.kdbx", "KeePass database"),
    ("*service-account*.json", "cloud service-account key"),
    ("*serviceaccount*.json", "cloud service-account key"),
    ("secrets.y*ml", "secrets file"),
    ("secrets.json", "secrets file"),
    ("*.tfvars", "Terraform variables (often secrets)"),
]
_SECRET_DIRS: dict[str, str] = {
    ".aws": "AWS credentials folder",
    ".ssh": "SSH keys folder",
    ".gnupg": "GnuPG keys folder",
    ".kube": "Kubernetes credentials folder",
    ".docker": "Docker client config (registry credentials)",
    ".azure": "Azure credentials folder",
    "gcloud": "Google Cloud credentials folder",
}


def _first_glob(globs: list[str]):
    """One regex for a list of file-name globs: ``match(name).lastindex - 1`` is the index of
    the first glob that matches (as ``fnmatch.fnmatchcase`` tried in order), no match: None.
    Compiled on the first name asked about: only names that pass the literal gates below are
    (a small project has none, and its ``check`` does not compile these alternations)."""
    pattern = "|".join(f"({fnmatch.translate(g)})" for g in globs)
    compiled = None

    def match(name: str):
        nonlocal compiled
        if compiled is None:
            compiled = re.compile(pattern).match
        return compiled(name)

    return match


_SECRET_GLOB = _first_glob([g for g, _ in _SECRET_GLOBS])
_JUNK_FILE_GLOB = _first_glob([g for g, _, _ in _JUNK_FILES])


def _heads_tails(globs: list[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """What a name matching one of ``globs`` starts or ends with, or holds (most names none of
    them, so no regex runs on them): each glob's longest literal part: its tail (after its last
    ``*``), its head (before its first: ``secrets.y*ml``: ``secrets.y``, not ``ml``), or a part
    between two ``*`` (``*service-account*.json``: ``service-account``, not ``.json``, which
    every JSON file ends with)."""
    heads, tails, middles = [], [], []
    for g in globs:
        parts = g.split("*")
        assert not any(c in "".join(parts) for c in "?["), g  # literal parts only
        if len(parts) == 1:
            tails.append(g)
            continue
        head, tail, inner = parts[0], parts[-1], parts[1:-1]
        longest = max([head, tail, *inner], key=len)
        if len(tail) >= len(head) and len(tail) >= len(longest):  # ties: the tail
            tails.append(tail)
        elif len(head) >= len(longest):
            heads.append(head)
        else:
            middles.append(longest)
    return tuple(heads), tuple(tails), tuple(middles)


_SECRET_HEADS, _SECRET_TAILS, _SECRET_MIDDLES = _heads_tails([g for g, _ in _SECRET_GLOBS])
_JUNK_HEADS, _JUNK_TAILS, _JUNK_MIDDLES = _heads_tails([g for g, _, _ in _JUNK_FILES])


def _secret_maybe(lower: str) -> bool:
    return (lower.endswith(_SECRET_TAILS) or lower.startswith(_SECRET_HEADS)
            or any(m in lower for m in _SECRET_MIDDLES))  # fmt: skip


def _junk_file_maybe(name: str) -> bool:
    return name.endswith(_JUNK_TAILS) or name.startswith(_JUNK_HEADS) or any(m in name for m in _JUNK_MIDDLES)


def _secret_reason(entry: Entry, name: str) -> str | None:
    if entry.kind == DIR:
        return _SECRET_DIRS.get(name)
    if entry.kind != FILE:
        return None
    if name in _SECRET_NAMES:
        return _SECRET_NAMES[name]
    if name.startswith(".env.") and not name.endswith(_ENV_OK):
        return "environment file (often holds credentials)"
    lower = name.lower()
    if not _secret_maybe(lower):
        return None
    m = _SECRET_GLOB(lower)
    return _SECRET_GLOBS[m.lastindex - 1][1] if m else None


# -- the report --------------------------------------------------------------------------------


def build_report(
    snapshot: Snapshot,
    copy_sources: Sequence[CopySource] | None = None,
    *,
    heaviest: int = 10,
    count_excluded: bool = False,
) -> ContextReport:
    """Summarise ``snapshot``. With ``copy_sources`` (the context sources of the Dockerfile's
    COPY/ADD instructions), each secret lists the instructions that copy it into the image.

    Folders the ignore file excludes are walked (to count their entries and bytes) only with
    ``count_excluded``; otherwise the excluded figures that would need them are None and
    ``excluded_not_counted`` says how many folders were left unwalked (#17).

    One pass over the entries (#17) sums the sizes and notes the few entries each finding needs
    (junk, secret and root-only-pattern candidates, files not readable by all); the findings
    are then made from those few, in path order, as if each were a pass of its own."""
    entries = snapshot.entries
    paths = snapshot.paths
    ignore = snapshot.ignore
    root_only = _RootOnlyCandidates(ignore)

    exact, tails, heads, middles = _name_gate(root_only)
    one_pass = _report_pass if type(entries) is list and type(paths) is list else _report_pass_py
    sent_files, sent_size, top, candidates, not_all_readable = one_pass(
        entries, paths, FILE, exact, tails, heads, middles
    )

    # the candidates, as each finding sees names
    venvs: set[str] = set()
    py_projects: set[str] = set()
    junk_candidates: list[int] = []  # junk-named folders, junk files
    secret_candidates: list[int] = []
    root_only_found: list[int] = []
    exact_root_only = root_only.exact
    glob_heads, glob_tails = root_only.heads, root_only.tails
    any_glob = bool(glob_heads or glob_tails)
    for i in candidates:
        e = entries[i]
        path = paths[i]
        name = path[path.rfind("/") + 1 :]
        kind = e.kind
        if kind == FILE:
            if _junk_file_maybe(name):
                junk_candidates.append(i)
            if name in _SECRET_NAMES or name.startswith(".env.") or _secret_maybe(name.lower()):
                secret_candidates.append(i)
        elif kind == DIR:
            if name in _JUNK_DIRS or name.endswith(".egg-info"):
                junk_candidates.append(i)
            if name in _SECRET_DIRS:
                secret_candidates.append(i)
        if name == "pyvenv.cfg":
            if "/" in path:
                venvs.add(path[: -len(name) - 1])
        elif name in _PY_PROJECT_FILES:
            py_projects.add(path[: -len(name) - 1] if "/" in path else "")
        if name in exact_root_only or (any_glob and (name.endswith(glob_tails) or name.startswith(glob_heads))):
            root_only_found.append(i)
    folders = sorted(
        (FolderSize(p, c, s) for p, (c, s) in top.items()), key=lambda f: (-f.size, f.path)
    )[:heaviest]

    # junk: topmost junk folders (by name, or a virtualenv by its pyvenv.cfg), then junk files
    # outside them
    for v in venvs:
        j = bisect.bisect_left(paths, v)
        if j < len(paths) and paths[j] == v:
            junk_candidates.append(j)
    if venvs:
        junk_candidates = sorted(set(junk_candidates))
    groups: dict[str, list] = {}
    covered: list[str] = []  # junk folder prefixes already counted
    for i in junk_candidates:
        e = entries[i]
        path = paths[i]
        if covered and _under_any(path, covered):
            continue
        name = path[path.rfind("/") + 1 :]
        if e.kind == DIR:
            hit = _junk_dir(e, name, venvs, py_projects)
            if hit is not None:
                label, suggestion = hit
                files, size = _subtree_totals(entries, paths, path)
                g = groups.setdefault(label, [[], 0, 0, set()])
                g[0].append(path)
                g[1] += files
                g[2] += size
                g[3].add(suggestion)
                covered.append(path + "/")
                covered.sort()
            continue
        if e.kind == FILE:
            m = _JUNK_FILE_GLOB(name)
            if m:
                _glob, label, suggestion = _JUNK_FILES[m.lastindex - 1]
                g = groups.setdefault(label, [[], 0, 0, set()])
                g[0].append(path)
                g[1] += 1
                g[2] += e.size
                g[3].add(suggestion)
    junk = sorted(
        (
            JunkFinding(label, tuple(g[0]), g[1], g[2], ", ".join(sorted(g[3])))
            for label, g in groups.items()
        ),
        key=lambda j: (-j.size, j.what),
    )

    # secrets
    secrets: list[SecretFinding] = []
    secret_dirs: list[str] = []
    for i in secret_candidates:
        e = entries[i]
        path = paths[i]
        if secret_dirs and _under_any(path, secret_dirs):
            continue
        reason = _secret_reason(e, path[path.rfind("/") + 1 :])
        if reason is None:
            continue
        if e.kind != DIR:
            from layerwise.context.secretfiles import holds_secret  # (only for a name that looks like one)

            if not holds_secret(snapshot.root, path):
                continue  # named like a secret, but its text holds none (a CA bundle, a plain .npmrc)
        if e.kind == DIR:
            size = _subtree_totals(entries, paths, path)[1]
            secret_dirs.append(path + "/")
            secret_dirs.sort()
        else:
            size = e.size
        secrets.append(SecretFinding(path, reason, size))
    if copy_sources is not None and secrets:  # (no selection to make without secrets)
        selections = _selections(snapshot, copy_sources)
        secrets = [
            SecretFinding(s.path, s.reason, s.size, _copied_by(s.path, selections)) for s in secrets
        ]

    excluded = snapshot.excluded
    counted = count_excluded or not excluded.not_counted
    excluded_by = []
    if ignore is not None:
        if counted:
            by_line, not_walked = excluded.by_line, {}
        else:
            by_line, not_walked = excluded.partial_by_line()
        for ip in ignore.patterns:
            if ip.line in not_walked:
                excluded_by.append(ExcludedByPattern(ip.text, ip.line, None, None, not_walked[ip.line]))
            elif ip.line in by_line:
                c, sz = by_line[ip.line]
                excluded_by.append(ExcludedByPattern(ip.text, ip.line, c, sz))

    return ContextReport(
        root=str(snapshot.root),
        ignore_file=str(ignore.path) if ignore is not None and ignore.path is not None else None,
        sent_entries=len(entries),
        sent_files=sent_files,
        sent_size=sent_size,
        excluded_count=excluded.count if counted else None,
        excluded_files=excluded.files if counted else None,
        excluded_size=excluded.size if counted else None,
        excluded_not_counted=0 if counted else excluded.not_counted,
        excluded_by_pattern=excluded_by,
        heaviest=folders,
        junk=junk,
        secrets=secrets,
        root_only_patterns=_root_only_patterns(snapshot, root_only, root_only_found),
        warnings=_with_unreadable_files(snapshot, not_all_readable),
        copy_sources_checked=copy_sources is not None,
        snapshot=snapshot,
    )


def _report_pass_py(
    entries: Sequence[Entry], paths: Sequence[str], file_kind: str, exact: frozenset[str], tails: tuple[str, ...],
    heads: tuple[str, ...], middles: tuple[str, ...],
) -> tuple[int, int, dict[str, list[int]], list[int], list[int]]:
    """The one pass of :func:`build_report` over the entries: files sent and their bytes, per
    top folder ``[files, bytes]`` ("" for the root's files), the indices of the entries whose
    name may matter to a finding (in ``exact``, or in lower case ending with one of ``tails``,
    starting with one of ``heads`` or holding one of ``middles``: :func:`_name_gate`), and of
    the files not readable by all.
    ``_fastscan.report_pass`` is its C twin (tests compare them)."""
    sent_files = 0
    sent_size = 0
    top: dict[str, list[int]] = {}  # top folder ("" for the root's files) -> [files, bytes]
    group, top_prefix = "", "/"  # the current top folder and its "name/" ("/" matches no path)
    group_files = group_size = 0  # sent_files and sent_size where the current group began
    candidates: list[int] = []  # entries whose names may matter to a finding (few)
    not_all_readable: list[int] = []
    i = -1
    for e, path in zip(entries, paths):
        i += 1
        if e.kind == file_kind:
            if not path.startswith(top_prefix):
                if sent_files != group_files:
                    slot = top.setdefault(group, [0, 0])
                    slot[0] += sent_files - group_files
                    slot[1] += sent_size - group_size
                group_files, group_size = sent_files, sent_size
                head, sep, _ = path.partition("/")
                group, top_prefix = (head, head + "/") if sep else ("", "/")
            sent_files += 1
            sent_size += e.size
            if not e.st_mode & 0o004:
                not_all_readable.append(i)
        name = path[path.rfind("/") + 1 :]
        if name in exact:
            candidates.append(i)
        else:
            lower = name.lower()
            if lower.endswith(tails) or lower.startswith(heads) or (middles and any(m in lower for m in middles)):
                candidates.append(i)
    if sent_files != group_files:
        slot = top.setdefault(group, [0, 0])
        slot[0] += sent_files - group_files
        slot[1] += sent_size - group_size
    return sent_files, sent_size, top, candidates, not_all_readable


def _native(name: str):
    """A function of the C accelerator (``_fastscan``), or None when it was not built, is
    older than its C source, or ``LAYERWISE_PURE_PYTHON`` is set (:mod:`.native`)."""
    from layerwise.context import native

    return native.function(name)


#: the one pass of build_report (C when built; tests replace it to compare both)
_report_pass = _native("report_pass") or _report_pass_py
#: ``",\n    ".join(_file_json(e) for e in entries[start:stop])`` in C, or None
_json_lines = _native("json_lines")


def _with_unreadable_files(snapshot: Snapshot, candidates: Sequence[int] | None = None) -> list[SnapshotWarning]:
    """The snapshot's warnings, and one for each file sent that this process cannot read (the
    walk lists files without opening them; ``docker build`` sends them as this user and fails
    on such a file). A file anyone may read is not opened; the others are, without blocking.
    ``candidates``: the indices of the files not readable by all, when already known."""
    warnings = list(snapshot.warnings)
    warned = {w.path for w in warnings}
    root = os.fspath(snapshot.root)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    found = False
    entries = snapshot.entries
    for e in entries if candidates is None else (entries[i] for i in candidates):
        if e.kind != FILE or e.mode & 0o004 or e.path in warned:
            continue
        try:
            os.close(os.open(os.path.join(root, e.path), flags))
        except PermissionError:
            warnings.append(SnapshotWarning(e.path, "cannot read file (permission denied): BuildKit sends it empty, the legacy builder fails on it"))
            found = True
        except OSError:
            pass  # vanished, replaced meanwhile: the next run says
    if found:
        warnings.sort(key=lambda w: w.path)
    return warnings


def _selections(snapshot: Snapshot, sources: Sequence[CopySource]) -> list[tuple[CopySource, set[str]]]:
    out = []
    for src in sources:
        try:
            selected = {e.path for e in snapshot.select(src.src)}
        except LayerwiseError:
            selected = set()
        out.append((src, selected))
    return out


def _copied_by(path: str, selections: list[tuple[CopySource, set[str]]]) -> tuple[CopySource, ...]:
    prefix = path + "/"
    return tuple(
        src for src, selected in selections if path in selected or any(p.startswith(prefix) for p in selected)
    )


def _subtree_totals(entries: list[Entry], paths: list[str], path: str) -> tuple[int, int]:
    """Files and bytes below the folder ``path``."""
    prefix = path + "/"
    i = bisect.bisect_left(paths, prefix)
    n = len(paths)
    files = size = 0
    while i < n and paths[i].startswith(prefix):
        e = entries[i]
        if e.kind == FILE:
            files += 1
            size += e.size
        i += 1
    return files, size


def _under_any(path: str, sorted_prefixes: list[str]) -> bool:
    i = bisect.bisect_right(sorted_prefixes, path)
    return i > 0 and path.startswith(sorted_prefixes[i - 1])


def _name_gate(
    root_only: _RootOnlyCandidates,
) -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """When some finding may concern a name (the one pass over the entries notes those; most
    names are none): the names the findings test as they are (junk and secret names, virtualenv
    and Python project files, root-only patterns without wildcards), and what the name, in
    lower case, ends with, starts with or holds for their other tests (lower-cased literal
    parts: tails, heads, middles). A test that holds for a name holds for these."""
    names = frozenset({
        *_SECRET_NAMES, *_JUNK_DIRS, *_SECRET_DIRS, "pyvenv.cfg", *_PY_PROJECT_FILES, *root_only.exact,
    })  # fmt: skip
    tails = {*_JUNK_TAILS, *_SECRET_TAILS, ".egg-info", *root_only.tails}
    heads = {*_JUNK_HEADS, *_SECRET_HEADS, ".env.", *root_only.heads}
    middles = {*_JUNK_MIDDLES, *_SECRET_MIDDLES}

    def lowered(parts: set[str]) -> tuple[str, ...]:
        return tuple(sorted({p.lower() for p in parts}))

    return names, lowered(tails), lowered(heads), lowered(middles)


class _RootOnlyCandidates:
    """The ignore patterns that only match at the root (``*.pyc``, ``__pycache__``: no ``/``,
    no leading ``**``) for a name that is junk in any folder (:mod:`~layerwise.context.junknames`),
    and what a name they may match deeper starts or ends with, so that the
    one pass over the entries notes the few names to try (#17). ``exact``: names such patterns
    match as they are; ``heads``/``tails``: of the globs whose only wildcard is ``*``; the
    other patterns (``?``, classes, ``**``) are tried on every entry (``scan``)."""

    def __init__(self, ignore) -> None:
        self.patterns: list = []
        self.scan: set[int] = set()  # indices in patterns tried on every entry
        exact, heads, tails = set(), [], []
        if ignore is not None:
            for p in ignore.matcher.patterns:
                if p.exclusion or "/" in p.cleaned or p.cleaned.startswith("**"):
                    continue
                if p.cleaned.rstrip("/") not in JUNK_ANYWHERE:
                    continue  # (``tests``, ``/static/``, ``*``: may mean the root only, as LW302 reads it)
                cleaned = p.cleaned
                self.patterns.append(p)
                if any(c in cleaned for c in "?[\\") or "**" in cleaned:
                    self.scan.add(len(self.patterns) - 1)
                elif "*" not in cleaned:
                    exact.add(cleaned)
                else:
                    head, tail = cleaned.partition("*")[0], cleaned.rpartition("*")[2]
                    if tail:
                        tails.append(tail)
                    else:
                        heads.append(head)  # "" when the glob is all stars: every name
        self.exact = frozenset(exact)
        self.heads, self.tails = tuple(heads), tuple(tails)


def _root_only_patterns(
    snapshot: Snapshot, candidates: _RootOnlyCandidates | None = None, found: Sequence[int] | None = None
) -> list[RootOnlyPattern]:
    """Patterns such as ``*.pyc`` or ``__pycache__`` (no ``/``, no leading ``**``) that only
    match at the root, while paths deeper in the context, still sent, match ``**/PATTERN``.
    ``found``: the indices of the entries whose names ``candidates`` may match (all when None)."""
    if candidates is None:
        candidates = _RootOnlyCandidates(snapshot.ignore)
    entries, paths = snapshot.entries, snapshot.paths
    out = []
    for k, p in enumerate(candidates.patterns):
        scope = None if (found is None or k in candidates.scan) else found
        hits = _deep_matches(entries, paths, scope, p.cleaned, p.source.line)
        if not hits:
            continue
        files = size = 0
        for e in hits:
            if e.kind == DIR:
                f, s = _subtree_totals(entries, paths, e.path)
                files += f
                size += s
            elif e.kind == FILE:
                files += 1
                size += e.size
        out.append(
            RootOnlyPattern(
                pattern=p.source.text,
                line=p.source.line,
                files=files,
                size=size,
                examples=tuple(e.path for e in hits[:3]),
                suggestion="**/" + p.cleaned,
            )
        )
    return out


def _deep_matches(
    entries: list[Entry], paths: list[str], scope: Sequence[int] | None, cleaned: str, line: int
) -> list[Entry]:
    """Topmost sent entries below the root that ``**/<cleaned>`` matches (``cleaned`` has no
    "/"), among the entries at the indices ``scope`` (all when None). Such a pattern matches a
    path when its last component matches ``cleaned``, unless ``cleaned`` holds a ``**`` or a
    class (which could span components): then the whole path is tried."""
    indices = range(len(entries)) if scope is None else scope
    if "**" in cleaned or "[" in cleaned:
        deep = PatternMatcher([IgnorePattern("**/" + cleaned, line)]).patterns[0]
        found = [i for i in indices if deep.match(paths[i])]
    else:
        match = PatternMatcher([IgnorePattern(cleaned, line)]).patterns[0].match
        found = [i for i in indices if match(paths[i][paths[i].rfind("/") + 1 :])]
    hits: list[Entry] = []
    prefixes: list[str] = []
    for i in found:
        e = entries[i]
        if "/" not in e.path:
            continue
        if prefixes and _under_any(e.path, prefixes):
            continue
        hits.append(e)
        if e.kind == DIR:
            prefixes.append(e.path + "/")
            prefixes.sort()
    return hits


# -- rendering -----------------------------------------------------------------------------------


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _shown(text: str) -> str:
    """A name as printed: names that are not UTF-8 (surrogate-escaped) with \\x escapes, control
    characters (ESC, CR...) escaped, never sent to the terminal, URL credentials masked."""
    from layerwise.escape import redact, terminal

    return terminal(redact(text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")))


def render_text(report: ContextReport, console=None) -> None:
    """Print the report with rich (styled on a terminal, plain text otherwise)."""
    from rich.console import Console
    from rich.markup import escape as _escape

    console = console or Console(highlight=False, soft_wrap=True)
    for line in _markup_lines(report, lambda text: _escape(_shown(text))):
        # emoji=False: ":100:" in "Dockerfile:100:1" (or a file name) is not an emoji code
        console.print(line, emoji=False)


#: the markup of _markup_lines' own text (names in it are escaped)
_TAGS = re.compile(r"\[/?(?:bold yellow|bold red|bold|yellow|cyan|green)\]")


def write_text_plain(report: ContextReport, out: TextIO) -> bool:
    """Write the text report as :func:`render_text` prints it to a file that is not a terminal,
    without colour, byte for byte, but without importing rich (#17: start-up). False, and
    nothing written, when a name holds what rich would render otherwise (``[``, a backslash, a
    tab, a line break): then :func:`render_text` is the one to use."""
    unsafe = False

    def escape(text: str) -> str:
        nonlocal unsafe
        shown = _shown(text)
        if "[" in shown or "\\" in shown or "\t" in shown or "\n" in shown:
            unsafe = True
        return shown

    markup = list(_markup_lines(report, escape))
    if unsafe:
        return False
    out.write("".join(_TAGS.sub("", line) + "\n" for line in markup))
    return True


def _markup_lines(report: ContextReport, escape) -> Iterator[str]:
    """The lines of the text report, in rich markup; ``escape`` shows a name in it."""
    p = _Lines()
    hs = human_size
    p(f"[bold]Build context[/bold] {escape(report.root)}")
    p(
        f"  sent: [bold]{_n(report.sent_files, 'file')}[/bold], {hs(report.sent_size)}"
        f" ({report.sent_entries:,} entries with folders and links)"
    )
    if report.ignore_file and report.excluded_count is None:
        not_walked = _n(report.excluded_not_counted, "folder")
        p(
            f"  ignore file: {escape(report.ignore_file)} — excluded {not_walked} whose contents are"
            " not counted (not walked; --count-excluded counts them), and the entries below"
        )
        for ex in report.excluded_by_pattern:
            if ex.count is None:
                what = f"{_n(ex.not_counted, 'folder')} not counted"
                p(f"    line {ex.line:<4} {escape(ex.pattern):<30} {what:>30}")
            else:
                p(f"    line {ex.line:<4} {escape(ex.pattern):<30} {ex.count:>9,} entries  {hs(ex.size):>10}")
    elif report.ignore_file:
        p(
            f"  ignore file: {escape(report.ignore_file)} — excluded {_n(report.excluded_count, 'entry').replace('entrys', 'entries')}"
            f" ({_n(report.excluded_files, 'file')}, {hs(report.excluded_size)})"
        )
        for ex in report.excluded_by_pattern:
            p(f"    line {ex.line:<4} {escape(ex.pattern):<30} {ex.count:>9,} entries  {hs(ex.size):>10}")
    else:
        p("  ignore file: [yellow]none[/yellow] — everything in the folder is sent")

    if report.heaviest:
        p("")
        p("[bold]Heaviest folders sent[/bold]")
        for f in report.heaviest:
            name = (f.path + "/") if f.path else "(files at the root)"
            p(f"  {hs(f.size):>10}  {_n(f.files, 'file'):>15}  {escape(name)}")

    p("")
    if report.junk:
        p("[bold yellow]Python and tooling junk sent[/bold yellow]")
        for j in report.junk:
            shown = ", ".join(j.paths[:3]) + (f", … (+{len(j.paths) - 3})" if len(j.paths) > 3 else "")
            p(f"  {hs(j.size):>10}  {_n(j.files, 'file'):>13}  {escape(j.what)}: {escape(shown)}")
            p(f"      add to .dockerignore: [cyan]{escape(j.suggestion)}[/cyan]")
    else:
        p("[green]No Python or tooling junk is sent.[/green]")

    p("")
    if report.secrets:
        p("[bold red]Files that look like secrets are sent[/bold red]")
        for s in report.secrets:
            line = f"  {escape(s.path)}  ({escape(s.reason)}, {hs(s.size)})"
            if report.copy_sources_checked:
                if s.copied_by:
                    line += " — copied into the image by " + ", ".join(escape(str(c)) for c in s.copied_by)
                else:
                    line += " — not copied by any COPY/ADD"
            p(line)
        p("      exclude them in the ignore file (and pass secrets with RUN --mount=type=secret)")
    else:
        p("[green]No files that look like secrets are sent.[/green]")

    if report.root_only_patterns:
        p("")
        p("[bold yellow]Ignore patterns that only match at the context root[/bold yellow]")
        for r in report.root_only_patterns:
            where = f"{report.ignore_file}:{r.line}" if report.ignore_file else f"pattern {r.line}"
            p(
                f"  {escape(where)}: {escape(r.pattern)} leaves {_n(r.files, 'file')} ({hs(r.size)}) deeper, "
                f"e.g. {escape(', '.join(r.examples))}"
            )
            p(f"      use [cyan]{escape(r.suggestion)}[/cyan]")

    if report.warnings:
        p("")
        p(f"[bold]Warnings ({len(report.warnings)})[/bold]")
        for w in report.warnings[:20]:
            p(f"  {escape(str(w))}")
        if len(report.warnings) > 20:
            p(f"  … and {len(report.warnings) - 20} more (see --format json)")

    yield from p.lines

class _Lines:
    """Collects the lines ``p(...)`` is called with (as ``console.print`` would print them)."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def report_dict(report: ContextReport, *, files: bool = True) -> dict:
    d = {
        "context": report.root,
        "ignore_file": report.ignore_file,
        "sent": {"entries": report.sent_entries, "files": report.sent_files, "size": report.sent_size},
        "excluded": {
            "entries": report.excluded_count,
            "files": report.excluded_files,
            "size": report.excluded_size,
            # folders not walked: entries/files/size are then null, never a partial figure
            "folders_not_counted": report.excluded_not_counted,
            "by_pattern": [vars_(x) for x in report.excluded_by_pattern],
        },
        "heaviest_folders": [vars_(f) for f in report.heaviest],
        "junk": [vars_(j) for j in report.junk],
        "secrets": [
            {
                "path": s.path,
                "reason": s.reason,
                "size": s.size,
                "copied_by": [
                    {"src": c.src, "location": str(c.location) if c.location else None} for c in s.copied_by
                ]
                if report.copy_sources_checked
                else None,
            }
            for s in report.secrets
        ],
        "root_only_patterns": [vars_(r) for r in report.root_only_patterns],
        "warnings": [{"path": w.path, "message": w.message} for w in report.warnings],
    }
    if files and report.snapshot is not None:
        d["files"] = [_file_dict(e) for e in report.snapshot.entries]
    return d


def _file_dict(e: Entry) -> dict:
    d = {
        "path": e.path,
        "type": e.kind,
        "mode": f"{e.mode:04o}",
        "size": e.size,
        "digest": ("sha256:" + e.hexdigest) if e.digest is not None else None,
    }
    if e.target is not None:
        d["target"] = e.target
    special = e.special
    if special:
        d["special"] = special
    return d


def _file_json(e: Entry, _str=_ascii_json_str) -> str:
    """``_file_dict(e)`` as ``json.JSONEncoder(ensure_ascii=True, separators=(", ", ": "))``
    encodes it, without the dict (#17: one line per entry of the context)."""
    rec = e.rec
    digest = f'"sha256:{rec[32:].hex()}"' if len(rec) == 64 else "null"
    line = (f'{{"path": {_str(e.path)}, "type": {_str(e.kind)}, "mode": "{e.st_mode & 0o7777:04o}", '
            f'"size": {int(e.size)}, "digest": {digest}')  # fmt: skip
    if e.target is not None:
        line += f', "target": {_str(e.target)}'
    if e.kind == OTHER:
        special = e.special
        if special:
            line += f', "special": {_str(special)}'
    return line + "}"


def vars_(obj: Record) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in obj.as_dict().items()}


def render_json(report: ContextReport) -> str:
    out = io.StringIO()
    write_json(report, out)
    return out.getvalue()


def write_json(report: ContextReport, out: TextIO) -> None:
    """The report as JSON, written piece by piece: the full file list (one compact object per
    line) is never held in memory as one string or as a list of dicts."""
    import json  # (here: a check, which builds the report, does not import json)

    head = json.dumps(report_dict(report, files=False), indent=2, ensure_ascii=True, default=str)
    if report.snapshot is None:
        out.write(head + "\n")
        return
    out.write(head[:-2] + ',\n  "files": [')
    entries = report.snapshot.entries
    if not entries:
        out.write("]\n}\n")
        return
    lines = _json_lines if _json_lines is not None and type(entries) is list else _json_lines_py
    sep = "\n    "
    for start in range(0, len(entries), _JSON_BATCH):
        out.write(sep + lines(entries, start, start + _JSON_BATCH, OTHER))
        sep = ",\n    "
    out.write("\n  ]\n}\n")


_JSON_BATCH = 8192  # entries a write (about 1.4 MB)


def _json_lines_py(entries: Sequence[Entry], start: int, stop: int, other_kind: str = OTHER) -> str:
    """The JSON lines of ``entries[start:stop]`` (the C twin: ``_fastscan.json_lines``)."""
    return ",\n    ".join(map(_file_json, entries[start:stop]))
