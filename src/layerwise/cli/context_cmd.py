"""``layerwise context``: what a build sends to Docker, and what of it ends up in the image."""

from __future__ import annotations

import sys

from layerwise.cli.args import command, flag
from layerwise.cli.options import format_option


def _arguments(p) -> None:
    p.add_argument("path", nargs="?", default=".", metavar="PATH", help="The build context.  [default: .]")
    p.add_argument(
        "-f",
        "--file",
        dest="dockerfile",
        metavar="DOCKERFILE",
        default=None,
        help="The Dockerfile (as with `docker build -f`): BuildKit then uses DOCKERFILE.dockerignore "
        "beside it, when it exists, instead of PATH/.dockerignore.",
    )
    p.add_argument(
        "--builder",
        choices=("buildkit", "legacy"),
        default="buildkit",
        help="Which builder's choice of ignore file to follow.  [default: buildkit]",
    )
    flag(
        p,
        "--count-excluded",
        help="Also walk the folders the ignore file excludes, to count their entries and size "
        "(without it they are listed as not counted: a local .venv costs nothing).",
    )
    format_option(p, ("text", "json"))


@command(
    usage="[OPTIONS] [PATH]",
    arguments=_arguments,
    help="""Show what `docker build` sends as the build context: total size and file count,
what the .dockerignore excluded (and which ignore file BuildKit uses), the heaviest folders,
Python junk (__pycache__, .venv, .git, dist, *.egg-info, ...) and files that look like
secrets (.env, *.pem, id_rsa, .aws/, .pypirc, ...) that are sent, and ignore patterns that
only match at the context root (`*.pyc` instead of `**/*.pyc`).

\b
Example:
    layerwise context . -f docker/Dockerfile --format json
""",
)
def context(
    path: str, dockerfile: str | None, builder: str, count_excluded: bool, output_format: str
) -> int:
    import gc

    # The snapshot's entries (100,000 objects and more) hold no cycles: with the collector on,
    # the first collection after the walk traverses all of them for nothing (#17: ~25 ms of a
    # warm 100k run). Off while the report is made; on again once they are freed (_report's
    # frame is gone), as before for callers in the same process.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _report(path, dockerfile, builder, count_excluded, output_format)
    finally:
        if gc_was_enabled:
            gc.enable()
    return 0


def _report(path: str, dockerfile: str | None, builder: str, count_excluded: bool, output_format: str) -> None:
    from layerwise.cli.color import plain_stdout
    from layerwise.context.report import build_report, render_text, write_json, write_text_plain

    snapshot = _snapshot(path, dockerfile, builder, digests=output_format == "json")
    report = build_report(snapshot, _copy_sources(path, dockerfile), count_excluded=count_excluded)
    if output_format == "json":
        write_json(report, sys.stdout)
    elif not (plain_stdout() and write_text_plain(report, sys.stdout)):
        from layerwise.cli.color import console

        render_text(report, console=console())


def _copy_sources(path: str, dockerfile: str | None):
    """The context sources of the Dockerfile's COPY/ADD instructions, for the report to say
    which of them copy secrets into the image. None when there is no Dockerfile to read."""
    import os

    from layerwise.analyses.copies import copy_sources
    from layerwise.parse import parse_file
    from layerwise.resolve.stages import resolve

    df_path = dockerfile or os.path.join(path, "Dockerfile")
    if not os.path.isfile(df_path):
        return None
    return copy_sources(resolve(parse_file(df_path)), df_path)


def _snapshot(path: str, dockerfile: str | None, builder: str, *, digests: bool):
    import os

    from layerwise.context.ignore import load_ignore
    from layerwise.context.snapshot import Snapshot
    from layerwise.errors import LayerwiseError, Location

    if not os.path.isdir(path):
        what = "does not exist" if not os.path.exists(path) else "is not a directory"
        raise LayerwiseError(f"build context {what}", Location(path))
    if dockerfile is not None and not os.path.isfile(dockerfile):
        raise LayerwiseError("Dockerfile not found", Location(dockerfile))
    ignore = load_ignore(path, dockerfile, builder)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        # the stat cache serves digests only: the text report reads none (as check's context
        # rules, it neither reads the cache nor names its file: no OpenSSL at start-up)
        snap = Snapshot.take(path, ignore, digests=digests, use_cache=digests, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    return snap


class _Progress:
    """A one-line counter on stderr, shown only when the walk takes more than half a second."""

    def __init__(self) -> None:
        import time

        self._time = time.monotonic
        self._start = self._time()
        self._last = 0.0
        self._shown = False

    def __call__(self, seen: int) -> None:
        now = self._time()
        if now - self._start < 0.5 or now - self._last < 0.1:
            return
        self._last = now
        self._shown = True
        sys.stderr.write(f"\rlayerwise: scanning the build context… {seen:,} entries")
        sys.stderr.flush()

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
