"""## What it does
Finds inline directives (`# layerwise: ignore[...]`, `# layerwise: ignore-file[...]`) of the
Dockerfile that turn no finding off, and codes in them that name no rule.

It speaks only when that is certain: each code it reports names rules that ran (selected, and
given the build context when they need one); a bare `# layerwise: ignore` is reported only
when every rule ran. Directives in `.dockerignore` and requirements files are honoured but not
checked.

## Why is this bad?
A directive that suppresses nothing is noise, and it hides the next real finding at that
place: the problem it was written for is gone (the instruction changed, the rule got better),
but the comment still turns the rule off there.

## Example
```dockerfile
FROM python:3.12-slim
# layerwise: ignore[LW201] -- the wheel cache is wanted here
RUN pip install --no-cache-dir -r requirements.txt
```

## Use instead
```dockerfile
FROM python:3.12-slim
RUN pip install --no-cache-dir -r requirements.txt
```

## Fix safety
Safe: the fix removes the directive (its whole line when the line holds nothing else), or only
its unused codes when others in it still suppress a finding. Nothing the build reads changes.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext

CODE = "LW001"


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Nothing here: whether a directive turned a finding off is known only after the other
    rules ran, so :func:`~layerwise.analyses.check.check_dockerfile` asks
    :meth:`~layerwise.analyses.directives.Suppressions.unused` once they did."""
    return iter(())
