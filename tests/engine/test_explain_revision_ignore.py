"""``explain --before REV`` uses the ``.dockerignore`` of that revision, as the build of that
revision did (issue #14): a change of ``.dockerignore`` between HEAD and the working tree is
predicted as the engine rebuilds it. The repository is built at HEAD, its ``.dockerignore``
edited, the prediction made from git (``--before HEAD``), and the tree built again."""

from __future__ import annotations

import pytest

from layerwise.analyses.explain import explain
from layerwise.context.states import load_state
from layerwise.parse import parse_bytes
from layerwise.resolve.stages import resolve
from tests.engine.scenarios import Outcome, compare, unique_bases
from tests.shared import git

pytestmark = pytest.mark.engine

DOCKERFILE = "FROM busybox\nCOPY . /app\nRUN ls -R /app\n"


@pytest.mark.parametrize(("before", "after"), [
    ("docs\n.dockerignore\n", ".dockerignore\n"),  # docs now sent: COPY . rebuilds
    (".dockerignore\n", "docs\n.dockerignore\n"),  # docs no longer sent: rebuilds too
    (".dockerignore\n.git\n", ".dockerignore\n.git\n*.log\n"),  # excludes nothing more: cached
])  # fmt: skip
def test_a_dockerignore_change_since_the_revision(engine, tmp_path, before, after):
    ctx = tmp_path / "repo"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "app.py").write_text("print(1)\n")
    (ctx / "docs").mkdir()
    (ctx / "docs" / "a.md").write_text("doc\n")
    (ctx / ".dockerignore").write_text(before)
    git(ctx, "init", "-q")
    git(ctx, "add", "-A")
    git(ctx, "commit", "-qm", "init")
    unique_bases(engine, "buildkit")
    first = engine.build(ctx, builder="buildkit")
    assert first.ok, first.log
    (ctx / ".dockerignore").write_text(after)
    old = load_state(str(ctx), None, "HEAD", builder="buildkit")
    new = load_state(str(ctx), None, None, builder="buildkit")
    predicted = explain(resolve(parse_bytes(old.dockerfile_text, old.dockerfile_path)), old.files,
                        resolve(parse_bytes(new.dockerfile_text, new.dockerfile_path)), new.files, builder="buildkit")
    second = engine.build(ctx, builder="buildkit")
    assert second.ok, second.log
    ours, engines = compare(Outcome(predicted, first.log, second.steps, second.log), "buildkit")
    assert ours == engines, f"predicted {ours}\nengine    {engines}\n{second.log}"
    assert ours
