"""Start and stop a private dockerd (with its own containerd) for tests and demos."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from . import procs
from .client import Engine, EngineError
from .install import EngineInstall, find_engine

__all__ = ["BASE_IMAGES", "PYTHON_TAGS", "Daemon"]

PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# One Debian 12 rootfs (python3 3.11, pip, venv) answers to all these tags.
PYTHON_TAGS = ("python:3.10-slim", "python:3.11-slim", "python:3.12-slim", "python:3.10", "python:3.11", "python:3.12")
BUSYBOX_TAGS = ("busybox:latest",)
BASE_IMAGES = PYTHON_TAGS + BUSYBOX_TAGS


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """preexec_fn: SIGTERM dockerd if the process that started it dies
    (a killed test run must not leave a daemon behind)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - no prctl (not Linux): the daemon is stopped by us alone
        pass


def _mounts_under(prefix: str) -> list[str]:
    out = []
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                mp = line.split()[1].replace("\\040", " ")
                if mp == prefix or mp.startswith(prefix.rstrip("/") + "/"):
                    out.append(mp)
    except OSError:
        pass
    return sorted(out, key=len, reverse=True)


class Daemon:
    """A dockerd of our own: own socket, data-root, exec-root, containerd.

    ``Daemon.start(workdir)`` returns once the API answers. Everything lives
    under ``workdir`` (a fresh temp dir when None) and is removed by
    :meth:`stop` unless ``keep=True``. Use as a context manager.
    """

    def __init__(
        self, install: EngineInstall, workdir: Path, keep: bool = False, die_with_parent: bool = True,
        config: dict | None = None,
    ) -> None:
        self.install = install
        self.config = dict(config or {})  # daemon.json (e.g. the containerd image store)
        self.die_with_parent = die_with_parent
        self.workdir = workdir
        self.keep = keep
        self.socket = workdir / "docker.sock"
        self.data_root = workdir / "data"
        self.exec_root = workdir / "exec"
        self.pidfile = workdir / "dockerd.pid"
        self.logfile = workdir / "dockerd.log"
        self.config_dir = workdir / "client"  # DOCKER_CONFIG for the CLI
        self.proc: subprocess.Popen[bytes] | None = None
        self.engine: Engine | None = None
        self._stopped = False

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def start(
        cls,
        workdir: str | os.PathLike[str] | None = None,
        *,
        install: EngineInstall | None = None,
        timeout: float = 60,
        keep: bool = False,
        config: dict | None = None,
    ) -> Daemon:
        """``config`` is the daemon.json (default ``{}``); ``{"features": {"containerd-snapshotter":
        true}}`` gives the containerd image store, with which the default ``docker`` driver
        exports and imports ``type=local``/``registry`` build caches."""
        if install is None:
            install, reason = find_engine()
            if install is None:
                raise EngineError(reason)
        d: Daemon | None = None
        made: Path | None = None
        try:
            if workdir is None:
                # Short path: unix socket paths are limited to 108 bytes.
                wd = made = Path(tempfile.mkdtemp(prefix="lw-engine-", dir="/tmp"))
            else:
                wd = Path(workdir)
                wd.mkdir(parents=True, exist_ok=True)
            d = cls(install, wd, keep=keep, config=config)
            d._launch(timeout)
        except BaseException:
            # Failed or interrupted part-way (Ctrl-C, or SIGTERM made KeyboardInterrupt): there
            # is no daemon for the caller to stop, so stop here what was launched (dockerd, the
            # containerd it started) and remove the work dir. (An interrupt inside mkdtemp,
            # before it returns the name, would still leave an empty folder.)
            if d is not None:
                d._shutdown()
            elif made is not None:
                shutil.rmtree(made, ignore_errors=True)
            raise
        return d

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a docker CLI talking to this daemon."""
        return {"DOCKER_HOST": self.docker_host, "DOCKER_CONFIG": str(self.config_dir)}

    def _write_client_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        cfg: dict[str, object] = {}
        if self.install.buildx is not None:
            cfg["cliPluginsExtraDirs"] = [str(self.install.buildx.parent)]
        (self.config_dir / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")

    def _launch(self, timeout: float) -> None:
        for p in (self.data_root, self.exec_root):
            p.mkdir(parents=True, exist_ok=True)
        self._write_client_config()
        daemon_json = self.workdir / "daemon.json"
        # never the host's /etc/docker/daemon.json
        daemon_json.write_text(json.dumps(self.config, indent=1) + "\n")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("DOCKER_") and k not in ("NOTIFY_SOCKET",)
        }
        env["PATH"] = os.pathsep.join(self.install.path_dirs + [env.get("PATH", PATH_ENV)])
        cmd = [
            str(self.install.dockerd),
            "--config-file", str(daemon_json),
            "--iptables=false",
            "--bridge=none",
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.pidfile),
            "-H", self.docker_host,
        ]
        log = open(self.logfile, "ab")  # noqa: SIM115 - handed to the daemon process, closed on stop
        try:
            # (Should the handle still be lost, _shutdown finds dockerd by its command line,
            # which names the work dir.)
            with procs.signals_held():
                self.proc = subprocess.Popen(
                    cmd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent if self.die_with_parent else None,
                )
        finally:
            log.close()
        self.engine = Engine(
            self.docker_host,
            self.install.docker,
            config_dir=self.config_dir,
            flavor=self.install.flavor,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EngineError(f"dockerd exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.socket.exists() and self.engine.ping():
                return
            time.sleep(0.2)
        raise EngineError(f"dockerd did not answer within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def _containerd_pid(self) -> int | None:
        for p in (
            self.exec_root / "containerd" / "containerd.pid",
            self.workdir / "exec" / "libcontainerd" / "docker-containerd.pid",
        ):
            try:
                return int(p.read_text().strip())
            except (OSError, ValueError):
                continue
        return None

    def _own_processes(self) -> set[procs.Proc]:
        """What runs for this daemon: the dockerd, containerd and shims whose command line
        names the work dir, and containerd by its pid file."""
        found = procs.referencing(self.workdir, ("dockerd", "containerd", "docker-proxy"))
        ctr_pid = self._containerd_pid()
        if ctr_pid is not None:
            ctr = procs.identify(ctr_pid)
            try:
                comm = Path(f"/proc/{ctr_pid}/comm").read_text().strip()
            except OSError:
                comm = ""
            if ctr is not None and comm.startswith("containerd"):  # (not a recycled pid)
                found.add(ctr)
        return found

    def stop(self, timeout: float = 30) -> None:
        """Stop containers, dockerd and its containerd; remove the workdir."""
        if self._stopped:
            return
        try:
            if self.proc is not None and self.proc.poll() is None and self.engine is not None:
                ids = self.engine.docker("ps", "-aq", check=False, timeout=30).stdout.split()
                if ids:
                    self.engine.docker("rm", "-f", *ids, check=False, timeout=60)
        except EngineError:
            pass
        finally:
            self._shutdown(timeout)

    def _shutdown(self, timeout: float = 30) -> None:
        """SIGTERM dockerd (it stops its containerd), at most ``timeout`` s, then SIGKILL; then
        the same (10 s) for anything else still naming the work dir (containerd, shims, or
        dockerd itself when its handle was lost); unmount and remove the work dir. A Ctrl-C
        meanwhile hurries it (SIGKILL) and is raised again at the end."""
        self._stopped = True
        interrupted: KeyboardInterrupt | None = None
        try:
            if self.proc is not None:
                others = {p for p in self._own_processes() if p[0] != self.proc.pid}
                procs.stop_processes(others, signal.SIGTERM, timeout, child=self.proc, signal_procs=False)
            # Then what is left (dockerd cannot start anything any more; the rounds are for
            # a containerd that a dockerd of a lost handle was starting as it got SIGTERM).
            for _ in range(3):
                left = self._own_processes()
                if not left:
                    break
                procs.stop_processes(left, signal.SIGTERM, 10)
        except KeyboardInterrupt as exc:
            interrupted = exc
            procs.stop_processes(self._own_processes(), signal.SIGKILL, 0, child=self.proc)
        finally:
            self.proc = None
            self._cleanup_files()
        if interrupted is not None:
            raise interrupted

    def _cleanup_files(self) -> None:
        for mp in _mounts_under(str(self.workdir)):
            subprocess.run(["umount", "-l", mp], capture_output=True, check=False)
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ base images
    def import_base_images(self) -> list[str]:
        """``docker import`` the cached rootfs tarballs as python:*-slim and busybox."""
        assert self.engine is not None
        return import_base_images(self.engine, self.install)


def import_base_images(engine: Engine, install: EngineInstall) -> list[str]:
    """Import the installer's rootfs tarballs into ``engine`` under the usual tags.

    Only for a daemon of our own: it (re)tags python:3.x-slim and busybox:latest.
    """
    tags: list[str] = []
    for tar in (install.python_tar, install.busybox_tar):
        if not tar.is_file():
            raise EngineError(f"{tar} missing; run scripts/install-engine.sh")
    first, *rest = PYTHON_TAGS
    engine.import_image(
        install.python_tar,
        first,
        changes=[f"ENV PATH={PATH_ENV}", "ENV LANG=C.UTF-8", 'CMD ["python3"]'],
    )
    tags.append(first)
    for t in rest:
        engine.tag(first, t)
        tags.append(t)
    engine.import_image(install.busybox_tar, BUSYBOX_TAGS[0], changes=[f"ENV PATH={PATH_ENV}", 'CMD ["sh"]'])
    tags.append(BUSYBOX_TAGS[0])
    return tags
