"""Finding and loading the CI files of a repository."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.ci.model import CiProject

WORKFLOWS = os.path.join(".github", "workflows")
GITLAB = ".gitlab-ci.yml"


def repository_root(start: str | os.PathLike[str]) -> str:
    """The repository around ``start`` (the nearest folder with ``.git``), else ``start``."""
    from layerwise import safefs

    return safefs.project_root(start)


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


def display_path(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path


def file_key(path: str) -> str:
    """How a CI file is named in an ``overlay`` (the fix loop's texts not yet written)."""
    return os.path.normcase(os.path.abspath(path))


def load_ci(start: str | os.PathLike[str], overlay: dict[str, str] | None = None) -> CiProject:
    """Every image build of the CI files of the repository around ``start``. ``overlay`` maps
    :func:`file_key` s to texts that replace the files' (a fix not yet written). Files are read
    confined to the repository (:mod:`layerwise.safefs`: no link out, no FIFO, bounded)."""
    from layerwise import safefs
    from layerwise.ci.model import CiError, CiProject
    from layerwise.ci.yamlfile import MAX_BYTES, YamlFile

    root = repository_root(start)
    project = CiProject(root)
    for rel in ci_files(root):
        full = os.path.join(root, rel)
        shown = display_path(full)
        text = (overlay or {}).get(file_key(full))
        if text is None:
            try:
                data = safefs.read_bytes(rel, root=root, limit=MAX_BYTES, display=shown)
            except safefs.FileTooLarge:
                project.errors.append(CiError(shown, 1, 1, f"CI file larger than {MAX_BYTES >> 20} MiB: not analysed"))
                continue
            except safefs.FileAccessError as exc:
                project.errors.append(CiError(shown, 1, 1, exc.message))
                continue
            text = data.decode("utf-8", "surrogateescape")
        f = YamlFile(shown, text)
        err = f.load()
        if err is not None:
            project.errors.append(err)
            continue
        project.files.append(shown)
        project.texts[shown] = text
        if rel == GITLAB:  # (the parsers are imported only when there is such a file)
            from layerwise.ci.gitlab import parse_gitlab as parse
        else:
            from layerwise.ci.github import parse_workflow as parse
        try:
            project.builds += parse(f, shown)
        except RecursionError:
            project.errors.append(CiError(shown, 1, 1, "nested too deeply: not analysed"))
    for b in project.builds:
        if b.dockerfile is not None and not os.path.isfile(os.path.join(root, b.dockerfile)):
            project.errors.append(CiError(b.path, b.pos.line, b.pos.column,
                                          f"this build's Dockerfile {b.dockerfile} does not exist in the repository"))  # fmt: skip
    return project
