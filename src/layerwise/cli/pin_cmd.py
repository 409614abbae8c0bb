"""``layerwise pin``: loose requirements -> exact pins, with the project's tool or pip's resolver."""

from __future__ import annotations

import click


@click.command(
    help="""Turn loose requirements into exact pins, so that the dependency layer is the same
on every build.

Uses the project's own tool when it has one (poetry lock, pdm lock, uv lock, pipenv lock,
pip-compile or uv pip compile for requirements.in) and otherwise pip's resolver
(pip install --dry-run --report): each loose line of requirements.txt and its -r includes
becomes ==VERSION, keeping markers, extras and comments, and the dependencies they pull in
are added at the end. Versions are resolved for the image's Python: --python-version, else the
one the project's Dockerfile (FROM python:X.Y) or .python-version names; pip resolves for another
Python than its own from wheels only (--python-version --only-binary), and says when it could
not. --python names the interpreter pip runs with (default: the project's .venv, else this one).

\b
Example:
    layerwise pin requirements.txt --hashes --diff
"""
)
@click.argument("path", required=False, default=".", type=click.Path(exists=True))
@click.option("--hashes", is_flag=True, help="Add --hash lines (pip's hash-checking mode).")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff and write nothing (exit 1 if anything would change).")
@click.option("--tool", type=click.Choice(["auto", "pip", "pip-compile", "uv", "poetry", "pdm", "pipenv"]),
              default="auto", show_default=True, help="Who resolves the versions.")  # fmt: skip
@click.option("--python", "python", metavar="PYTHON", help="The interpreter pip runs with (and resolves for).")
@click.option("--python-version", "python_version", metavar="X.Y",
              help="Resolve for this Python (default: the image's, from the Dockerfile or .python-version).")  # fmt: skip
@click.option("-i", "--index-url", metavar="URL", help="Package index (passed to the resolver).")
@click.option("-f", "--find-links", "find_links", multiple=True, metavar="DIR", help="Also look for wheels here.")
@click.option("--no-index", is_flag=True, help="Use only --find-links.")
def pin(path, hashes, show_diff, tool, python, python_version, index_url, find_links, no_index) -> int:
    import re

    from layerwise.pin import pin as pin_project
    from layerwise.report.escape import line as clean

    options: list[str] = []
    if index_url:
        options += ["--index-url", index_url]
    for f in find_links:
        options += ["--find-links", f]
    if no_index:
        options.append("--no-index")
    if python_version and not re.fullmatch(r"\d+\.\d+", python_version):
        raise click.BadParameter("X.Y, e.g. 3.12", param_hint="--python-version")
    result = pin_project(path, hashes=hashes, tool=tool, python=python, index_options=options,
                         python_version=python_version)
    if show_diff:
        text = result.diff()
        if text:
            click.echo(text, nl=False)
    for note in result.notes:
        click.echo(clean(f"note: {note}"), err=True)
    if not result.changed:
        click.echo(f"nothing to pin ({result.tool})", err=True)
        return 0
    if show_diff:
        click.get_current_context().exit(1)
    for p in result.write():
        click.echo(f"wrote {p} ({result.tool})", err=True)
    return 0
