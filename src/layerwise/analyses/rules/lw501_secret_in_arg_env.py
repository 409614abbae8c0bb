"""## What it does
Finds `ARG` and `ENV` names that look like secrets: `..._TOKEN`, `PASSWORD`, `SECRET_KEY`,
`API_KEY`, `AWS_SECRET_ACCESS_KEY`, `..._CREDENTIALS`. Names that only point to a secret
(`..._FILE`, `..._PATH`, `..._URL`...) and public keys (`GPG_KEY`, `PUBLIC_KEY`) are left alone,
and so are the stages that end up in no image: an `ARG` before the first `FROM`, and a builder
stage that other stages only copy from (neither its history nor its configuration is exported).

## Why is this bad?
`ENV` values are stored in the image config and `ARG` values in the image history
(`docker history`), where anyone who can pull the image reads them. They are also part of
the cache key: a rotated token rebuilds every layer after the `ARG`.

## Example
```dockerfile
ARG PYPI_TOKEN
RUN pip install --index-url https://__token__:$PYPI_TOKEN@pypi.example.com/simple -r requirements.txt
```

## Use instead
```dockerfile
RUN --mount=type=secret,id=pypi_token,env=PYPI_TOKEN \\
    pip install --index-url https://__token__:$PYPI_TOKEN@pypi.example.com/simple -r requirements.txt
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Arg, Env

CODE = "LW501"

_LAST = {"token", "password", "passwd", "pass", "pwd", "secret", "key", "apikey", "credential",
         "credentials", "auth"}
# compiled on first use (re's cache), not at every check's start-up
_NOT = r"(?i)^(gpg|public|pub|ssh_known|apt)_|_(file|path|dir|url|uri|host|port|name|user|username|id)$"
_PLACEHOLDER = r"(?i)^(|no|none|false|true|0|1|changeme|x+|\.+|<.*>|/.*|.*\.(pem|key|crt|json))$"


def is_secret_name(name: str) -> bool:
    """``API_KEY``, ``DB_PASSWORD``, ``AWS_SECRET_ACCESS_KEY``: the last word names a secret."""
    parts = [p for p in re.split(r"[_\-.]", name.lower()) if p]
    if not parts or parts[-1] not in _LAST:
        return False
    return not re.search(_NOT, name)


def check(ctx: RuleContext) -> Iterator[Finding]:
    # Only the stages whose layers end up in an image: a builder stage that others merely copy
    # from is never exported, so neither its history nor its configuration is kept anywhere.
    # (An ARG before the first FROM is only in scope of the FROM lines: it is in no image.)
    shipped = ctx.shipped_stages()
    for stage in ctx.build.stages:
        if stage.index not in shipped:
            continue
        for step in stage.steps:
            yield from _check(ctx, step.instruction)


def _check(ctx: RuleContext, inst) -> Iterator[Finding]:
    if isinstance(inst, Arg):
        names = [a.key for a in inst.args]
        kind = "ARG"
    elif isinstance(inst, Env):
        names = [p.key for p in inst.pairs if not re.match(_PLACEHOLDER, p.value.strip().strip("'\""))]
        kind = "ENV"
    else:
        return
    for name in names:
        if is_secret_name(name):
            yield ctx.at(
                CODE,
                inst.node,
                f"{kind} {name} looks like a secret: its value is kept in the image "
                + ("history" if kind == "ARG" else "configuration"),
                hint="use RUN --mount=type=secret,id=...,env=" + name,
            )
