"""## What it does
Finds images referenced without a tag or with `:latest`: `FROM python`, `FROM python:latest`,
`COPY --from=ghcr.io/astral-sh/uv:latest`, `RUN --mount=from=image:latest`. Also a variant
tag without a version (`python:slim`, `python:alpine`, `python:slim-bookworm`, `uv:debian`),
which moves to each new version as `:latest` does (`python:3.12-slim` is pinned: the version
pins), and a channel tag (`node:lts`, `debian:stable`, `alpine:edge`). A distribution's codename
is its release (`debian:bookworm-slim`, `ubuntu:noble`): not reported.

## Why is this bad?
The layer cache keys on the reference, not on what it points to. While the builder has an
image cached under `:latest`, it keeps using it (your builds silently skip updates); when the
tag moves on another machine or CI runner, every layer after it rebuilds and the result
differs between machines. A pinned tag (or digest) makes the cache and the image reproducible.

## Example
```dockerfile
FROM python:latest
COPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv
```

## Use instead
```dockerfile
FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv
```
(or pin by digest: `python:3.12-slim@sha256:...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Copy, Run

CODE = "LW105"


def moving(ref: str) -> str | None:
    """Why an image reference moves, or None when it is pinned (tag or digest)."""
    if not ref or "$" in ref or ref.lower() == "scratch":
        return None
    if "@" in ref:
        return None
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (means :latest)"
    name, tag = last.rsplit(":", 1)
    tag = tag.lower()
    if tag == "latest":
        return "uses :latest"
    words = re.split(r"[-_.]", tag)
    if any(w in _CHANNELS for w in words) and not any(c.isdigit() for c in tag):
        return f"uses :{tag}, a channel tag that moves to each new release"
    if all(w in _VARIANTS for w in words) and name.lower() not in _DISTROS:
        # python:slim, python:3.12-slim: the version is what pins; the variant alone floats
        return f"has a variant tag without a version (:{tag} moves to each new version, as :latest does)"
    return None


#: tag words that name a variant (a base distribution or flavour) and no version: a tag made of
#: these alone (``python:slim``, ``python:slim-bookworm``, ``uv:alpine``) follows the newest version
_VARIANTS = frozenset({
    "slim", "alpine", "debian", "ubuntu", "bookworm", "bullseye", "buster", "stretch", "trixie",
    "jammy", "focal", "noble", "bionic", "windowsservercore", "nanoserver", "ltsc", "full", "bare",
})  # fmt: skip
#: tag words that name a moving channel (``node:lts``, ``debian:stable``, ``alpine:edge``)
_CHANNELS = frozenset({"lts", "current", "stable", "mainline", "edge", "nightly", "rc", "beta", "testing", "unstable", "sid"})
#: images whose codename tags are their release (``debian:bookworm``, ``ubuntu:jammy``):
#: pinned to a release as a version tag is
_DISTROS = frozenset({"debian", "ubuntu", "buildpack-deps"})


def check(ctx: RuleContext) -> Iterator[Finding]:
    names = {s.name for s in ctx.build.stages if s.name}
    for stage in ctx.build.stages:
        if stage.base_stage is None:
            why = moving(stage.base)
            if why and stage.base.lower() not in names:
                yield ctx.at(CODE, stage.from_.node, f"base image {stage.base} {why}",
                             hint="pin a version tag (python:3.12-slim) or a digest")  # fmt: skip
        for step in stage.steps:
            inst = step.instruction
            if isinstance(inst, Copy):
                ref = str(step.expanded.get("from", "") or "")
                if ref and ref.lower() not in names and not ref.isdigit():
                    why = moving(ref)
                    if why:
                        yield ctx.at(CODE, inst.node, f"COPY --from={ref} {why}",
                                     hint="pin the image's version tag or digest")  # fmt: skip
            elif isinstance(inst, Run):
                for m in step.expanded.get("mounts") or []:  # type: ignore[union-attr]
                    ref = m.from_
                    if ref and ref.lower() not in names and not ref.isdigit():
                        why = moving(ref)
                        if why:
                            yield ctx.at(CODE, inst.node, f"RUN --mount from={ref} {why}",
                                         hint="pin the image's version tag or digest")  # fmt: skip
