"""A sample of random .dockerignore files checked against the engine: a context with random
files and random patterns goes to BuildKit with ``COPY . /ctx`` and listed by ``find``, and
what arrives is what layerwise's matcher predicts. (The random-input properties of the matcher
live in tests/fuzz/test_ignore_properties.py.)"""

from __future__ import annotations

import random

import pytest

from layerwise.context.ignore import IgnoreFile
from layerwise.context.snapshot import Snapshot

pytestmark = pytest.mark.engine


def _engine_cases(n: int, seed: int = 8) -> list[tuple[list[str], list[str]]]:
    rng = random.Random(seed)
    seg = ["a", "b", "x.py", "y.txt", "é", "-_", "a.b"]
    pats = ["*", "?", "**", "*.py", "a*", "x.*", "!*.py", "!a", "b/**", "**/y.txt", "a/b", "!**/a"]
    cases = []
    for _ in range(n):
        files = sorted({"/".join(rng.choice(seg) for _ in range(rng.randint(1, 3))) for _ in range(12)})
        # a file and a folder of the same name cannot both exist
        files = [f for f in files if not any(g.startswith(f + "/") for g in files)]
        patterns = [
            "/".join(rng.choice(seg + pats) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 4))
        ]
        patterns = [p for p in patterns if "!" not in p]
        if rng.random() < 0.7:  # something broad, then exceptions that can re-include
            patterns.insert(0, rng.choice(["*", "**", "a*", "**/*.py", "b", "*/*"]))
            patterns.append("!" + rng.choice(seg + ["*.py", "**/y.txt", "a/*", "*/b"]))
        cases.append((files, patterns))
    return cases


@pytest.mark.parametrize("case", range(12))
def test_matcher_agrees_with_engine_sample(case, tmp_path, engine):
    files, patterns = _engine_cases(12)[case]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for f in files:
        (ctx / f).parent.mkdir(parents=True, exist_ok=True)
        (ctx / f).write_text(f)
    (ctx / "Dockerfile").write_text(
        "FROM busybox\nCOPY . /ctx\n"
        # the marker is split in the command so that the echoed command line does not match
        'RUN find /ctx -type f | while read -r f; do echo "SE""NT:${f#/ctx/}"; done\n'
    )
    (ctx / ".dockerignore").write_text("\n".join(patterns) + "\n")
    r = engine.build(ctx, builder="buildkit", no_cache=True)
    assert r.ok, f"{r.summary()}\n{r.log}"
    sent = {line.split("SENT:", 1)[1].strip() for line in r.log.splitlines() if "SENT:" in line}
    sent -= {"Dockerfile", ".dockerignore"}
    # what layerwise says the build sends: the snapshot walk (fsutil's parent-results matching)
    ignore = IgnoreFile.from_text("\n".join(patterns) + "\n")
    snap = Snapshot.take(ctx, ignore, use_cache=False, workers=1)
    predicted = {e.path for e in snap.files} - {"Dockerfile", ".dockerignore"}
    assert sent == predicted, (patterns, files)
