"""``explain --ci`` against the real engine: for each scenario, a build exports its cache
(``mode=min``/``max``, or nothing), the builder is emptied as on a new CI runner (base images
kept), the change is applied, and the next build imports that cache. Every step's predicted
status must equal the engine's report (BuildKit, containerd image store)."""

from __future__ import annotations

import textwrap
import time
import uuid

import pytest

from layerwise.analyses.explain import explain
from layerwise.analyses.fresh_runner import fresh_runner
from layerwise.context.states import folder_files
from layerwise.engine.crosscheck import compare
from layerwise.parse import parse_bytes
from layerwise.resolve.stages import resolve
from tests.engine.scenarios import apply_change, write_files
from tests.engine.test_ci_cache import containerd_store_engine
from tests.unit.test_fresh_runner import BUILDER

pytestmark = pytest.mark.engine

DEPS_ONLY = """\
FROM busybox AS deps
COPY requirements.txt /req.txt
RUN mkdir -p /install && cp /req.txt /install/deps.txt
FROM busybox
COPY --from=deps /install /install
COPY app.py /app/
"""
SINGLE = """\
FROM busybox
WORKDIR /app
COPY requirements.txt .
RUN cp requirements.txt /deps.txt
COPY app.py .
"""
CHAIN = """\
FROM busybox AS deps
COPY requirements.txt /req.txt
RUN cp /req.txt /deps.txt
FROM deps AS build
COPY app.py /src/app.py
RUN cat /src/app.py > /src/built.txt
FROM busybox
COPY --from=build /deps.txt /deps.txt
COPY --from=build /src/built.txt /app/built.txt
"""
MOUNT = """\
FROM busybox
COPY requirements.txt /req.txt
RUN --mount=type=cache,target=/cache cp /req.txt /deps.txt && touch /cache/seen
COPY app.py /app.py
"""
PIP = """\
FROM python:3.12-slim AS builder
WORKDIR /src
COPY requirements.txt .
RUN pip install --no-cache-dir --prefix=/install -r requirements.txt && mkdir -p /install && echo deps > /install/marker
COPY app.py .
FROM python:3.12-slim
COPY --from=builder /install /usr/local
COPY --from=builder /src /app
"""

CODE = {"write": {"app.py": "print(2)\n"}}
DEPS = {"write": {"requirements.txt": "# none, changed\n"}}
NOTHING: dict = {}

# explain takes a RUN that re-runs to write anything (its outputs are not modelled), so a
# `COPY --from` of a path another RUN of that stage wrote is predicted to run; the engine, which
# compares the copied files, finds them unchanged. Kept as documented disagreements: the test
# fails once they agree, so the note goes away with the limitation.
KNOWN = {
    "chain-code-min": "COPY --from=build /deps.txt: RUN cat ... > /src/built.txt re-runs; its writes are not modelled",
    "chain-code-max": "COPY --from=build /deps.txt: RUN cat ... > /src/built.txt re-runs; its writes are not modelled",
}

# (name, Dockerfile, change, cache mode, target)
SCENARIOS = [
    ("builder-code-min", BUILDER, CODE, "min", None),
    ("builder-code-max", BUILDER, CODE, "max", None),
    ("builder-code-none", BUILDER, CODE, "none", None),
    ("builder-nothing-min", BUILDER, NOTHING, "min", None),
    ("builder-deps-min", BUILDER, DEPS, "min", None),
    ("deps-only-code-min", DEPS_ONLY, CODE, "min", None),
    ("single-code-min", SINGLE, CODE, "min", None),
    ("single-code-max", SINGLE, CODE, "max", None),
    ("single-code-none", SINGLE, CODE, "none", None),
    ("chain-code-min", CHAIN, CODE, "min", None),
    ("chain-code-max", CHAIN, CODE, "max", None),
    ("mount-code-max", MOUNT, CODE, "max", None),
    ("builder-target-code-min", BUILDER, CODE, "min", "builder"),
    ("pip-builder-code-min", PIP, CODE, "min", None),
]


store_engine = pytest.fixture(scope="module")(containerd_store_engine)


@pytest.mark.parametrize(("name", "dockerfile", "change", "mode", "target"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_fresh_runner(store_engine, tmp_path, name, dockerfile, change, mode, target):
    engine = store_engine
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    write_files(ctx, {"Dockerfile": dockerfile, "requirements.txt": "# none\n", "app.py": "print(1)\n"})
    cache = tmp_path / "cache"
    tag = f"lw-fresh-{uuid.uuid4().hex[:8]}"
    export = [] if mode == "none" else ["--cache-to", f"type=local,dest={cache},mode={mode}"]
    first = engine.build(ctx, tag=tag, target=target, extra_args=export)
    assert first.ok, first.summary() + first.log[-1500:]
    before_files = folder_files(ctx, ctx / "Dockerfile", "buildkit")[0].copy()
    before = resolve(parse_bytes((ctx / "Dockerfile").read_bytes(), str(ctx / "Dockerfile")), {})
    engine.remove_image(tag)
    engine.prune_build_cache()  # a new runner: no build cache, the base images only
    time.sleep(0.01)
    apply_change(ctx, change)
    after_files = folder_files(ctx, ctx / "Dockerfile", "buildkit")[0]
    after = resolve(parse_bytes((ctx / "Dockerfile").read_bytes(), str(ctx / "Dockerfile")), {})
    predicted = fresh_runner(explain(before, before_files, after, after_files, target=target), after, mode,
                             target=target)  # fmt: skip
    imported = [] if mode == "none" else ["--cache-from", f"type=local,src={cache}"]
    second = engine.build(ctx, tag=tag, target=target, extra_args=imported)
    engine.remove_image(tag)
    engine.prune_build_cache()
    assert second.ok, second.summary() + second.log[-1500:]
    p, e = compare(predicted.steps, second.steps, "buildkit")
    if name in KNOWN:
        assert p != e, f"documented disagreement no longer happens: {KNOWN[name]}"
        return
    assert p == e, f"{name}\npredicted {p}\nengine    {e}\n{second.summary()}"
    assert p, "no step compared"


def test_the_scenarios_cover_each_mode_and_change():
    assert {s[3] for s in SCENARIOS} == {"none", "min", "max"} and len(SCENARIOS) >= 12
    assert textwrap.dedent(BUILDER) == BUILDER
