"""``layerwise fix``: rewrite the Dockerfile and .dockerignore for a cache-friendly build."""

from __future__ import annotations

from layerwise.cli.args import command, echo, flag, flag_pair, folder, repeated
from layerwise.cli.options import build_arg_option, parse_build_args


def _arguments(p) -> None:
    p.add_argument("path", nargs="?", default=".", type=folder, metavar="PATH",
                   help="The build context (default: the current folder).")  # fmt: skip
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE",
                   help="The Dockerfile (default: PATH/Dockerfile); the context stays PATH, as with docker build -f.")  # fmt: skip
    flag(p, "--diff", dest="show_diff", help="Print a unified diff and write nothing.")
    flag_pair(p, "--cache-mount", "--no-cache-dir", "cache_mount",
              help="Keep package caches in a BuildKit cache mount, or disable them in the layer "
                   "(default: a cache mount when the file already uses BuildKit features).")  # fmt: skip
    repeated(p, "--select", metavar="CODES",
             help="Only these rules' fixes (code prefixes, e.g. LW101,LW3; the longest prefix wins).")  # fmt: skip
    repeated(p, "--ignore", dest="ignore_codes", metavar="CODES", help="Not these rules' fixes.")
    repeated(p, "--extend-select", metavar="CODES", help="Add rules to the configured selection.")
    build_arg_option(p)
    flag(p, "--no-config", help="Ignore [tool.layerwise] in pyproject.toml.")
    flag(p, "--no-dockerignore", help="Leave .dockerignore alone.")
    flag(p, "--unsafe-fixes", help="Apply the unsafe fixes too (they may change what the build does: review the diff).")
    flag(p, "--exit-zero", help="With --diff: exit 0 even when there is something to fix.")


@command(
    usage="[OPTIONS] [PATH]",
    arguments=_arguments,
    help="""Rewrite a project's Dockerfile for a cache-friendly build and fix its .dockerignore.

Copies only the dependency files before the install and the code after it (pip/requirements,
pip-tools, Poetry, uv, PDM, Pipenv, pyproject, conda), handles the package-manager cache
(--no-cache-dir, or a BuildKit cache mount), turns ADD of local files into COPY, and writes a
.dockerignore with the Python entries in their **/ form without excluding what the build needs.
Every other byte of your files is kept. Fixes that need a decision are shown as hints.
It applies the fixes of what `layerwise check` reports, no more: the same rule selection
(--select/--ignore, [tool.layerwise] in pyproject.toml), the same --build-arg values and the
same inline `# layerwise: ignore[CODE]` comments; exactly the findings `check` marks [*] (with
--unsafe-fixes on both, the unsafe fixes too). What it says it fixed is at the lines `check`
reported; the hints left, at the lines of the fixed file.

The build context is PATH (default: the current folder), as with `docker build -f
DOCKERFILE PATH`; when the Dockerfile is elsewhere, a first line says which was used.

\b
Example:
    layerwise fix --diff          # show what would change (exit 1 if anything would)
    layerwise fix                 # write it
    layerwise fix -f docker/Dockerfile   # context: the current folder
""",
)
def fix(path, dockerfile, show_diff, cache_mount, select, ignore_codes, extend_select, build_arg, no_config,
        no_dockerignore, unsafe_fixes, exit_zero) -> int:  # fmt: skip
    import os
    import sys

    from layerwise.analyses.selection import rule_selection
    from layerwise.api import context_is_elsewhere, context_line, default_context
    from layerwise.config import Config, load_config
    from layerwise.errors import LayerwiseError, Location
    from layerwise.escape import line as clean
    from layerwise.escape import terminal
    from layerwise.fixes import fix_project

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
        echo(clean(context_line(df_path, path)), err=True)
    result = fix_project(
        path,
        df_path,
        select=set(sel),
        ignore=set(ign),
        cache_mount=cache_mount,
        dockerignore=not no_dockerignore,
        unsafe_fixes=unsafe_fixes,
        build_args=parse_build_args(build_arg),
    )
    if show_diff:
        text = result.diff()
        if text:
            # a patch keeps the file's bytes (to be applied); a terminal gets no raw controls
            echo(terminal(text) if sys.stdout.isatty() else text, nl=False)
    written = [] if show_diff or not result.changed else result.write()  # all or nothing
    for f in result.applied:
        echo(clean(f"{'would fix' if show_diff else 'fixed'}: {f.code} {f.message}"), err=True)
    for h in result.hints:
        echo(clean(f"hint: {h.code} {h.message}"), err=True)
    if not result.changed:
        echo("nothing to fix", err=True)
        return 0
    if show_diff and not exit_zero:
        return 1  # something to fix: fail CI
    for p in written:
        echo(clean(f"wrote {p}"), err=True)
    return 0
