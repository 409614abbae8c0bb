"""## What it does
Finds a build that copies the whole context (`COPY . .`) while the project has no
`.dockerignore` (nor `<Dockerfile>.dockerignore`). Needs the build context.

## Why is this bad?
Everything in the folder is sent to the builder and copied into the image: `.git`, virtual
environments, `__pycache__`, test caches, local `.env` files. Any change to any of them
(every commit changes `.git`) invalidates the `COPY . .` layer and all layers after it, and
secrets end up in the image.

## Example
A project with `Dockerfile` and `COPY . .` but no `.dockerignore`.

## Use instead
Add a `.dockerignore`, e.g.
```
.git
**/__pycache__
**/*.py[cod]
**/.venv
**/.pytest_cache
**/.mypy_cache
**/.env
**/Dockerfile*
.dockerignore
```
`layerwise fix` writes one.

## Fix safety
The fix is safe: it creates `.dockerignore` with the usual Python entries (secrets, version
control, virtual environments, bytecode and tool caches, packaging metadata, editor files,
the build's own files) in their `**/` form, leaving out every entry that would exclude a file
the build reads (a `COPY`/`ADD` source, a bind-mount source, a file an install reads).
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.analyses.rules._ignore_edits import append_lines, new_patterns

CANONICAL: list[tuple[str, list[str]]] = [
    ("secrets: never send them to the builder", [
        "**/.env", "**/.env.*", "**/.envrc", "**/*.key", "**/id_rsa*", "**/id_ed25519*", "**/.aws",
        "**/.ssh", "**/.pypirc", "**/.netrc", "**/.npmrc", "**/secrets.toml",
    ]),
    ("version control: large, and changes on every commit", ["**/.git", "**/.hg", "**/.svn"]),
    ("virtual environments: platform-specific, rebuilt in the image", [
        "**/.venv", "**/venv", "**/__pypackages__", "**/.pdm-python", "**/.conda",
    ]),
    ("bytecode and tool caches: churn on every local run", [
        "**/__pycache__", "**/*.py[cod]", "**/.pytest_cache", "**/.mypy_cache",
        "**/.ruff_cache", "**/.hypothesis", "**/.tox", "**/.nox", "**/.coverage", "**/htmlcov",
        "**/.ipynb_checkpoints",
    ]),
    ("packaging metadata left by local installs", ["**/*.egg-info", "**/.eggs"]),
    ("editors and OS noise", ["**/.idea", "**/.vscode", "**/.DS_Store"]),
    ("the build's own files: editing them should not bust COPY . .", [
        "**/Dockerfile*", "**/*.dockerfile", "**/docker-compose*", "**/compose.y*ml", ".dockerignore",
    ]),
]  # fmt: skip


def new_file(ctx: RuleContext) -> list[str]:
    """The lines of a new ``.dockerignore``: the entries of :data:`CANONICAL` that exclude no
    file the build reads, under their section titles."""
    lines: list[str] = []
    for title, patterns in CANONICAL:
        keep = new_patterns(ctx, patterns)
        if keep:
            lines += [f"# {title}", *keep]
    return lines

CODE = "LW301"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.project.ignore is not None or ctx.project.errors:
        return
    for _, step in ctx.steps():
        if copies.is_whole_context(step):
            node = step.instruction.node
            edit = append_lines(ctx, new_file(ctx), create=True)
            yield ctx.at(
                CODE,
                node,
                f"{node.keyword.upper()} of the whole context with no .dockerignore: .git, caches, "
                "virtualenvs and local files are copied and bust this layer",
                hint="add a .dockerignore (layerwise fix writes one)",
                fix=Fix("safe", "write a .dockerignore", (edit,) if edit else ()),
            )
            return
