"""``layerwise demo``: the whole tool on the bundled flask-demo, narrated."""

from __future__ import annotations

from layerwise.cli.args import command, echo, flag, int_range

CHANGE_FROM = "Hello, Docker!"
CHANGE_TO = "Hello, World!"


def _heading(n: int, total: int, text: str) -> None:
    from layerwise.cli.color import style

    echo()
    echo(style(f"── {n}/{total}  {text} " + "─" * max(3, 72 - len(text)), bold=True))


def _say(text: str) -> None:
    for line in text.strip("\n").splitlines():
        echo(f"   {line}")


def _available(name: str) -> bool:
    from layerwise.cli import COMMANDS

    return name in COMMANDS


def shorten_diff(text: str, keep: int = 8) -> str:
    """A diff with each .dockerignore section cut to its first ``keep`` added lines."""
    out: list[str] = []
    cut = 0
    in_ignore = False
    shown = 0
    for line in text.splitlines():
        if line.startswith("--- "):
            in_ignore = line.rstrip().endswith(".dockerignore")
            shown = 0
        if in_ignore and line.startswith("+") and not line.startswith("+++"):
            shown += 1
            if shown > keep:
                cut += 1
                continue
        if cut and not (in_ignore and line.startswith("+")):
            out.append(f"  ... ({cut} more .dockerignore lines)")
            cut = 0
        out.append(line)
    if cut:
        out.append(f"  ... ({cut} more .dockerignore lines)")
    return "\n".join(out)


def _layerwise(args: list[str], cwd, *, stream: bool = False, shorten: bool = False) -> int:
    """Run ``layerwise ARGS`` (a fresh process, as a user would) and show its output indented."""
    import os
    import shutil
    import subprocess
    import sys

    from layerwise.cli.color import color_choice, style

    echo(style(f"   $ layerwise {' '.join(args)}", fg="cyan"))
    cmd = [sys.executable, "-m", "layerwise", *args]
    base = dict(os.environ, NO_COLOR="1") if color_choice() is False else None  # --no-color: the commands too
    if stream:
        sys.stdout.flush()
        return subprocess.run(cmd, cwd=cwd, env=base, check=False).returncode
    env = dict(base or os.environ, COLUMNS=str(max(60, shutil.get_terminal_size((100, 24)).columns - 5)))
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    text = p.stdout.rstrip("\n")
    if shorten:
        text = shorten_diff(text)
    if p.stderr.strip():
        text = (text + "\n" + p.stderr.rstrip("\n")).strip("\n")
    for line in text.splitlines():
        echo(f"   │ {line}")
    if p.returncode == 2:
        echo(style(f"   (layerwise {args[0]} failed: exit 2)", fg="red"))
    return p.returncode


def _arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="FILE", default="layerwise-demo.svg",
                   help="Where bench writes its picture (.svg, .png or .html).  [default: layerwise-demo.svg]")  # fmt: skip
    flag(p, "--offline", help="Skip the real builds (bench).")
    p.add_argument("--example", default="flask-demo", metavar="NAME",
                   help="The bundled example to use (flask-demo, data-api).  [default: flask-demo]")  # fmt: skip
    p.add_argument("--runs", default=1, type=int_range(1, 20), metavar="N", help="bench --runs (1 to 20).  [default: 1]")


@command(
    arguments=_arguments,
    help="""Show what layerwise does, on the bundled example project (the article's flask-demo).

Copies the example into a temporary folder and runs, narrating each step: `check` (what is
wrong), `explain` (which steps a one-line code change rebuilds, and why), `fix` (the diff, then
explain again), and, when a Docker engine is available, `bench` (real builds before and after
the fix, a table and a picture). Nothing outside the temporary folder is changed except the
picture, written to --output.

\b
Example:
    layerwise demo
    layerwise demo --offline          # no builds, only the offline commands
""",
)
def demo(output, offline, example, runs) -> int:
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from layerwise.errors import LayerwiseError
    from layerwise.examples import example_path

    try:
        src = example_path(example)
    except FileNotFoundError:
        raise LayerwiseError(f"no bundled example named {example!r} (try flask-demo or data-api)") from None
    output = os.path.abspath(output)
    total = 5
    tmp = Path(tempfile.mkdtemp(prefix="layerwise-demo-"))
    try:
        proj = tmp / example
        shutil.copytree(src, proj)
        before = tmp / "before"  # the project as the last build saw it
        shutil.copytree(proj, before)
        dockerfile = (proj / "Dockerfile").read_text()

        _heading(1, total, f"the project: {example}, copied to {tmp}")
        _say(f"The Dockerfile everyone writes ({example}/Dockerfile):\n")
        for line in dockerfile.splitlines():
            echo(f"   │ {line}")
        _say("\nIt copies the whole project before `pip install`: any code change reinstalls every package.")

        _heading(2, total, "check: what is wrong with it?")
        if _available("check"):
            _say("`check` reads the Dockerfile and the folder, offline, and lists the cache problems.")
            _layerwise(["check", example], tmp)
        else:
            _say("(skipped: this layerwise has no `check` command yet)")

        _heading(3, total, "explain: change one line of app.py; what will the next build redo?")
        app = proj / "app.py"
        text = app.read_text()
        changed = text.replace(CHANGE_FROM, CHANGE_TO) if CHANGE_FROM in text else text + "\n# changed\n"
        app.write_text(changed)
        _say(f"app.py now says {CHANGE_TO!r}. `explain` compares the folder with the state of the last\n"
             "build (here the copy in before/; by default the last git commit) and predicts each step:")  # fmt: skip
        _layerwise(["explain", example, "--before", "before"], tmp)

        _heading(4, total, "fix: rewrite the Dockerfile dependency-first")
        _say("`fix --diff` shows the change; `fix` writes it (the Dockerfile and a .dockerignore).")
        _layerwise(["fix", "--diff", example], tmp, shorten=True)
        _layerwise(["fix", example], tmp)
        # the state the fixed project's last build saw: the fixed files, the old app.py
        before_fixed = tmp / "before-fixed"
        shutil.copytree(proj, before_fixed)
        (before_fixed / "app.py").write_text(text)
        _say("\nThe same one-line change, with the fixed Dockerfile: only the final COPY reruns.")
        _layerwise(["explain", example, "--before", "before-fixed"], tmp)

        _heading(5, total, "bench: real builds, before and after the fix")
        if offline:
            _say("(skipped: --offline)")
            return 0
        from layerwise.bench.engines import INSTALL_HINT, choose_engine

        choice = choose_engine()
        if choice.kind is None:
            _say(f"No Docker engine here ({choice.reason}).\nTo see real builds: {INSTALL_HINT},\n"
                 "then run `layerwise demo` again (or `layerwise bench PATH --fixed` on your project).")  # fmt: skip
            return 0
        _say("`bench` builds the original project cold, appends a comment to app.py, rebuilds; then the\n"
             "same with the fixed Dockerfile (in a copy). It times every step and checks explain's\n"
             "predictions against what the engine did.")  # fmt: skip
        shutil.rmtree(proj)
        shutil.copytree(before, proj)  # the original project again
        rc = _layerwise(["bench", example, "--fixed", "--runs", str(runs), "--output", output], tmp, stream=True)
        if rc == 0:
            _say(f"\nThe picture: {output}")
        return 0 if rc in (0, 1) else rc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
