"""Image builds in GitHub Actions workflows (``.github/workflows/*.yml``).

A build is a ``docker/build-push-action`` step (its ``with:`` inputs) or a ``docker build`` /
``docker buildx build`` / ``docker compose build`` command in a step's ``run:``. Paths are
relative to the repository root (``$GITHUB_WORKSPACE``), ``run:`` commands to their
``working-directory``. ``docker/setup-buildx-action`` (or ``docker buildx create --use``)
earlier in the job gives a builder that can export a cache; without it the job builds with the
default ``docker`` driver.
"""

from __future__ import annotations

import posixpath
import re

from layerwise.ci.commands import apply_moves, docker_builds
from layerwise.ci.model import CacheSpec, CiBuild, Pos
from layerwise.ci.yamlfile import YamlFile, is_map, is_seq

_ACTION = re.compile(r"^docker/build-push-action(@|$)", re.I)
_SETUP_BUILDX = re.compile(r"^docker/setup-buildx-action(@|$)", re.I)
_EXPR = "${{"


def norm_path(value: object, cwd: str | None = ".", env: dict[str, str] | None = None) -> str | None:
    """A repository-relative path, or None when it depends on something we cannot know."""
    if cwd is None or not isinstance(value, str):
        return None
    v = value.strip()
    if _EXPR in v:
        return None
    if "$" in v:
        for name, val in sorted((env or {}).items(), key=lambda kv: -len(kv[0])):
            if _EXPR not in val and "$" not in val:
                v = v.replace("${" + name + "}", val).replace("$" + name, val)
        v = v.replace("${GITHUB_WORKSPACE}", ".").replace("$GITHUB_WORKSPACE", ".")
        v = v.replace("${CI_PROJECT_DIR}", ".").replace("$CI_PROJECT_DIR", ".")
        if "$" in v:
            return None
    if v in ("", "-") or v.startswith(("http://", "https://", "git@", "git://")) or "://" in v:
        return None
    if v.startswith("/"):
        return None  # an absolute runner path: not in the repository as we see it
    out = posixpath.normpath(posixpath.join(cwd, v))
    return None if out.startswith("..") else out


