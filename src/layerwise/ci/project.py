"""Finding and loading the CI files of a repository."""

from __future__ import annotations

import os
import stat

from layerwise.ci.model import CiError, CiProject
from layerwise.ci.yamlfile import MAX_BYTES, YamlFile

WORKFLOWS = os.path.join(".github", "workflows")
GITLAB = ".gitlab-ci.yml"


def repository_root(start: str | os.PathLike[str]) -> str:
    """The repository around ``start`` (the nearest folder with ``.git``), else ``start``."""
    d = os.path.abspath(start)
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        up = os.path.dirname(d)
        if up == d:
            return os.path.abspath(start)
        d = up


def ci_files(root: str) -> list[str]:
    """Repository-relative paths of the CI files (workflows in name order, then GitLab's)."""
    out = []
    wf = os.path.join(root, WORKFLOWS)
    try:
        names = sorted(os.listdir(wf)) if not os.path.islink(wf) and os.path.isdir(wf) else []
    except OSError:
        names = []
    out += [os.path.join(WORKFLOWS, n) for n in names if n.endswith((".yml", ".yaml"))]
    if os.path.lexists(os.path.join(root, GITLAB)):
        out.append(GITLAB)
    return out


def _read(path: str) -> str:
    """A regular file's text, never through a symlink, never blocking, at most MAX_BYTES + 1."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks).decode("utf-8", "surrogateescape")
    finally:
        os.close(fd)


def display_path(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path


def load_ci(start: str | os.PathLike[str]) -> CiProject:
    """Every image build of the CI files of the repository around ``start``."""
    from layerwise.ci.github import parse_workflow
    from layerwise.ci.gitlab import parse_gitlab

    root = repository_root(start)
    project = CiProject(root)
    for rel in ci_files(root):
        full = os.path.join(root, rel)
        shown = display_path(full)
        try:
            text = _read(full)
        except OSError as exc:
            project.errors.append(CiError(shown, 1, 1, f"cannot read: {exc.strerror or exc}"))
            continue
        f = YamlFile(shown, text)
        err = f.load()
        if err is not None:
            project.errors.append(err)
            continue
        project.files.append(shown)
        project.texts[shown] = text
        parse = parse_gitlab if rel == GITLAB else parse_workflow
        try:
            project.builds += parse(f, shown)
        except RecursionError:
            project.errors.append(CiError(shown, 1, 1, "nested too deeply: not analysed"))
    return project
