"""Image builds in GitLab CI (``.gitlab-ci.yml``): ``docker build`` commands in the jobs'
``before_script`` and ``script`` (``default:`` and top-level ``before_script`` included,
``extends:`` and YAML anchors followed), with the job's and the file's ``variables``.

Docker-in-docker jobs build with the default ``docker`` driver unless a script runs
``docker buildx create --use`` first: they can import and embed inline cache
(``--cache-from $IMAGE`` with ``--build-arg BUILDKIT_INLINE_CACHE=1``), not export others.
"""

from __future__ import annotations

from layerwise.ci.commands import apply_moves, docker_builds
from layerwise.ci.github import command_build
from layerwise.ci.model import CiBuild
from layerwise.ci.yamlfile import YamlFile, flatten, is_map

_RESERVED = frozenset({"image", "services", "stages", "types", "before_script", "after_script", "variables",
                       "cache", "include", "default", "workflow", "spec"})  # fmt: skip


def _variables(node) -> dict[str, str]:
    out = {}
    if is_map(node):
        for k, v in node.items():
            if is_map(v):
                v = v.get("value")
            if isinstance(v, (str, int, float, bool)):
                out[str(k)] = str(v)
    return out


def _resolved(data, name: str, seen: frozenset[str] = frozenset()) -> dict:
    """A job's keys with what it ``extends`` (GitLab merges the templates, the job wins)."""
    job = data.get(name)
    if not is_map(job) or name in seen or len(seen) > 10:
        return {}
    parents = job.get("extends")
    parents = [parents] if isinstance(parents, str) else (list(parents) if isinstance(parents, list) else [])
    merged: dict = {}
    for p in parents:
        if isinstance(p, str):
            merged.update(_resolved(data, p, seen | {name}))
    for k in job:
        merged[k] = (job, k)  # (the mapping holding it, the key): positions come from there
    return merged


def parse_gitlab(f: YamlFile, display: str) -> list[CiBuild]:
    data = f.data
    if not is_map(data):
        return []
    top_vars = _variables(data.get("variables"))
    default = data.get("default") if is_map(data.get("default")) else {}
    default_before = (default, "before_script") if "before_script" in default else (
        (data, "before_script") if "before_script" in data else None)  # fmt: skip
    builds: list[CiBuild] = []
    for name in data:
        if not isinstance(name, str) or name.startswith(".") or name in _RESERVED:
            continue
        keys = _resolved(data, name)
        if "script" not in keys:
            continue
        holder, _ = keys.get("variables", (None, None))
        env = {**top_vars, **_variables(holder.get("variables") if holder is not None else None)}
        env.setdefault("CI_PROJECT_DIR", ".")
        exporting = False
        job_builds: list[CiBuild] = []
        sources = [keys.get("before_script", default_before), keys["script"], keys.get("after_script")]
        for k, src in enumerate(sources):
            if src is None:
                continue
            mapping, key = src
            for item, parent, index in flatten(mapping.get(key)):
                if isinstance(item, str):
                    apply_moves(job_builds, item)  # (rm -rf C && mv C-new C after the build)
                if not isinstance(item, str) or "docker" not in item or k == 2:
                    continue
                pos = f.item_pos(parent, index) if parent is not None else f.value_pos(mapping, key)
                found, creates = docker_builds(item)
                if creates:
                    exporting = True
                for cmd in found:
                    b = command_build(f, display, "gitlab", name, cmd, pos, ".", env)
                    b.exporting_builder = exporting or cmd.builder is not None
                    builds.append(b)
                    job_builds.append(b)
                if found:
                    apply_moves(job_builds[-len(found) :], item)
    return builds