def _lines(value: object) -> list[str]:
    """A list input of an action (newline separated; a YAML list is accepted too)."""
    if is_seq(value):
        return [str(v).strip() for v in value if str(v).strip()]
    if not isinstance(value, str):
        return []
    return [ln.strip() for ln in value.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _specs(f: YamlFile, values: list[str], start: int) -> list[CacheSpec]:
    out = []
    for raw in values:
        pos = f.find(raw, start)
        out.append(CacheSpec.parse(raw, pos))
    return out


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _str_map(node) -> dict[str, str]:
    if not is_map(node):
        return {}
    return {str(k): str(v) for k, v in node.items() if isinstance(v, (str, int, float, bool))}


def _step_start(f: YamlFile, steps, index: int) -> tuple[int, int] | None:
    """The offset of the line holding a step's ``-`` and that dash's column (0-based)."""
    p = f.item_pos(steps, index)
    if p is None:
        return None
    start = f.line_start(p.offset)
    line = f.text[start : p.offset]
    dash = line.rfind("-")
    if dash < 0 or line[:dash].strip():
        return None
    return start, dash


def parse_workflow(f: YamlFile, display: str) -> list[CiBuild]:
    data = f.data
    if not is_map(data) or not is_map(data.get("jobs")):
        return []
    top_env = _str_map(data.get("env"))
    top_cwd = _working_dir(data.get("defaults"))
    builds: list[CiBuild] = []
    for job_id, job in data["jobs"].items():
        if not is_map(job) or not is_seq(job.get("steps")):
            continue
        strategy = job.get("strategy")
        matrix = is_map(strategy) and strategy.get("matrix") is not None
        job_env = {**top_env, **_str_map(job.get("env"))}
        job_cwd = _working_dir(job.get("defaults")) or top_cwd or "."
        exporting = False
        steps = job["steps"]
        job_builds: list[CiBuild] = []
        for index, step in enumerate(steps):
            if not is_map(step):
                continue
            uses = step.get("uses")
            if isinstance(uses, str) and _SETUP_BUILDX.match(uses.strip()):
                exporting = True
                continue
            start = _step_start(f, steps, index)
            if isinstance(uses, str) and _ACTION.match(uses.strip()):
                b = _action_build(f, display, str(job_id), step, exporting, start)
                b.matrix = bool(matrix)
                builds.append(b)
                job_builds.append(b)
                continue
            run = step.get("run")
            if isinstance(run, str):
                apply_moves(job_builds, run)  # (a step after the build: rm -rf C && mv C-new C)
            if isinstance(run, str) and "docker" in run:
                env = {**job_env, **_str_map(step.get("env"))}
                cwd_raw = step.get("working-directory")
                cwd = norm_path(cwd_raw, ".", env) if cwd_raw is not None else job_cwd
                found, creates = docker_builds(str(run))
                if creates:
                    exporting = True
                for cmd in found:
                    b = command_build(f, display, "github", str(job_id), cmd, f.value_pos(step, "run"), cwd, env)
                    b.exporting_builder = exporting or cmd.builder is not None or bool(creates)
                    b.matrix = bool(matrix)
                    if start is not None:
                        b.step_line_offset, b.step_indent = start
                    builds.append(b)
                    job_builds.append(b)
                if found:
                    apply_moves(job_builds[-len(found) :], run)  # (a move after the build, in its script)
    return builds


def _working_dir(defaults) -> str | None:
    if is_map(defaults) and is_map(defaults.get("run")):
        return norm_path(defaults["run"].get("working-directory"), ".")
    return None


def _action_build(f: YamlFile, display: str, job: str, step, exporting: bool, start) -> CiBuild:
    w = step.get("with") if is_map(step.get("with")) else {}
    pos = f.key_pos(step, "uses") or Pos(1, 1, 0)
    ctx_raw = w.get("context") if w else None
    context = "." if ctx_raw is None else norm_path(ctx_raw, ".")
    file_raw = w.get("file") if w else None
    if file_raw is not None:
        dockerfile = norm_path(file_raw, ".")
    else:
        dockerfile = None if context is None else posixpath.normpath(posixpath.join(context, "Dockerfile"))
    b = CiBuild(display, pos, "github", "action", job, dockerfile, context)
    b.exporting_builder = exporting or (bool(w) and w.get("builder") is not None)
    if w:
        b.target = str(w["target"]) if w.get("target") is not None else None
        for line in _lines(w.get("build-args")):
            k, _, v = line.partition("=")
            b.build_args[k.strip()] = v.strip()
        for key in ("cache-from", "cache-to"):
            vp = f.value_pos(w, key)
            specs = _specs(f, _lines(w.get(key)), vp.offset if vp else 0)
            setattr(b, key.replace("-", "_"), specs)
        if _truthy(w.get("no-cache")):
            b.no_cache = f.key_pos(w, "no-cache")
        for key in w:
            p = f.key_pos(w, key)
            if p is not None:
                b.inputs[str(key)] = p
        b.with_pos = f.key_pos(step, "with")
        first = next(iter(w), None)
        fp = f.key_pos(w, first) if first is not None else None
        # a block mapping: its keys sit on lines below ``with:``
        if fp is not None and b.with_pos is not None and fp.line > b.with_pos.line:
            b.with_indent = fp.column - 1
    elif step.get("with") is None:
        up = f.value_pos(step, "uses")
        if up is not None and pos.line == up.line:
            b.uses_line_end = f.line_end(up.offset)
            b.with_indent = pos.column - 1
    if start is not None:
        b.step_line_offset, b.step_indent = start
    return b


def command_build(f: YamlFile, display: str, platform: str, job: str, cmd, script_pos: Pos | None,
                  cwd: str | None, env: dict[str, str]) -> CiBuild:  # fmt: skip
    """A :class:`CiBuild` of a ``docker build`` command found in a script value at ``script_pos``."""
    base = script_pos.offset if script_pos is not None else 0
    needle = cmd.first_line.strip()
    pos = f.find(needle, base) if needle else None
    pos = pos or script_pos or Pos(1, 1, 0)
    env = {**env, **cmd.env}
    context = norm_path(cmd.context, cwd, env) if cmd.context is not None else None
    if cmd.kind == "compose-build":
        dockerfile = None
    elif cmd.dockerfile is not None:
        dockerfile = norm_path(cmd.dockerfile, cwd, env)
    else:
        dockerfile = None if context is None else posixpath.normpath(posixpath.join(context, "Dockerfile"))
    b = CiBuild(display, pos, platform, cmd.kind, job, dockerfile, context)
    b.target = cmd.target
    b.build_args = dict(cmd.build_args)
    b.cache_from = [CacheSpec.parse(v, f.find(v, pos.offset)) for v in cmd.cache_from]
    b.cache_to = [CacheSpec.parse(v, f.find(v, pos.offset)) for v in cmd.cache_to]
    if cmd.no_cache:
        b.no_cache = f.find("--no-cache", pos.offset) or pos
    line = f.text[pos.offset : f.line_end(pos.offset)]
    m = re.search(r"\bdocker(?:-compose)?\b(?:\s+(?:image|buildx|compose))?\s+(build|b)\b", line)
    if m is not None:
        b.command_insert = pos.offset + m.end(1)
    return b
