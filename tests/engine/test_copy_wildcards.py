"""A COPY whose wildcard sources match nothing: BuildKit copies nothing and goes on (its
``AllowEmptyWildcard``), the legacy builder fails ("no source files were specified") unless
another source of the same COPY matches. ``explain`` predicts the same, with both builders."""

from __future__ import annotations

import pytest

from layerwise.analyses.explain import explain
from layerwise.context.states import folder_files
from layerwise.parse import parse_bytes
from layerwise.resolve.stages import resolve

pytestmark = pytest.mark.engine

ONLY_WILDCARDS = "FROM busybox\nCOPY poetry.lock* constraints*.txt /app/\nRUN echo built\n"
ONE_MATCHES = "FROM busybox\nCOPY pyproject.toml poetry.lock* /app/\nRUN echo built\n"


def _predict(ctx, builder):
    df = ctx / "Dockerfile"
    files, _ = folder_files(ctx, df, builder)
    b = resolve(parse_bytes(df.read_bytes(), str(df)))
    return explain(b, files, b, files, builder=builder)


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
@pytest.mark.parametrize("dockerfile", [ONLY_WILDCARDS, ONE_MATCHES], ids=["only-wildcards", "one-matches"])
def test_wildcards_that_match_nothing(engine, tmp_path, builder, dockerfile):
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    result = engine.build(tmp_path, builder=builder)
    fails = builder == "legacy" and dockerfile == ONLY_WILDCARDS
    assert result.ok is not fails, result.log
    copy = _predict(tmp_path, builder).steps[1]
    if fails:
        assert "no source files were specified" in result.log
        assert copy.status == "rebuilt" and "legacy builder fails here" in copy.cause.message
    else:
        # built once: the same state again is all cached
        assert copy.status == "cached", copy.cause
