"""``layerwise fix``: rewrite the Dockerfile and .dockerignore for a cache-friendly build."""

from __future__ import annotations

import click


@click.command(
    help="""Rewrite a project's Dockerfile for a cache-friendly build and fix its .dockerignore.

Copies only the dependency files before the install and the code after it (pip/requirements,
pip-tools, Poetry, uv, PDM, Pipenv, pyproject, conda), handles the package-manager cache
(--no-cache-dir, or a BuildKit cache mount), turns ADD of local files into COPY, and writes a
.dockerignore with the Python entries in their **/ form without excluding what the build needs.
Every other byte of your files is kept. Fixes that need a decision are shown as hints.
It applies the fixes of what `layerwise check` reports, no more: the same rule selection
(--select/--ignore, [tool.layerwise] in pyproject.toml) and the same inline
`# layerwise: ignore[CODE]` comments; exactly the findings `check` marks [*] (with
--unsafe-fixes on both, the unsafe fixes too).

The build context is PATH (default: the current folder), as with `docker build -f
DOCKERFILE PATH`; when the Dockerfile is elsewhere, a first line says which was used.

\b
Example:
    layerwise fix --diff          # show what would change (exit 1 if anything would)
    layerwise fix                 # write it
    layerwise fix -f docker/Dockerfile   # context: the current folder
"""
)
@click.argument("path", required=False, default=".", type=click.Path(file_okay=False))
@click.option("-f", "--file", "dockerfile", metavar="DOCKERFILE",
              help="The Dockerfile (default: PATH/Dockerfile); the context stays PATH, as with docker build -f.")  # fmt: skip
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff and write nothing.")
@click.option("--cache-mount/--no-cache-dir", "cache_mount", default=None,
              help="Keep package caches in a BuildKit cache mount, or disable them in the layer "
                   "(default: a cache mount when the file already uses BuildKit features).")  # fmt: skip
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules' fixes (code prefixes, e.g. LW101,LW3; the longest prefix wins).")  # fmt: skip
@click.option("--ignore", "ignore_codes", multiple=True, metavar="CODES", help="Not these rules' fixes.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Add rules to the configured selection.")
@click.option("--no-config", is_flag=True, help="Ignore [tool.layerwise] in pyproject.toml.")
@click.option("--no-dockerignore", is_flag=True, help="Leave .dockerignore alone.")
@click.option("--unsafe-fixes", is_flag=True,
              help="Apply the unsafe fixes too (they may change what the build does: review the diff).")  # fmt: skip
@click.option("--exit-zero", is_flag=True, help="With --diff: exit 0 even when there is something to fix.")
def fix(path, dockerfile, show_diff, cache_mount, select, ignore_codes, extend_select, no_config, no_dockerignore,
        unsafe_fixes, exit_zero) -> int:  # fmt: skip
    import os
    import sys

    from layerwise.api import context_is_elsewhere, context_line, default_context
    from layerwise.cli.options import rule_selection
    from layerwise.config import Config, load_config
    from layerwise.errors import LayerwiseError, Location
    from layerwise.fixes import fix_project
    from layerwise.report.escape import line as clean
    from layerwise.report.escape import terminal

    # the rules check runs are the rules fix applies: same options, same [tool.layerwise]
    cfg = Config() if no_config else load_config(path)
    sel, ign = rule_selection(cfg, select, ignore_codes, extend_select)
    if dockerfile is None and path == "." and cfg.dockerfile:
        dockerfile = cfg.resolve(cfg.dockerfile)
        path = default_context(None, cfg)
    df_path = dockerfile or os.path.join(path, "Dockerfile")
    if not os.path.exists(df_path):
        raise LayerwiseError("no Dockerfile here (use -f to name it)", Location(df_path))
    if context_is_elsewhere(df_path, path):
        click.echo(clean(context_line(df_path, path)), err=True)
    result = fix_project(
        path,
        df_path,
        select=set(sel),
        ignore=set(ign),
        cache_mount=cache_mount,
        dockerignore=not no_dockerignore,
        unsafe_fixes=unsafe_fixes,
    )
    if show_diff:
        text = result.diff()
        if text:
            # a patch keeps the file's bytes (to be applied); a terminal gets no raw controls
            click.echo(terminal(text) if sys.stdout.isatty() else text, nl=False)
    written = [] if show_diff or not result.changed else result.write()  # all or nothing
    for f in result.applied:
        click.echo(clean(f"{'would fix' if show_diff else 'fixed'}: {f.code} {f.message}"), err=True)
    for h in result.hints:
        click.echo(clean(f"hint: {h.code} {h.message}"), err=True)
    if not result.changed:
        click.echo("nothing to fix", err=True)
        return 0
    if show_diff and not exit_zero:
        click.get_current_context().exit(1)  # something to fix: fail CI
    for p in written:
        click.echo(clean(f"wrote {p}"), err=True)
    return 0
