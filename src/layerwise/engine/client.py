"""A thin client over the ``docker`` CLI, bound to one DOCKER_HOST."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .output import StepResult, parse_build_output
from .procs import child_setup, signals_held, stop_child

__all__ = ["PROXY_ARGS", "BuildResult", "Container", "Engine", "EngineError"]

# Build args that both builders predefine and keep out of the cache key
# (BuildKit dockerfile2llb, legacy builder/dockerfile/buildargs.go).
PROXY_ARGS = ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")


class EngineError(RuntimeError):
    """The engine could not be started or a docker command failed."""


@dataclass
class BuildResult:
    ok: bool
    returncode: int
    builder: str  # "buildkit" | "legacy"
    steps: list[StepResult]
    log: str  # everything the CLI printed (stdout and stderr, in order)
    error: str | None = None
    image_id: str | None = None
    tag: str | None = None
    seconds: float = 0.0  # wall clock of the whole build
    format: str = "unknown"  # the output format the parser detected

    def step(self, text: str, *, stage: str | None = ..., nth: int = 0) -> StepResult:  # type: ignore[assignment]
        """The step whose instruction starts with ``text`` (case-insensitive)."""
        want = text.strip().lower()
        hits = [
            s
            for s in self.steps
            if s.instruction.lower().startswith(want) and (stage is ... or s.stage == stage)
        ]
        if len(hits) <= nth:
            raise KeyError(f"no step {text!r} in:\n{self.summary()}")
        return hits[nth]

    def summary(self) -> str:
        head = f"{self.builder} build {'ok' if self.ok else 'FAILED'} in {self.seconds:.1f}s"
        lines = [head] + ["  " + s.short() for s in self.steps]
        if self.error:
            lines.append(f"  error: {self.error}")
        return "\n".join(lines)


@dataclass
class Container:
    engine: Engine
    id: str
    name: str | None = None
    _removed: bool = field(default=False, repr=False)

    def logs(self) -> str:
        p = self.engine.docker("logs", self.id, check=False)
        return p.stdout + p.stderr

    def running(self) -> bool:
        p = self.engine.docker("inspect", "-f", "{{.State.Running}}", self.id, check=False)
        return p.returncode == 0 and p.stdout.strip() == "true"

    def remove(self) -> None:
        if not self._removed:
            self.engine.docker("rm", "-f", self.id, check=False)
            self._removed = True

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Engine:
    """Run docker commands against ``docker_host`` with a given client binary.

    ``config_dir`` becomes DOCKER_CONFIG (our private one points the CLI at the
    buildx plugin); None keeps the caller's. Works with the harness daemon or,
    via :meth:`from_env`, with a user's own docker.
    """

    def __init__(
        self,
        docker_host: str | None,
        docker: str | os.PathLike[str] = "docker",
        *,
        config_dir: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        flavor: str = "unknown",
    ) -> None:
        self.docker_host = docker_host
        self.docker_bin = str(docker)
        self.config_dir = str(config_dir) if config_dir else None
        self.flavor = flavor
        base = dict(os.environ)
        if env:
            base.update(env)
        if docker_host:
            base["DOCKER_HOST"] = docker_host
        if self.config_dir:
            base["DOCKER_CONFIG"] = self.config_dir
        for k in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "BUILDX_BUILDER"):
            if docker_host:
                base.pop(k, None)
        base.pop("DOCKER_BUILDKIT", None)
        self.env = base

    @classmethod
    def from_env(cls) -> Engine:
        """The user's docker: ``docker`` on PATH and their DOCKER_HOST/context."""
        exe = shutil.which("docker")
        if exe is None:
            raise EngineError("no `docker` client on PATH")
        return cls(os.environ.get("DOCKER_HOST"), exe)

    # ------------------------------------------------------------ plumbing
    def docker(
        self,
        *args: str,
        check: bool = True,
        timeout: float | None = 300,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        e = self.env if not env else {**self.env, **env}
        proc: subprocess.Popen[str] | None = None
        try:
            with signals_held():  # (a Ctrl-C comes once `proc` names the child)
                proc = self._spawn(
                    [self.docker_bin, *args],
                    env=e,
                    stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            assert proc is not None
            stop_child(proc)
            raise EngineError(f"docker {' '.join(args)} timed out after {timeout}s") from exc
        except BaseException:
            if proc is not None:
                stop_child(proc)  # interrupted: the CLI cancels its request, as on Ctrl-C
            raise
        p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        if check and p.returncode != 0:
            raise EngineError(
                f"docker {' '.join(args)} failed ({p.returncode}): {(p.stderr or p.stdout).strip()}"
            )
        return p

    @staticmethod
    def _spawn(argv: list[str], **kwargs) -> subprocess.Popen:
        """Start a docker CLI that ends with us (call it under ``signals_held``). Interrupted
        (Ctrl-C, or a signal to our process alone that became KeyboardInterrupt), its caller
        stops it with ``stop_child``:
        SIGINT (the CLI cancels the build or request on the engine), SIGKILL after
        ``procs.STOP_GRACE`` s. And if we die without doing so (SIGKILL), the kernel sends it
        SIGINT (PR_SET_PDEATHSIG), so that it is not left running on its own."""
        return subprocess.Popen(argv, preexec_fn=child_setup(signal.SIGINT), **kwargs)

    def ping(self) -> bool:
        p = self.docker("version", "--format", "{{.Server.Version}}", check=False, timeout=10)
        return p.returncode == 0 and bool(p.stdout.strip())

    def server_version(self) -> str:
        return self.docker("version", "--format", "{{.Server.Version}}").stdout.strip()

    # ------------------------------------------------------------ images
    def inspect_image(self, ref: str) -> dict | None:
        p = self.docker("image", "inspect", ref, check=False)
        if p.returncode != 0:
            return None
        data = json.loads(p.stdout)
        return data[0] if data else None

    def image_exists(self, ref: str) -> bool:
        return self.inspect_image(ref) is not None

    def remove_image(self, ref: str, *, force: bool = True) -> bool:
        args = ["rmi"] + (["-f"] if force else []) + [ref]
        return self.docker(*args, check=False).returncode == 0

    def tag(self, src: str, dst: str) -> None:
        self.docker("tag", src, dst)

    def import_image(
        self, tarball: str | os.PathLike[str], tag: str, changes: Sequence[str] = ()
    ) -> str:
        args = ["import"]
        for c in changes:
            args += ["--change", c]
        args += [str(tarball), tag]
        return self.docker(*args, timeout=600).stdout.strip()

    def prune_build_cache(self) -> None:
        """Drop BuildKit's build cache (all of it) and dangling images.

        Tagged images, and the legacy builder's intermediate images under them,
        stay: remove the tags first for a cold legacy build.
        """
        self.docker("builder", "prune", "-af", timeout=600, env={"DOCKER_BUILDKIT": "1"})
        self.docker("image", "prune", "-f", timeout=600)

    # ------------------------------------------------------------ builds
    def build(
        self,
        context: str | os.PathLike[str],
        dockerfile: str | os.PathLike[str] | None = None,
        *,
        builder: str = "buildkit",
        tag: str | None = None,
        build_args: Mapping[str, str] | None = None,
        target: str | None = None,
        no_cache: bool = False,
        network: str | None = "host",
        proxy_from_env: bool = True,
        extra_args: Sequence[str] = (),
        timeout: float = 1800,
    ) -> BuildResult:
        """Build and report every step as the engine printed it.

        ``builder``: "buildkit" (``DOCKER_BUILDKIT=1 --progress=plain``) or
        "legacy" (``DOCKER_BUILDKIT=0``). ``network="host"`` lets RUN reach the
        package index through the host's network. Proxy variables of the
        environment are passed as build args (predefined args, kept out of the
        cache key by both builders) unless ``proxy_from_env`` is False.
        """
        if builder not in ("buildkit", "legacy"):
            raise ValueError(f"builder must be 'buildkit' or 'legacy', not {builder!r}")
        args = ["build"]
        if builder == "buildkit":
            args += ["--progress=plain"]
        if dockerfile is not None:
            args += ["-f", str(dockerfile)]
        if tag:
            args += ["-t", tag]
        if target:
            args += ["--target", target]
        if no_cache:
            args += ["--no-cache"]
        if network:
            args += ["--network", network]
        bargs = dict(build_args or {})
        if proxy_from_env:
            for name in PROXY_ARGS:
                for k in (name, name.lower()):
                    if k not in bargs and os.environ.get(k):
                        bargs[k] = os.environ[k]
        for k, v in bargs.items():
            args += ["--build-arg", f"{k}={v}"]
        env = dict(self.env)
        env["DOCKER_BUILDKIT"] = "1" if builder == "buildkit" else "0"
        env["BUILDKIT_PROGRESS"] = "plain"
        env["NO_COLOR"] = "1"

        lines: list[str] = []
        times: list[float] = []
        timed_out = threading.Event()
        proc: subprocess.Popen[str] | None = None

        def on_timeout() -> None:
            timed_out.set()
            if proc is not None:
                stop_child(proc, drain=False)  # (the build's thread still reads its output)

        killer = threading.Timer(timeout, on_timeout)
        killer.daemon = True
        fd, iidfile = tempfile.mkstemp(prefix="lw-iid-")
        try:
            os.close(fd)
            t0 = time.monotonic()
            with signals_held():  # (a Ctrl-C comes once `proc` names the child)
                proc = self._spawn(
                    [self.docker_bin, *args, "--iidfile", iidfile, *extra_args, str(context)],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    errors="replace",
                    bufsize=1,
                )
            killer.start()
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                times.append(time.monotonic() - t0)
            rc = proc.wait()
        except BaseException:
            # Interrupted: cancel the build (SIGINT to the CLI, as a terminal's Ctrl-C does; the
            # signal may have been for our process alone), wait for the CLI and its buildx
            # plugin to end (SIGKILL after a while), then go on.
            try:
                killer.cancel()
                if proc is not None:
                    stop_child(proc)
            finally:
                _unlink(iidfile)
            raise
        finally:
            killer.cancel()
        elapsed = time.monotonic() - t0
        try:
            iid = Path(iidfile).read_text().strip() or None
        except OSError:
            iid = None
        finally:
            _unlink(iidfile)
        parsed = parse_build_output(lines, times)
        error = parsed.error if rc != 0 else None
        if rc != 0 and not error:
            error = next((ln.strip() for ln in reversed(lines) if ln.strip()), f"exit {rc}")
        if rc != 0 and timed_out.is_set():
            error = f"timed out after {timeout}s ({error})"
        return BuildResult(
            ok=rc == 0,
            returncode=rc,
            builder=builder,
            steps=parsed.steps,
            log="\n".join(lines) + ("\n" if lines else ""),
            error=error,
            image_id=iid or parsed.image_id,
            tag=tag,
            seconds=round(elapsed, 3),
            format=parsed.format,
        )

    # ------------------------------------------------------------ containers
    def run(
        self,
        image: str,
        args: Sequence[str] = (),
        *,
        detach: bool = True,
        network: str | None = "host",
        env: Mapping[str, str] | None = None,
        name: str | None = None,
        entrypoint: str | None = None,
        extra_args: Sequence[str] = (),
        timeout: float = 300,
    ) -> Container | subprocess.CompletedProcess[str]:
        """Start a container. Detached: a :class:`Container` (remove it, or use
        ``with``). Not detached: the finished process (container removed)."""
        cmd = ["run"]
        cmd += ["-d"] if detach else ["--rm"]
        if network:
            cmd += ["--network", network]
        if name:
            cmd += ["--name", name]
        if entrypoint is not None:
            cmd += ["--entrypoint", entrypoint]
        for k, v in (env or {}).items():
            cmd += ["-e", f"{k}={v}"]
        cmd += list(extra_args)
        cmd += [image, *args]
        if not detach:
            return self.docker(*cmd, check=False, timeout=timeout)
        cid = self.docker(*cmd, timeout=timeout).stdout.strip()
        return Container(self, cid, name)

    def wait_http(
        self,
        url: str,
        *,
        timeout: float = 30,
        container: Container | None = None,
    ) -> str:
        """GET ``url`` until it answers 2xx; return the body. Fails early if the
        container stopped."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(url, timeout=5) as r:
                    return r.read().decode("utf-8", "replace")
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                last = exc
            if container is not None and not container.running():
                raise EngineError(
                    f"container {container.id[:12]} exited before {url} answered:\n{container.logs()}"
                )
            time.sleep(0.2)
        logs = container.logs() if container is not None else ""
        raise EngineError(f"{url} did not answer within {timeout}s ({last})\n{logs}")
