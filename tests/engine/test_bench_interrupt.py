"""``layerwise bench`` interrupted mid-build (issue #8): the user's files restored.

``bench`` runs as a subprocess in its own process group against the private engine (as "your
Docker": DOCKER_HOST points at the test's daemon), on a copy of flask-demo whose Dockerfile has
a hook: a RUN step that, in the build we want to interrupt, calls back to a socket of the test
over the host network and then waits for an answer that never comes. When the test accepts that
connection, the build is really in progress (a RUN step executing on the engine), so the signal
lands mid-build, with no sleep as synchronisation. The signal goes either to the whole process
group, as a terminal's Ctrl-C does (the docker CLI gets it too), or to bench's process alone, as
``kill PID`` does (then bench itself must stop its docker CLI, which cancels the build).

Then: exit code 128 + the signal (130, 143) with a short message and no traceback; the project tree byte-identical
(contents, modes, mtimes, symlinks, no extra files); nothing left in TMPDIR (bench's temporary
copy) nor a stat cache file for the copy; no docker CLI or buildx plugin of bench still running
once bench has exited; the hooked RUN stopped (the engine cancelled the build); no container,
image or tag of the bench left, nor any process of its group.

BuildKit, bench's default builder. (The legacy builder, interrupted, keeps the intermediate
images of the steps it finished: its build cache, which bench leaves on purpose.)
"""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import layerwise

pytestmark = pytest.mark.engine

EXAMPLE = Path(layerwise.__file__).parent / "examples" / "flask-demo"
TIMEOUT = 600  # generous: two shared cores, a cold build and a rebuild before the hook fires

# The RUN step that calls back: when app.py carries bench's edit ("edited") or not ("cold"),
# as HOOK_WHEN says, it connects to the test and blocks until killed.
HOOKED = """\
FROM busybox:latest
WORKDIR /app
ADD . /app
ARG HOOK_PORT
ARG HOOK_WHEN
RUN if grep -q "layerwise bench" app.py; then state=edited; else state=cold; fi; \\
    echo "app.py: $state"; \\
    if [ "$state" = "$HOOK_WHEN" ]; then wget -q -O- "http://127.0.0.1:$HOOK_PORT/$state"; fi
CMD ["python", "app.py"]
"""
PLAIN = """\
FROM busybox:latest
WORKDIR /app
ADD . /app
RUN echo "installing requirements"
CMD ["python", "app.py"]
"""

# Where the interrupt lands:
#   in-place-rebuild: your Dockerfile's rebuild, while app.py carries the edit;
#   copy-rebuild: an --against Dockerfile's rebuild, in bench's temporary copy;
#   copy-cold: the --against Dockerfile's cold build (your Dockerfile's builds done, images to remove).
SCENARIOS = {
    "in-place-rebuild": {"dockerfile": HOOKED, "against": None, "when": "edited",
                         "marker": "your Dockerfile: rebuild after changing app.py"},
    "copy-rebuild": {"dockerfile": PLAIN, "against": HOOKED, "when": "edited",
                     "marker": "Dockerfile.hooked (--against): rebuild after changing app.py"},
    "copy-cold": {"dockerfile": PLAIN, "against": HOOKED, "when": "cold",
                  "marker": "Dockerfile.hooked (--against): cold build"},
}


def _project(tmp_path: Path, dockerfile: str) -> Path:
    """flask-demo with a busybox Dockerfile, plus files that show modes, times and links."""
    ctx = tmp_path / "flask-demo"
    shutil.copytree(EXAMPLE, ctx)
    (ctx / "Dockerfile").write_text(dockerfile)
    (ctx / "static").mkdir()
    (ctx / "static" / "style.css").write_bytes(b"body { color: #333 }\r\n")
    (ctx / "run.sh").write_text("#!/bin/sh\nexec python app.py\n")
    os.chmod(ctx / "run.sh", 0o755)
    (ctx / "secret.cfg").write_bytes(b"token = x\n")
    os.chmod(ctx / "secret.cfg", 0o600)
    (ctx / "latest.py").symlink_to("app.py")
    os.chmod(ctx / "app.py", 0o640)
    os.utime(ctx / "app.py", ns=(1_600_000_000_000_000_000, 1_600_000_000_123_456_789))
    return ctx


