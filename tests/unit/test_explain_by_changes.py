"""explain of a revision against the working tree keys the files a step reads by what the two
states change (``ContextFiles.by_changes``), not by their content: over every engine scenario's
project and change (committed, then changed), it predicts exactly what the content digests
predict for the same two states (each scenario's prediction is checked on the engine in
tests/engine with content digests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from layerwise.analyses.explain import explain
from layerwise.context.states import load_state, one_walk
from layerwise.parse import parse_bytes
from layerwise.resolve.stages import resolve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from scenarios import all_scenarios, apply_change, write_files

GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"]


def _view(explanation) -> list[tuple]:
    return [(s.line, s.status, s.cause.type if s.cause else None, s.cause.message if s.cause else None)
            for s in explanation.steps]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("scenario", all_scenarios(), ids=lambda s: s.name)
def test_changes_predict_as_content_does(tmp_path, scenario) -> None:
    data = scenario.data
    if any(p == ".git" or p.startswith(".git/") for p in data["files"]):
        pytest.skip("the scenario's project has a .git folder of its own")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    write_files(ctx, data["files"])
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "before"]):
        subprocess.run([*GIT, *cmd], cwd=ctx, check=True, capture_output=True)
    apply_change(ctx, data.get("change", {}))
    dockerfile = str(ctx / data.get("dockerfile", "Dockerfile"))
    target = data.get("target") or None
    compared = 0
    for builder in scenario.builders:
        with one_walk():
            old = load_state(str(ctx), dockerfile, "HEAD", builder=builder)
            new = load_state(str(ctx), dockerfile, None, builder=builder)
            if not old.files.same_base(new.files):  # (the revision's own .dockerignore: walked again)
                continue
            b = resolve(parse_bytes(old.dockerfile_text, dockerfile), data.get("build_args_before", {}))
            a = resolve(parse_bytes(new.dockerfile_text, dockerfile), data.get("build_args_after", data.get("build_args_before", {})))
            try:
                by_changes = explain(b, old.files, a, new.files, builder=builder, target=target)
            except Exception as exc:  # noqa: BLE001 - the same refusal is expected from both
                with pytest.raises(type(exc)):
                    explain(b, dict(old.files.items()), a, new.files, builder=builder, target=target)
                continue
            by_content = explain(b, dict(old.files.items()), a, new.files, builder=builder, target=target)
        assert _view(by_changes) == _view(by_content), builder
        compared += 1
    assert compared or "dockerignore" in scenario.name or any(
        ".dockerignore" in p for p in {**data.get("change", {}).get("write", {}), **data.get("change", {}).get("append", {})})
