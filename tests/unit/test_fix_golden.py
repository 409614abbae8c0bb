"""``layerwise fix`` output pinned byte for byte (golden files in ``data/fix_golden/``).

* ``corpus.txt``: the diff, the fixes applied and the hints of ``fix`` on each of the real
  Dockerfiles of tests/data/corpus (Dockerfile only, no build context), default options (always
  the in-repo copy, whatever LAYERWISE_SHARED says);
* ``corpus-options.txt``: digests of the same with ``--cache-mount``, ``--no-cache-dir`` and
  some ``--select``/``--ignore`` sets (a line a file, a column an option set: small, but any
  change shows);
* ``projects.txt``: the Dockerfile diff, a digest of the ``.dockerignore`` diff, and the fixes
  of ``fix`` on the bundled examples and on the engine-proven projects of
  ``tests/engine/fix_projects``.

A change to what ``fix`` writes fails here. When the change is intended, regenerate the files
and review their diff: ``.venv/bin/python -m tests.unit.test_fix_golden``.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

import pytest

import layerwise
from layerwise.errors import LayerwiseError
from layerwise.fixes import fix_dockerfile_text, fix_project
from layerwise.fixes.edits import unified_diff
from tests.shared import DATA as TEST_DATA

DATA = Path(__file__).parent / "data" / "fix_golden"
REPO = Path(__file__).resolve().parents[2]
CORPUS = TEST_DATA / "corpus" / "files"
PROJECTS = [Path(layerwise.__file__).parent / "examples" / name for name in ("flask-demo", "data-api")] + sorted(
    p / "project" for p in (REPO / "tests" / "engine" / "fix_projects").iterdir() if (p / "project").is_dir()
)
# (name, fix_dockerfile_text keywords) for corpus-options.txt
OPTIONS = [
    ("cache-mount", {"cache_mount": True}),
    ("no-cache-dir", {"cache_mount": False}),
    ("select=LW2", {"select": {"LW2"}}),
    ("select=LW502", {"select": {"LW502"}}),
    ("select=LW204", {"select": {"LW204"}}),
    ("ignore=LW101", {"ignore": {"LW101"}}),
    ("ignore=LW101,cache-mount", {"ignore": {"LW101"}, "cache_mount": True}),
    ("ignore=LW201", {"ignore": {"LW201"}}),
    ("select=LW2,ignore=LW201", {"select": {"LW2"}, "ignore": {"LW201"}}),
]


def _fix_report(name: str, text: str, **options) -> str:
    try:
        out, applied, hints = fix_dockerfile_text(text, name, None, **options)
    except LayerwiseError as exc:
        return f"error: {exc}\n"
    lines = [unified_diff(name, text, out)]
    lines += [f"applied: {f.code} {f.safety} {f.line}: {f.message}\n" for f in applied]
    lines += [f"hint: {f.code} {f.line}: {f.message}\n" for f in hints]
    return "".join(lines)


def _corpus_files() -> list[Path]:
    return sorted(CORPUS.iterdir())


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


def render_corpus() -> str:
    return "".join(f"=== {p.name}\n{_fix_report(p.name, _read(p))}" for p in _corpus_files())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def render_corpus_options() -> str:
    out = ["file " + " ".join(label for label, _ in OPTIONS) + "\n"]
    for p in _corpus_files():
        text = _read(p)
        out.append(" ".join([p.name[:3]] + [_digest(_fix_report(p.name, text, **options)) for _, options in OPTIONS]) + "\n")
    return "".join(out)


def render_projects() -> str:
    out = []
    for root in PROJECTS:
        name = root.parent.name if root.name == "project" else root.name
        result = fix_project(root, root / "Dockerfile")
        out.append(f"=== {name}\n{unified_diff('Dockerfile', result.original, result.dockerfile)}")
        if result.dockerignore is not None:
            ignore = unified_diff(".dockerignore", result.dockerignore_original or "", result.dockerignore)
            out.append(f".dockerignore diff: {len(ignore.splitlines())} lines, sha256 {_digest(ignore)}\n")
        out += [f"applied: {f.code} {f.safety} {f.line}: {f.message}\n" for f in result.applied]
        out += [f"hint: {f.code} {f.line}: {f.message}\n" for f in result.hints]
    return "".join(out)


GOLDEN = {"corpus.txt": render_corpus, "corpus-options.txt": render_corpus_options, "projects.txt": render_projects}


def _compare(name: str) -> None:
    want = (DATA / name).read_text(encoding="utf-8", errors="surrogateescape")
    got = GOLDEN[name]()
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), f"golden/{name}", "now", n=2))
        pytest.fail(f"`layerwise fix` output changed ({name}); if intended, regenerate with "
                    f"`python -m tests.unit.test_fix_golden` and review:\n{diff[:20000]}")  # fmt: skip


@pytest.mark.parametrize("name", ["corpus.txt", pytest.param("corpus-options.txt", marks=pytest.mark.slow)])
def test_corpus_fix_output_is_unchanged(name):
    _compare(name)


def test_projects_fix_output_is_unchanged():
    _compare("projects.txt")


if __name__ == "__main__":  # regenerate: python -m tests.unit.test_fix_golden
    DATA.mkdir(parents=True, exist_ok=True)
    for name, render in GOLDEN.items():
        (DATA / name).write_text(render(), encoding="utf-8", errors="surrogateescape")
        print(f"wrote {DATA / name}")
