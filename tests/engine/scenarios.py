"""The scenario runner for ``explain``: a scenario is a small TOML file (a project, a change);
the runner builds the before state on the real engine, applies the change, asks ``explain``,
builds the after state, and returns both step lists for comparison.

Scenario file keys (all optional except ``files``)::

    description = "what it shows"
    builders = ["buildkit", "legacy"]        # default: both
    target = "stage-name"
    build_args_before = { V = "1" }
    build_args_after = { V = "2" }
    dockerfile = "Dockerfile"                # -f, relative to the context
    [files]                                  # the before state; "Dockerfile" included
    "app.py" = "print('hi')"
    [change]                                 # applied in this order
    write = { "app.py" = "print('ho')" }     # create or overwrite (text)
    append = { "Dockerfile" = "# c" }
    remove = ["old.txt"]
    rename = { "a.txt" = "b.txt" }
    chmod = { "run.sh" = "755" }
    touch = ["app.py"]                       # mtime only
    mkdir = ["empty"]
    symlink = { "link" = "app.py" }          # link -> target
    [known]                                  # documented engine/explain disagreements
    buildkit = "why"                         # the scenario is expected to differ there
    hedged = true                            # (top level) every known disagreement is a step
                                             # explain said may come from the cache after all
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from layerwise.analyses.explain import Explanation, explain
from layerwise.context.states import folder_files
from layerwise.engine.crosscheck import compare as compare_steps
from layerwise.parse import parse_bytes
from layerwise.resolve.stages import resolve

SCENARIOS = Path(__file__).parent / "scenarios"


@dataclass
class Scenario:
    name: str
    data: dict

    @classmethod
    def load(cls, path: Path) -> Scenario:
        with open(path, "rb") as f:
            return cls(path.stem, tomllib.load(f))

    @property
    def builders(self) -> list[str]:
        return list(self.data.get("builders", ["buildkit", "legacy"]))

    def known(self, builder: str) -> str | None:
        return self.data.get("known", {}).get(builder)


def all_scenarios() -> list[Scenario]:
    return [Scenario.load(p) for p in sorted(SCENARIOS.glob("*.toml"))]


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def apply_change(root: Path, change: dict) -> None:
    for rel, text in change.get("write", {}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for rel, text in change.get("append", {}).items():
        with open(root / rel, "a") as f:
            f.write(text)
    for rel in change.get("remove", []):
        p = root / rel
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    for src, dst in change.get("rename", {}).items():
        (root / src).rename(root / dst)
    for rel, mode in change.get("chmod", {}).items():
        os.chmod(root / rel, int(mode, 8))
    for rel in change.get("touch", []):
        st = os.stat(root / rel)
        os.utime(root / rel, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    for rel in change.get("mkdir", []):
        (root / rel).mkdir(parents=True)
    for rel, target in change.get("symlink", {}).items():
        p = root / rel
        if p.is_symlink() or p.exists():
            p.unlink()
        p.symlink_to(target)


def unique_bases(engine, builder: str) -> None:
    """Give ``busybox`` and the python tags a fresh layer, so that no other test's cache
    (legacy's parent-chain cache especially) can answer for this scenario's steps."""
    nonce = uuid.uuid4().hex
    for tag in ("busybox:latest", "python:3.10-slim"):
        orig = f"lw-orig-{tag.replace(':', '-')}"
        if not engine.image_exists(orig):
            engine.tag(tag, orig)
        ctx = Path(f"/tmp/lw-nonce-{nonce[:8]}")
        ctx.mkdir(exist_ok=True)
        (ctx / "Dockerfile").write_text(f"FROM {orig}\nRUN echo {nonce} > /.layerwise-nonce\n")
        r = engine.build(ctx, builder=builder, tag=tag)
        shutil.rmtree(ctx, ignore_errors=True)
        if not r.ok:
            raise RuntimeError(f"could not make a unique base from {orig}: {r.summary()}\n{r.log}")


@dataclass
class Outcome:
    predicted: Explanation
    before_log: str
    after_steps: list  # engine StepResults of the after build
    after_log: str


def run_scenario(engine, scenario: Scenario, builder: str, workdir: Path) -> Outcome:
    data = scenario.data
    ctx = workdir / "ctx"
    ctx.mkdir()
    write_files(ctx, data["files"])
    dockerfile = ctx / data.get("dockerfile", "Dockerfile")
    target = data.get("target") or None
    args_before = data.get("build_args_before", {})
    args_after = data.get("build_args_after", args_before)
    unique_bases(engine, builder)
    before = engine.build(ctx, dockerfile, builder=builder, build_args=args_before, target=target)
    if not before.ok:
        raise AssertionError(f"before build failed: {before.summary()}\n{before.log}")
    # the state layerwise compares against: as the before build saw it
    lazy, _ = folder_files(ctx, dockerfile, builder)
    before_files = lazy.copy()  # hashed now, before the change
    before_text = dockerfile.read_bytes()
    time.sleep(0.01)
    apply_change(ctx, data.get("change", {}))
    after_files, _ = folder_files(ctx, dockerfile, builder)
    b = resolve(parse_bytes(before_text, str(dockerfile)), args_before)
    a = resolve(parse_bytes(dockerfile.read_bytes(), str(dockerfile)), args_after)
    predicted = explain(b, before_files, a, after_files, builder=builder, target=target)
    after = engine.build(ctx, dockerfile, builder=builder, build_args=args_after, target=target)
    if not after.ok:
        raise AssertionError(f"after build failed: {after.summary()}\n{after.log}")
    return Outcome(predicted, before.log, after.steps, after.log)


def compare(outcome: Outcome, builder: str) -> tuple[list[tuple], list[tuple]]:
    """(predicted, engine) lists of ``(step number, cached?)`` for every step the engine
    executes except FROM (its status is the base image's, outside the cache chain)."""
    return compare_steps(outcome.predicted.steps, outcome.after_steps, builder)
