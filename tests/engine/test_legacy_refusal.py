"""What the legacy builder (DOCKER_BUILDKIT=0) of Docker 26.1 cannot build, and what it
builds anyway: ``explain --builder legacy`` refuses the first kind with one located line, and
predicts the second kind as usual."""

from __future__ import annotations

import pytest

from layerwise.analyses.explain import UnsupportedByBuilder, explain
from layerwise.context.states import folder_files
from layerwise.parse import parse_bytes
from layerwise.resolve.stages import resolve

pytestmark = pytest.mark.engine

REFUSED = {
    "run-mount": ("FROM busybox\nRUN --mount=type=cache,target=/c echo hi\n", "the --mount option requires BuildKit"),
    "run-network": ("FROM busybox\nRUN --network=none echo hi\n", "the --network option requires BuildKit"),
    "run-security": ("FROM busybox\nRUN --security=insecure echo hi\n", "unknown flag: security"),
    "copy-chmod": ("FROM busybox\nCOPY --chmod=755 a.txt /a\n", "the --chmod option requires BuildKit"),
    "copy-exclude": ("FROM busybox\nCOPY --exclude=*.md . /a\n", "unknown flag: exclude"),
    "copy-parents": ("FROM busybox\nCOPY --parents a.txt /a/\n", "unknown flag: parents"),
    "add-unpack": ("FROM busybox\nADD --unpack=true a.txt /a\n", "unknown flag: unpack"),
    "copy-heredoc": ("FROM busybox\nCOPY <<EOF /x.txt\nhello\nEOF\n", "no source files were specified"),
    "from-buildplatform": ("FROM --platform=$BUILDPLATFORM busybox\nRUN echo\n", "failed to parse platform"),
    # a parse error: in a stage after the target too
    "exclude-after-target": ("FROM busybox AS a\nRUN echo\nFROM busybox\nCOPY --exclude=x . /a\n", "unknown flag: exclude"),
    # builds, but without the heredoc's body: the `exit 3` never runs
    "run-heredoc": ("FROM busybox\nRUN <<EOF\nexit 3\nEOF\n", None),
    # COPY --from a stage defined later: BuildKit finds it, the legacy builder knows only the
    # stages before (a name is pulled as an image; an index is out of bounds)
    "copy-from-later-name": ("FROM busybox AS web\nCOPY --from=deps /x /x\nFROM busybox AS deps\nRUN echo > /x\n",
                             "invalid from flag value deps: "),
    "copy-from-later-index": ("FROM busybox AS web\nCOPY --from=1 /x /x\nFROM busybox\nRUN echo > /x\n",
                              "invalid from flag value 1: index out of bounds"),
}
BUILT = {
    "copy-link": "FROM busybox\nCOPY --link a.txt /a\n",
    "add-checksum": "FROM busybox\nADD --checksum=sha256:" + "0" * 64 + " a.txt /a\n",
    "syntax-directive": "# syntax=docker/dockerfile:1\nFROM busybox\nRUN echo hi\n",
    "mount-after-target": "FROM busybox AS a\nRUN echo\nFROM busybox\nRUN --mount=type=cache,target=/c echo\n",
    # the stage that copies from a later one is after the target: not built
    "copy-from-later-after-target": "FROM busybox AS a\nRUN echo > /y\nFROM busybox AS web\nCOPY --from=deps /x /x\n"
                                    "FROM busybox AS deps\nRUN echo > /x\n",
    "copy-from-earlier": "FROM busybox AS deps\nRUN echo > /x\nFROM busybox\nCOPY --from=deps /x /x\nCOPY --from=0 /x /y\n",
}


def _explain(ctx, builder):
    df = ctx / "Dockerfile"
    files, _ = folder_files(ctx, df, builder)
    b = resolve(parse_bytes(df.read_bytes(), str(df)))
    target = "a" if "AS a" in df.read_text() else None
    return explain(b, files, b, files, builder=builder, target=target)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_legacy_refuses(engine, tmp_path, name):
    text, engine_says = REFUSED[name]
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "a.txt").write_text("a\n")
    target = "a" if "AS a" in text else None
    result = engine.build(tmp_path, builder="legacy", target=target)
    if engine_says is None:  # built, but the body was dropped: BuildKit fails on `exit 3`
        assert result.ok, result.log
        assert not engine.build(tmp_path, builder="buildkit").ok
    else:
        assert not result.ok and engine_says in result.log, result.log
    with pytest.raises(UnsupportedByBuilder) as err:
        _explain(tmp_path, "legacy")
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"{tmp_path / 'Dockerfile'}:")
    assert "the legacy builder cannot build this Dockerfile" in line
    assert _explain(tmp_path, "buildkit").steps  # BuildKit: a prediction


@pytest.mark.parametrize("name", sorted(BUILT))
def test_legacy_builds(engine, tmp_path, name):
    text = BUILT[name]
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "a.txt").write_text("a\n")
    result = engine.build(tmp_path, builder="legacy", target="a" if "AS a" in text else None)
    assert result.ok, result.log
    assert _explain(tmp_path, "legacy").steps
