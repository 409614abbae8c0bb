"""``python -m layerwise.engine [info|shell|run CMD...]``: the private engine by hand.

info   what find_engine() sees
shell  start a daemon, import the base images, open $SHELL with DOCKER_HOST,
       DOCKER_CONFIG and PATH set; the daemon stops when the shell exits
run    same, but run one command instead of a shell (its exit code is returned)
"""

from __future__ import annotations

import os
import subprocess
import sys

from .client import EngineError
from .daemon import Daemon
from .install import find_engine


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    cmd = args.pop(0) if args else "info"
    install, reason = find_engine()
    if cmd in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if install is None:
        print(f"layerwise.engine: {reason}", file=sys.stderr)
        return 1
    if cmd == "info":
        for k, v in vars(install).items():
            print(f"{k}: {v}")
        return 0
    if cmd not in ("shell", "run") or (cmd == "run" and not args):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with Daemon.start(install=install) as d:
            tags = d.import_base_images()
            env = dict(os.environ, **d.env)
            env["PATH"] = os.pathsep.join([str(install.docker.parent), env.get("PATH", "")])
            print(f"layerwise.engine: dockerd {install.version} at {d.docker_host}; images: {' '.join(tags)}",
                  file=sys.stderr)
            argv2 = args if cmd == "run" else [os.environ.get("SHELL", "/bin/bash")]
            return subprocess.call(argv2, env=env)
    except EngineError as exc:
        print(f"layerwise.engine: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
