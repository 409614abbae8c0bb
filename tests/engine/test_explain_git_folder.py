"""A repository's own ``.git`` folder, sent to the builder when .dockerignore keeps it: git
reports no change there, yet a build of another commit saw another ``.git`` (HEAD's reflog has
a line more), so ``COPY .`` rebuilds on the engine. ``explain --before REV`` predicts that
(found on a real project with no .dockerignore: explain said every step was cached), and a
.dockerignore that excludes ``.git`` keeps the step cached."""

from __future__ import annotations

import pytest

from layerwise.api import explain_project
from tests.engine.scenarios import Outcome, compare, unique_bases
from tests.shared import git

pytestmark = pytest.mark.engine

DOCKERFILE = "FROM busybox\nWORKDIR /app\nCOPY app.py .\nCOPY . /app\nRUN ls -a /app\n"


@pytest.mark.parametrize("ignore", [None, ".git\n"], ids=["git-sent", "git-excluded"])
def test_a_new_commit_changes_the_git_folder_docker_sends(engine, tmp_path, ignore):
    ctx = tmp_path / "repo"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "app.py").write_text("print(1)\n")
    if ignore is not None:
        (ctx / ".dockerignore").write_text(ignore)
    git(ctx, "init", "-q")
    git(ctx, "add", "-A")
    git(ctx, "commit", "-qm", "one")
    unique_bases(engine, "buildkit")
    first = engine.build(ctx, builder="buildkit")
    assert first.ok, first.log
    git(ctx, "commit", "-q", "--allow-empty", "-m", "two")  # no file of the project changes
    predicted = explain_project(str(ctx), before="HEAD~1", timings=False).explanation
    second = engine.build(ctx, builder="buildkit")
    assert second.ok, second.log
    ours, engines = compare(Outcome(predicted, first.log, second.steps, second.log), "buildkit")
    assert ours == engines, f"predicted {ours}\nengine    {engines}\n{second.log}"
    copy_all = next(s for s in predicted.steps if s.instruction == "COPY . /app")
    assert copy_all.status == ("rebuilt" if ignore is None else "cached")
