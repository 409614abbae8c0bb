"""## What it does
Finds a build argument that a CI build sets to a value that changes on every build (the
commit's SHA, the run's number, a date) or on every release (the version, the tag), declared
with `ARG` in a stage before that stage's dependency install, which does not use it (an
install of the version it names must run again).

## Why is this bad?
BuildKit adds every `ARG` that has a value to the environment of each later `RUN` of its
stage, used or not, and so to their cache keys: with `--build-arg BUILD_COMMIT=<sha>`, the
install after `ARG BUILD_COMMIT` runs again on every CI build although no dependency
changed, and so does everything after it. An `ENV` made from the argument does the same.

## Example
```dockerfile
FROM python:3.12-slim
ARG BUILD_COMMIT
ENV APP_BUILD_COMMIT=$BUILD_COMMIT
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
```
built with `build-args: BUILD_COMMIT=${{ github.sha }}`.

## Use instead
Declare the argument (and the `ENV` made from it) after the dependency install, just before
its first use (when the project's own install reads it, as a version for its metadata, install
the dependencies alone first and the project after the argument):
```dockerfile
COPY requirements.txt .
RUN pip install -r requirements.txt
ARG BUILD_COMMIT
ENV APP_BUILD_COMMIT=$BUILD_COMMIT
COPY . .
```

## Fix safety
No fix: moving the declaration changes what the steps between see; the instructions that use
the argument must move with it, which is yours to decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Arg, Run
from layerwise.records import replace

CODE = "LW609"

def check(ctx: RuleContext) -> Iterator[Finding]:
    said: set[tuple[int, str]] = set()  # (ARG line, argument): one finding for many builds
    for build in ctx.ci_builds():
        volatile = cicache.volatile_args(build)
        if not volatile:
            continue
        target = cicache.target_stage(ctx, build)
        if target is None:
            continue
        for stage in ctx.build.needed_stages(target.index):
            declared: dict[str, object] = {}  # argument -> its ARG step in this stage
            for step in stage.steps:
                inst = step.instruction
                if isinstance(inst, Arg):
                    for a in inst.args:
                        if a.key in volatile:
                            declared.setdefault(a.key, step)
                elif declared and isinstance(inst, Run):
                    if not any(i.downloads and not i.tools_only for i in ctx.analysis(step).installs):
                        continue
                    for name, arg_step in declared.items():
                        if (arg_step.line, name) in said or re.search(r"\$\{?" + re.escape(name) + r"\b", inst.original):
                            continue  # (an install that uses it must run again: Radicale[...] @ .../${VERSION}.tar.gz)
                        said.add((arg_step.line, name))
                        what, when = volatile[name]
                        found = ctx.at(
                            CODE, arg_step.instruction.node,
                            f"ARG {name} comes before the dependency install (line {step.line}), and "
                            f"{build.label} ({build.path}:{build.pos.line}) sets it to {what}, which changes "
                            f"with {when}: the install runs again on each such build",
                            hint=f"declare ARG {name} (and any ENV made from it) after the dependency install, before "
                                 "its first use (an install of the project that needs it goes after it too)",
                            related=((build.path, build.pos.line),),
                        )  # fmt: skip
                        yield replace(found, severity="info") if when == "every release" else found
                    break  # (the first install of the stage: what follows it reruns anyway)
