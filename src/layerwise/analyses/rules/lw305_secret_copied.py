"""## What it does
Finds files that look like secrets (`.env`, SSH and TLS private keys, `.pypirc`, `.netrc`,
cloud credentials, Terraform state...) that a `COPY`/`ADD` copies from the build context into
the image. Needs the build context.

A few names are as often harmless, so their text decides (it is read, never shown): an `.npmrc`
is reported when it sets `_authToken`, `_auth` or `_password` to a value (not `${NPM_TOKEN}`), a
`.pypirc` or `.netrc` when it holds a password, and a `.pem`, `.key` or `.crt` file unless its
PEM text holds only certificates or public keys (a CA bundle).

## Why is this bad?
Anything copied into a layer stays in the image, even if a later `RUN rm` deletes it, and
anyone who can pull the image can read it.

## Example
`COPY . .` with a `.env` holding `DATABASE_PASSWORD=...` in the project.

## Use instead
Exclude the files in `.dockerignore` (`.env`, `*.pem`, `.aws`...) and pass secrets at build
time with `RUN --mount=type=secret,id=...`, or at run time as environment variables.

## Fix safety
The fix is safe: it appends the exact paths of the secret files this `COPY` copies to
`.dockerignore` (no broad pattern), except a file the build reads by name (a `COPY` source,
a bind-mount source): that one needs a decision and is left to you. So is a file git tracks
while the build computes its version from the `.git` it is sent (hatch-vcs, setuptools-scm...):
excluded, it would look deleted to git and the version would turn dirty (and the secret is in
that `.git` anyway: remove it from the repository's history).
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.analyses.rules._ignore_edits import append_lines, new_patterns

CODE = "LW305"


def check(ctx: RuleContext) -> Iterator[Finding]:
    steps = [step for _, step in ctx.steps() if copies.from_context(step)]
    if not steps:
        return
    report = ctx.context_report()
    if report is None:
        return
    by_loc = {(ctx.path, step.line): step for step in steps}
    per_step: dict[int, list] = {}
    for secret in report.secrets:
        if not secret.copied_by:
            continue  # (the report lists what holds a secret: not a CA bundle, nor a plain .npmrc)
        for cs in secret.copied_by:
            key = (cs.location.path, cs.location.line) if cs.location else None
            if key in by_loc:
                per_step.setdefault(by_loc[key].line, []).append(secret)
    for line, secrets in sorted(per_step.items()):
        step = next(s for s in steps if s.line == line)
        names = ", ".join(f"{s.path} ({s.reason})" for s in secrets[:3])
        more = f" and {len(secrets) - 3} more" if len(secrets) > 3 else ""
        plain = [s.path for s in secrets if _plain(s.path)]
        edit = append_lines(ctx, new_patterns(ctx, plain))
        from layerwise.analyses.gitversion import tracked_note

        yield ctx.at(
            CODE,
            step.instruction.node,
            f"{step.instruction.node.keyword.upper()} copies secrets into the image: {names}{more}",
            hint="exclude them in .dockerignore; pass secrets with RUN --mount=type=secret" + tracked_note(ctx, plain),
            fix=Fix("safe", "add the files to .dockerignore", (edit,) if edit else ()),
        )


def _plain(path: str) -> bool:
    """A path that means itself as a .dockerignore pattern (no glob, escape or comment)."""
    return not any(c in path for c in "*?[]\\") and not path.startswith(("!", "#")) and path.strip() == path
