"""``layerwise fix``: rewrite the Dockerfile and .dockerignore for a cache-friendly build."""

from __future__ import annotations

import click


def _codes(values: tuple[str, ...]) -> set[str] | None:
    out = {c.strip().upper() for v in values for c in v.split(",") if c.strip()}
    return out or None


@click.command(
    help="""Rewrite a project's Dockerfile for a cache-friendly build and fix its .dockerignore.

Copies only the dependency files before the install and the code after it (pip/requirements,
pip-tools, Poetry, uv, PDM, Pipenv, pyproject, conda), handles the package-manager cache
(--no-cache-dir, or a BuildKit cache mount), turns ADD of local files into COPY, and writes a
.dockerignore with the Python entries in their **/ form without excluding what the build needs.
Every other byte of your files is kept. Fixes that need a decision are shown as hints.

\b
Example:
    layerwise fix --diff          # show what would change (exit 1 if anything would)
    layerwise fix                 # write it
"""
)
@click.argument("path", required=False, default=".", type=click.Path(file_okay=False))
@click.option("-f", "--file", "dockerfile", metavar="DOCKERFILE", help="The Dockerfile (default: PATH/Dockerfile).")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff and write nothing.")
@click.option("--cache-mount/--no-cache-dir", "cache_mount", default=None,
              help="Keep package caches in a BuildKit cache mount, or disable them in the layer "
                   "(default: a cache mount when the file already uses BuildKit features).")  # fmt: skip
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules (e.g. LW101,LW3).")
@click.option("--ignore", "ignore_codes", multiple=True, metavar="CODES", help="Not these rules.")
@click.option("--no-dockerignore", is_flag=True, help="Leave .dockerignore alone.")
def fix(path, dockerfile, show_diff, cache_mount, select, ignore_codes, no_dockerignore) -> int:
    import os

    from layerwise.errors import LayerwiseError, Location
    from layerwise.fixes import fix_project

    df_path = dockerfile or os.path.join(path, "Dockerfile")
    if not os.path.exists(df_path):
        raise LayerwiseError("no Dockerfile here (use -f to name it)", Location(df_path))
    result = fix_project(
        path,
        df_path,
        select=_codes(select),
        ignore=_codes(ignore_codes) or set(),
        cache_mount=cache_mount,
        dockerignore=not no_dockerignore,
    )
    if show_diff:
        text = result.diff()
        if text:
            click.echo(text, nl=False)
    written = [] if show_diff or not result.changed else result.write()  # all or nothing
    for f in result.applied:
        click.echo(f"{'would fix' if show_diff else 'fixed'}: {f.code} {f.message}", err=True)
    for h in result.hints:
        click.echo(f"hint: {h.code} {h.message}", err=True)
    if not result.changed:
        click.echo("nothing to fix", err=True)
        return 0
    if show_diff:
        click.get_current_context().exit(1)  # something to fix: fail CI
    for p in written:
        click.echo(f"wrote {p}", err=True)
    return 0
