"""Which steps BuildKit runs once for two stages (deduplicated vertices), and the cross-check
pairing them exactly so (issue 13: pdm-telegram-bot's final ``WORKDIR /app`` was shared with
the builder's, which had an ``ENV`` before it, and the cross-check said "the engine did no such
step").

A vertex is its parent chain and its operation: an ``ENV`` changes the image config, not the
chain, so a ``WORKDIR`` or ``COPY`` after it is still shared; a ``RUN`` runs with the ENV (another
vertex), a ``WORKDIR`` is made as the ``USER`` (another vertex)."""

from __future__ import annotations

import pytest

from layerwise.analyses.explain import explain
from layerwise.bench.run import context_files
from layerwise.engine.crosscheck import pair_steps
from layerwise.parse import parse_bytes
from layerwise.resolve.stages import resolve

pytestmark = pytest.mark.engine

FINAL = "FROM busybox\n{final}COPY --from=builder /src/out.txt /out.txt\nCOPY b.txt /b.txt\n"

#: name -> (the builder's lines before the probe, the final stage's lines before it, the probe,
#:          how many times BuildKit prints the probe)
CASES = {
    # pdm-telegram-bot: ENV in the builder before the WORKDIR both stages have
    "env-then-workdir": ("ENV APP_ENV=prod\n", "", "WORKDIR /app", 1),
    "env-then-copy": ("ENV APP_ENV=prod\n", "", "COPY b.txt /app/b.txt", 1),
    "label-then-workdir": ('LABEL org.opencontainers.image.title="x"\n', "", "WORKDIR /app", 1),
    "latest-spelled-out": ("", "", "WORKDIR /app", 1),
    "env-then-run": ("ENV APP_ENV=prod\n", "", "RUN mkdir -p /app && echo x > /app/x", 2),
    "user-then-workdir": ("USER 1000\n", "", "WORKDIR /app", 2),
    "other-workdir-then-copy": ("WORKDIR /src\n", "", "COPY b.txt b.txt", 2),
    # WORKDIR / makes no vertex, but the COPY's destination is relative to it
    "workdir-root-then-copy": ("WORKDIR /app\nWORKDIR /\n", "WORKDIR /app\nWORKDIR /\n", "COPY b.txt b.txt", 1),
    "workdir-root-differs": ("WORKDIR /app\nWORKDIR /\n", "WORKDIR /app\n", "COPY b.txt b.txt", 2),
}  # fmt: skip


def _dockerfile(name: str) -> str:
    before, final_before, probe, _ = CASES[name]
    base = "busybox:latest" if name == "latest-spelled-out" else "busybox"
    builder = (f"FROM {base} AS builder\n{before}{probe}\nUSER 0\nWORKDIR /src\nCOPY a.txt /src/a.txt\n"
               "RUN cat /src/a.txt > /src/out.txt\n\n")  # fmt: skip
    return builder + FINAL.format(final=f"{final_before}{probe}\n")


@pytest.mark.parametrize("name", list(CASES))
def test_buildkit_runs_a_step_once_exactly_when_the_cross_check_pairs_it(engine, tmp_path, name):
    text = _dockerfile(name)
    probe, printed = CASES[name][2], CASES[name][3]
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "a.txt").write_text(f"a {name}\n")  # (unique: no other test's build cache holds it)
    (tmp_path / "b.txt").write_text("b\n")
    first = engine.build(tmp_path, builder="buildkit")
    assert first.ok, first.log
    before = context_files(tmp_path, tmp_path / "Dockerfile", "buildkit", stat_cache=False).copy()
    (tmp_path / "a.txt").write_text(f"a {name} changed\n")
    after = context_files(tmp_path, tmp_path / "Dockerfile", "buildkit", stat_cache=False)
    built = engine.build(tmp_path, builder="buildkit")
    assert built.ok, built.log
    # the Docker fact: how many times the engine ran (printed) the step both stages have
    assert sum(1 for s in built.steps if s.instruction == probe) == printed, built.log
    build = resolve(parse_bytes(text.encode(), "Dockerfile"))
    predicted = explain(build, before, build, after, builder="buildkit")
    pairs = pair_steps(predicted.steps, built.steps, "buildkit")
    assert [p.describe() for p in pairs if not p.agrees] == [], built.log
    assert sum(1 for p in pairs if p.instruction == probe) == 2  # paired for both stages
