"""``layerwise pin``: loose requirements -> exact pins, with the project's tool or pip's resolver."""

from __future__ import annotations

from layerwise.cli.args import command, echo, existing, flag, repeated


def _python_version(value: str) -> str:
    import argparse
    import re

    if not re.fullmatch(r"\d+\.\d+", value):
        raise argparse.ArgumentTypeError(f"{value!r}: X.Y, e.g. 3.12")
    return value


def _arguments(p) -> None:
    p.add_argument("path", nargs="?", default=".", type=existing, metavar="PATH",
                   help="A requirements file or a project folder.  [default: .]")  # fmt: skip
    flag(p, "--hashes", help="Add --hash lines (pip's hash-checking mode).")
    flag(p, "--diff", dest="show_diff", help="Print a unified diff and write nothing (exit 1 if anything would change).")
    p.add_argument("--tool", choices=["auto", "pip", "pip-compile", "uv", "poetry", "pdm", "pipenv"],
                   default="auto", help="Who resolves the versions.  [default: auto]")  # fmt: skip
    p.add_argument("--python", metavar="PYTHON", help="The interpreter pip runs with (and resolves for).")
    p.add_argument("--python-version", metavar="X.Y", type=_python_version,
                   help="Resolve for this Python (default: the image's, from the Dockerfile or .python-version).")  # fmt: skip
    p.add_argument("-i", "--index-url", metavar="URL", help="Package index (passed to the resolver).")
    repeated(p, "-f", "--find-links", dest="find_links", metavar="DIR", help="Also look for wheels here.")
    flag(p, "--no-index", help="Use only --find-links.")


@command(
    usage="[OPTIONS] [PATH]",
    arguments=_arguments,
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
""",
)
def pin(path, hashes, show_diff, tool, python, python_version, index_url, find_links, no_index) -> int:
    from layerwise.escape import line as clean
    from layerwise.pin import pin as pin_project

    options: list[str] = []
    if index_url:
        options += ["--index-url", index_url]
    for f in find_links:
        options += ["--find-links", f]
    if no_index:
        options.append("--no-index")
    result = pin_project(path, hashes=hashes, tool=tool, python=python, index_options=options,
                         python_version=python_version)
    if show_diff:
        text = result.diff()
        if text:
            echo(text, nl=False)
    for note in result.notes:
        echo(clean(f"note: {note}"), err=True)
    if not result.changed:
        echo(f"nothing to pin ({result.tool})", err=True)
        return 0
    if show_diff:
        return 1
    for p in result.write():
        echo(f"wrote {p} ({result.tool})", err=True)
    return 0
