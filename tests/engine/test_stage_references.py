"""``COPY --from`` / ``RUN --mount from`` naming a stage defined later, cycles of them, and
stage indexes out of range: layerwise refuses exactly what BuildKit refuses, with BuildKit's
message, and accepts what it builds (issue #14). BuildKit finds a stage defined later (it is
no external image), builds the file when no built stage reads it, and refuses it with "cannot
copy from stage ..., it needs to be defined before current stage ..." otherwise; a cycle is
refused whatever the target."""

from __future__ import annotations

import pytest

from layerwise.errors import LayerwiseError
from layerwise.parse import parse
from layerwise.resolve.stages import resolve

pytestmark = pytest.mark.engine

CASES = {
    "later-name": ("FROM busybox AS app\nCOPY --from=deps /x /x\nFROM busybox AS deps\nRUN echo > /x\n", "app"),
    "later-index": ("FROM busybox AS app\nCOPY --from=1 /x /x\nFROM busybox\nRUN echo > /x\n", "app"),
    "later-not-built": ("FROM busybox AS app\nCOPY --from=deps /x /x\nFROM busybox AS deps\nRUN echo > /x\n", None),
    "later-mount": ("FROM busybox AS app\nRUN --mount=from=deps,target=/d cat /d/x\nFROM busybox AS deps\nRUN echo > /x\n",
                    "app"),
    "cycle": ("FROM busybox AS stage0\nCOPY --from=stage2 f1 /sub/\nFROM busybox AS stage1\nCOPY --from=stage0 f2 /sub/\n"
              "FROM busybox AS stage2\nCOPY --from=stage1 f2 /sub/\n", None),
    "cycle-not-built": ("FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /x /x\n"
                        "FROM busybox\nRUN echo ok\n", None),
    "self-by-index": ("FROM busybox\nCOPY --from=0 /x /x\n", None),
    "index-out-of-range": ("FROM busybox\nCOPY --from=5 /x /x\n", None),
    "earlier-stage": ("FROM busybox AS deps\nRUN echo > /x\nFROM busybox AS app\nCOPY --from=deps /x /x\n", None),
}  # fmt: skip


def layerwise_error(text: str, target: str | None) -> str | None:
    try:
        resolve(parse(text, "Dockerfile")).needed_stages(target)
    except LayerwiseError as exc:
        return exc.message
    return None


@pytest.mark.parametrize("name", list(CASES))
def test_stage_references_as_buildkit_resolves_them(engine, tmp_path, name):
    text, target = CASES[name]
    (tmp_path / "Dockerfile").write_text(text)
    for f in ("f1", "f2"):
        (tmp_path / f).write_text("x\n")
    built = engine.build(tmp_path, builder="buildkit", target=target)
    ours = layerwise_error(text, target)
    if built.ok:
        assert ours is None, f"BuildKit builds it, layerwise says: {ours}"
    else:
        assert ours is not None, f"BuildKit refuses it, layerwise accepts it:\n{built.log}"
        assert f"ERROR: failed to solve: {ours}" in built.log, built.log
