"""The build context layerwise computes equals what the engine puts in the image.

A tree full of traps (nested ``__pycache__`` that root-only patterns miss, exceptions below
excluded folders, dotfiles, symlinks, a dangling symlink, empty folders, names with spaces and
non-ASCII) is built with ``COPY . /ctx``; the listing of /ctx inside the image must equal the
snapshot's entries, with both builders (each reads its own ignore file)."""

from __future__ import annotations

import os

import pytest

from layerwise.context.ignore import load_ignore
from layerwise.context.snapshot import Snapshot

pytestmark = pytest.mark.engine

IGNORE = """\
# the article's patterns: root only
*.pyc
__pycache__/
docs
!docs/keep.md
**/*.log
!important.log
.secret*
build/
!build/keep/
"""

FILES = {
    "app.py": "print('hi')\n",
    "a.pyc": "root bytecode\n",
    "pkg/mod.py": "x = 1\n",
    "pkg/b.pyc": "nested bytecode, missed by *.pyc\n",
    "pkg/__pycache__/mod.cpython-311.pyc": "missed by __pycache__/\n",
    "__pycache__/x.cpython-311.pyc": "root pycache\n",
    "docs/keep.md": "kept by the exception\n",
    "docs/drop.md": "excluded\n",
    "docs/deep/also.md": "excluded\n",
    "logs/x.log": "excluded by **/*.log\n",
    "important.log": "re-included\n",
    ".hidden": "dotfile\n",
    ".secret.env": "TOKEN=1\n",
    "name with spaces.txt": "spaces\n",
    "ünïcödé/ñame.py": "non-ascii\n",
    "build/keep/a.txt": "re-included folder\n",
    "build/other.txt": "excluded\n",
}


def make_tree(root):
    for rel, text in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    (root / "empty").mkdir()
    (root / "pkg" / "empty-too").mkdir()
    os.symlink("app.py", root / "link.py")
    os.symlink("does/not/exist", root / "dangling")
    os.symlink("pkg", root / "pkglink")
    (root / ".dockerignore").write_text(IGNORE)
    (root / "Dockerfile").write_text(
        "FROM busybox\nCOPY . /ctx\nRUN cd /ctx && find . -mindepth 1 | sed 's|^./||' | sort > /listing\n"
    )


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_context_equals_image(engine, tmp_path, image_tag, builder):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    make_tree(ctx)
    snap = Snapshot.take(ctx, load_ignore(ctx, ctx / "Dockerfile", builder), use_cache=False)
    predicted = sorted(e.path for e in snap.entries)
    tag = image_tag()
    r = engine.build(ctx, builder=builder, tag=tag)
    assert r.ok, r.log
    out = engine.run(tag, ["cat", "/listing"], detach=False, network=None)
    assert out.returncode == 0, out.stderr
    in_image = sorted(line for line in out.stdout.splitlines() if line)
    assert predicted == in_image
    # the traps did what the article's .dockerignore does not expect
    assert "pkg/__pycache__/mod.cpython-311.pyc" in in_image and "a.pyc" not in in_image
    assert "docs/keep.md" in in_image and "docs/drop.md" not in in_image
    assert "build/keep/a.txt" in in_image and "build/other.txt" not in in_image
    assert "empty" in in_image and "dangling" in in_image and "ünïcödé/ñame.py" in in_image