def _tree(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: type and permission bits, size, content digest or link
    target, mtime (folders too: a file made and deleted again changes its folder's mtime)."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames] if dirpath == str(root) else [*dirnames, *filenames]:
            p = Path(dirpath) / name
            st = p.lstat()
            if stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(p.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = "-> " + os.readlink(p)
            else:
                content = ""
            rel = p.relative_to(root).as_posix() if name != "." else "."
            out[rel] = (stat.filemode(st.st_mode), st.st_size if not stat.S_ISDIR(st.st_mode) else 0, content,
                        st.st_mtime_ns)  # fmt: skip
    return out


def _tree_hash(tree: dict[str, tuple]) -> str:
    return hashlib.sha256(repr(sorted(tree.items())).encode()).hexdigest()


class Output:
    """Collects a stream's lines on a thread (the pipe never fills up)."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.done = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def wait_for(self, text: str, timeout: float) -> str | None:
        """The first line containing ``text``, once it has been written (None: never)."""
        with self.cond:
            self.cond.wait_for(lambda: self.done or any(text in ln for ln in self.lines), timeout)
            return next((ln for ln in self.lines if text in ln), None)

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _group_processes(pgid: int) -> list[str]:
    """Live (not zombie) processes of a process group, as ``pid comm``."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            data = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        comm = data[data.index("(") + 1 : data.rindex(")")]
        fields = data[data.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(f"{d} {comm}")
    return out


def _descendants(pid: int) -> dict[tuple[int, int], str]:
    """Live processes below ``pid``: (pid, start time) -> comm."""
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                data = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            fields = data[data.rindex(")") + 2 :].split()
            if fields[0] not in ("Z", "X"):
                stats[int(d)] = (data[data.index("(") + 1 : data.rindex(")")], int(fields[1]), int(fields[19]))
    out, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (comm, ppid, start) in stats.items():
            if ppid == parent:
                out[(child, start)] = comm
                todo.append(child)
    return out


def _running(procs: dict[tuple[int, int], str]) -> list[str]:
    """Those of ``procs`` still running (the same processes: same start time; not zombies)."""
    out = []
    for (pid, start), comm in procs.items():
        try:
            data = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[19]) == start:
            out.append(f"{pid} {comm}")
    return out


def _wait_until(condition, timeout: float):
    """Poll ``condition`` until it is true (the engine and the docker CLI finish cancelling in
    the background; this waits for a state, it does not guess a duration)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _engine_state(engine) -> tuple[set[str], set[str], list[str]]:
    containers = set(engine.docker("ps", "-aq", "--no-trunc").stdout.split())
    images = set(engine.docker("images", "-aq", "--no-trunc").stdout.split())
    tags = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    return containers, images, [t for t in tags if t.startswith("layerwise-bench-")]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("to", ["group", "pid"])
def test_bench_interrupted_mid_build_restores_everything(engine_daemon, engine, tmp_path, scenario, sig, to):
    spec = SCENARIOS[scenario]
    ctx = _project(tmp_path, spec["dockerfile"])
    args = [sys.executable, "-m", "layerwise", "bench", str(ctx), "-o", str(tmp_path / "bench.svg")]
    if spec["against"]:
        (tmp_path / "Dockerfile.hooked").write_text(spec["against"])
        args += ["--against", str(tmp_path / "Dockerfile.hooked")]
    before = _tree(ctx)
    containers_before, images_before, _ = _engine_state(engine)

    home = tmp_path / "home"
    tmpdir = tmp_path / "tmp"
    cwd = tmp_path / "cwd"
    for d in (home, tmpdir, cwd):
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "BUILDX_", "LAYERWISE_DEBUG"))}
    env.update(engine_daemon.env)  # bench uses the test's daemon as "your Docker"
    env["PATH"] = os.pathsep.join([str(Path(engine.docker_bin).parent), env.get("PATH", os.defpath)])
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), TMPDIR=str(tmpdir), PYTHONUNBUFFERED="1")

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        args += ["--build-arg", f"HOOK_PORT={port}", "--build-arg", f"HOOK_WHEN={spec['when']}"]
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
        children: dict[tuple[int, int], str] = {}
        try:
            out, err = Output(proc.stdout), Output(proc.stderr)
            # The hook connects: the build is in progress.
            deadline = time.monotonic() + TIMEOUT
            while not select.select([server], [], [], 1.0)[0]:
                assert proc.poll() is None, f"bench ended before the hooked build:\n{err.text}{out.text}"
                assert time.monotonic() < deadline, f"the hooked build never started:\n{err.text}"
            conn, _ = server.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                request = b""
                while b"\r\n" not in request:
                    chunk = conn.recv(4096)
                    assert chunk, "the hook closed its connection"
                    request += chunk
                assert request.startswith(f"GET /{spec['when']} ".encode()), request

                app = (ctx / "app.py").read_bytes()
                if scenario == "in-place-rebuild":
                    assert b"# layerwise bench " in app  # the edit is in place while the build runs
                else:
                    assert _tree(ctx) == before  # a copy is built: your files are not touched at all
                marker = spec["marker"]
                assert err.wait_for(marker, TIMEOUT), err.text  # bench's progress says so too
                started = [ln for ln in err.lines if ln.startswith("  ... ")]
                assert marker in started[-1], err.text

                # bench's docker CLI and its buildx plugin, running the build.
                children = _descendants(proc.pid)
                assert {"docker", "docker-buildx"} <= set(children.values()), children

                if to == "group":
                    os.killpg(proc.pid, sig)  # Ctrl-C (or a TERM) to the whole group
                else:
                    os.kill(proc.pid, sig)  # `kill -INT PID`: the docker CLI gets nothing
                rc = proc.wait(timeout=TIMEOUT)
                out.thread.join(TIMEOUT)
                err.thread.join(TIMEOUT)

                # bench exited only once its docker CLI and buildx plugin had (no orphans).
                assert _running(children) == [], children

                # The engine stopped the hooked RUN (so no image can appear later).
                conn.settimeout(TIMEOUT)
                assert conn.recv(4096) == b"", "the hooked RUN step was not stopped"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            for leftover in _running(children):  # (a failed test leaves no orphan either)
                os.kill(int(leftover.split()[0]), signal.SIGKILL)

    # The interrupt's exit status and one short message after the progress lines; no traceback.
    assert rc == 128 + sig, f"exit {rc}\n{err.text}"  # 130 for SIGINT, 143 for SIGTERM
    assert "Traceback" not in err.text + out.text, err.text
    last_progress = max(i for i, ln in enumerate(err.lines) if ln.startswith("  "))
    assert [ln.strip() for ln in err.lines[last_progress + 1 :] if ln.strip()] == ["Aborted."], err.text
    assert out.text == ""

    after = _tree(ctx)
    assert _tree_hash(after) == _tree_hash(before), {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
                                                     if before.get(k) != after.get(k)}  # fmt: skip
    assert not [p for p in ctx.rglob("*") if "layerwise" in p.name or p.name.endswith((".tmp", "~"))]
    assert not (tmp_path / "bench.svg").exists()

    # No temporary file or folder (bench's copy of the context, the CLI's --iidfile) is left,
    # nor a stat cache file for the copy in the cache dir (only, maybe, your folder's own).
    assert sorted(p.name for p in tmpdir.iterdir()) == []
    stat_dir = home / ".cache" / "layerwise" / "stat"
    own = hashlib.sha256(os.fsencode(os.path.realpath(ctx))).hexdigest()[:24] + ".cache"
    assert {p.name for p in stat_dir.iterdir()} <= {own} if stat_dir.exists() else True

    # Nothing of the bench still runs (the docker CLI and its buildx plugin were in its group).
    assert _wait_until(lambda: not _group_processes(proc.pid), 60), _group_processes(proc.pid)

    def clean():
        containers, images, tags = _engine_state(engine)
        return containers <= containers_before and images <= images_before and not tags

    assert _wait_until(clean, 60), (_engine_state(engine), containers_before, images_before)
