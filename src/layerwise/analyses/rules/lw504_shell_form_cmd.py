"""## What it does
Finds `CMD` and `ENTRYPOINT` in shell form (`CMD gunicorn app:app`) in the final stage.

## Why is this bad?
Shell form runs the command as a child of `/bin/sh -c`. The shell, as PID 1, does not forward
`SIGTERM`, so `docker stop` waits 10 seconds and kills the app without a graceful shutdown;
and a shell-form `ENTRYPOINT` ignores the `CMD` and `docker run` arguments.

## Example
```dockerfile
CMD gunicorn --bind :8000 app:app
```

## Use instead
```dockerfile
CMD ["gunicorn", "--bind", ":8000", "app:app"]
```
(or keep the shell and `exec` the program: `CMD exec gunicorn ...`).

## Fix safety
The fix is unsafe (applied with `--unsafe-fixes`): it rewrites the instruction as the exec
form of the same words (`CMD python app.py` -> `CMD ["python", "app.py"]`). It is only offered
when the command has no shell syntax (no `$`, quotes are split as the shell splits them, no
`&&`, pipes, redirections or globs); the process then runs as PID 1 without `/bin/sh -c`, so it
receives SIGTERM itself, but it also no longer gets what the shell gave it (a `PATH` search
done by the shell, the shell's environment handling): check the container still starts.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Cmd, Entrypoint

CODE = "LW504"

_SHELL_SYNTAX = r"[$&|;<>*?`(){}\[\]~\\]|\n"  # (compiled on first use)


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.build.stages:
        return
    final = ctx.build.stages[-1]
    for step in final.steps:
        inst = step.instruction
        if not isinstance(inst, (Cmd, Entrypoint)) or not inst.prepend_shell:
            continue
        text = " ".join(inst.cmd_line).strip()
        if not text or text.startswith("exec ") or any("powershell" in s.lower() or s.lower() == "cmd" for s in step.shell[:1]):
            continue
        node = inst.node
        fix = None
        if not re.search(_SHELL_SYNTAX, text) and "\\" not in ctx.dockerfile.source(node):
            try:
                argv = shlex.split(text)
            except ValueError:
                argv = []
            if argv:
                kw_end = node.span.start + len(node.keyword)
                import json  # (here: only a fix writes JSON)

                fix = Fix("unsafe", "exec form", (Edit(ctx.path, kw_end, node.span.end, " " + json.dumps(argv)),))
        kind = node.keyword.upper()
        yield ctx.at(
            CODE,
            node,
            f"shell-form {kind}: `{text[:60]}` runs under /bin/sh -c, which does not pass SIGTERM on",
            hint=f'use the exec form, {kind} ["{text.split()[0]}", ...]',
            fix=fix,
        )
