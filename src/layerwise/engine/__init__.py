"""A real Docker engine for tests, ``layerwise bench`` and ``layerwise demo``.

Install once (root): ``bash scripts/install-engine.sh`` puts an unpacked
Debian 13 ``docker.io`` 26.1 (BuildKit v0.13 + legacy builder, buildx plugin)
in /opt/layerwise-engine and rootfs tarballs in /var/cache/layerwise-engine.
See DEVELOPERS.md.

API::

    from layerwise.engine import find_engine, Daemon, Engine

    install, reason = find_engine()        # None + reason when not installed
                                           # ($LAYERWISE_ENGINE_DIR overrides the dir)
    with Daemon.start(install=install) as d:   # own dockerd + containerd, own socket,
        d.import_base_images()                 # fresh data-root; python:3.1x-slim, busybox
        eng = d.engine                          # an Engine bound to d.docker_host
        r = eng.build(ctx, builder="buildkit", tag="demo")   # or builder="legacy"
        r.ok, r.error, r.log, r.image_id, r.seconds
        for s in r.steps:                       # StepResult, in the engine's order
            s.index, s.total, s.stage, s.instruction, s.status, s.cached, s.seconds
        r.step("RUN pip").cached
        with eng.run("demo", ["python", "app.py"]) as c:      # --network=host, detached
            eng.wait_http("http://127.0.0.1:5000/", container=c)
        eng.remove_image("demo"); eng.inspect_image("x"); eng.prune_build_cache()
        eng.flavor                              # "modern" (26.1) | "fallback" (20.10)

    Engine.from_env()      # the user's own docker (docker on PATH, their DOCKER_HOST)
    parse_build_output(text, times=None) -> ParsedBuild   # pure; both output formats

``Daemon.env`` gives DOCKER_HOST and DOCKER_CONFIG for running the docker CLI
by hand against the private daemon.
"""

from __future__ import annotations

from .client import PROXY_ARGS, BuildResult, Container, Engine, EngineError
from .daemon import BASE_IMAGES, PYTHON_TAGS, Daemon, import_base_images
from .install import EngineInstall, find_engine
from .output import ParsedBuild, StepResult, detect_format, parse_build_output

__all__ = [
    "BASE_IMAGES",
    "PROXY_ARGS",
    "PYTHON_TAGS",
    "BuildResult",
    "Container",
    "Daemon",
    "Engine",
    "EngineError",
    "EngineInstall",
    "ParsedBuild",
    "StepResult",
    "detect_format",
    "find_engine",
    "import_base_images",
    "parse_build_output",
]
