"""## What it does
Finds images whose final stage runs as root: no `USER` instruction (in it or the stages it is
built `FROM`), or a last `USER root`/`USER 0`. Windows images and base images known to run
as an unprivileged user (micromamba, Jupyter stacks, Chainguard, distroless `:nonroot`) are
not reported.

## Why is this bad?
A process running as root in the container can do far more damage when compromised (write
anywhere in the image, exploit kernel bugs with full privileges). Most Python web apps need
no root at all.

## Example
```dockerfile
FROM python:3.12-slim
COPY . /app
CMD ["python", "/app/main.py"]
```

## Use instead
```dockerfile
FROM python:3.12-slim
RUN useradd --create-home app
COPY . /app
USER app
CMD ["python", "/app/main.py"]
```
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import User

CODE = "LW503"

# base images that already switch to an unprivileged user
NON_ROOT_BASES = ("mambaorg/micromamba", "jupyter/", "quay.io/jupyter/", "cgr.dev/chainguard/",
                  "bitnami/", ":nonroot", "-nonroot", "distroless/static:nonroot")  # fmt: skip
_WINDOWS = ("windows", "servercore", "nanoserver", "mcr.microsoft.com/powershell")


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.build.stages:
        return
    final = ctx.build.stages[-1]
    chain = ctx.lineage(final)
    if any(w in s.base.lower() for s in chain for w in _WINDOWS) or final.base.lower() == "scratch":
        return
    if any(n in s.base.lower() for s in chain if s.base_stage is None for n in NON_ROOT_BASES):
        return
    if any(s.steps and s.steps[-1].shell and "powershell" in " ".join(s.steps[-1].shell).lower() for s in chain):
        return
    last_user = None
    for st in chain:
        for step in st.steps:
            if isinstance(step.instruction, User):
                last_user = step
    if last_user is None:
        yield ctx.at(CODE, final.from_.node, f"the final stage{f' ({final.name})' if final.name else ''} sets no USER: the container runs as root",
                     hint="create a user and add USER <name> before CMD")  # fmt: skip
    elif str(last_user.expanded.get("user", "")).split(":", 1)[0] in ("root", "0"):
        yield ctx.at(CODE, last_user.instruction.node, "the last USER is root: the container runs as root",
                     hint="switch to an unprivileged user after the steps that need root")  # fmt: skip
