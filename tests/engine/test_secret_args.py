"""Where BuildKit keeps an ARG's or ENV's value (LW501's claim): a final-stage ARG used by a RUN
is in `docker history`, an ENV in the image configuration; an ARG before the first FROM and the
ARG/ENV of a builder stage that the final stage only copies from are in neither, so LW501
reports only the first two."""

from __future__ import annotations

import json

import pytest

from layerwise.api import check_text

pytestmark = pytest.mark.engine

DOCKERFILE = """\
ARG META_TOKEN
FROM busybox AS builder
ARG BUILDER_TOKEN
ENV BUILDER_API_KEY=$BUILDER_TOKEN
RUN echo "$BUILDER_TOKEN" | wc -c > /len

FROM busybox
COPY --from=builder /len /len
ARG FINAL_TOKEN
RUN echo "$FINAL_TOKEN" | wc -c > /final-len
ENV FINAL_API_KEY=visible-in-config
"""
VALUES = {"META_TOKEN": "meta-8c1f", "BUILDER_TOKEN": "builder-51d2", "FINAL_TOKEN": "final-9e7a"}


def test_secret_values_kept_only_where_lw501_says(engine, tmp_path, image_tag):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    tag = image_tag("lw-secret-args")
    result = engine.build(tmp_path, builder="buildkit", tag=tag, build_args=VALUES)
    assert result.ok, result.log
    history = engine.docker("image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout
    config = json.dumps(engine.inspect_image(tag))
    kept = {name for name, value in VALUES.items() if value in history or value in config}
    assert kept == {"FINAL_TOKEN"}, (history, kept)
    assert "visible-in-config" in config and "builder-51d2" not in config

    reported = sorted((f.line, f.message.split(" looks")[0]) for f in check_text(DOCKERFILE).findings if f.code == "LW501")
    assert reported == [(9, "ARG FINAL_TOKEN"), (11, "ENV FINAL_API_KEY")]
