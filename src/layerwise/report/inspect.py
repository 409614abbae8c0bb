"""Text and JSON views of a resolved Dockerfile (``layerwise inspect``)."""

from __future__ import annotations

import json

from layerwise.parse.instructions import Copy, Instruction, Onbuild, Record, Run
from layerwise.resolve.stages import Build, Step

METADATA = frozenset(
    {"arg", "env", "label", "user", "expose", "volume", "shell", "stopsignal", "healthcheck",
     "onbuild", "cmd", "entrypoint", "maintainer"}
)  # fmt: skip


def kind_of(inst: Instruction) -> str:
    """from | run | copy | add | workdir | metadata (the kinds explain reports)."""
    name = inst.name
    return name if name in ("from", "run", "copy", "add", "workdir") else "metadata"


def _jsonable(value):
    if isinstance(value, Record):
        return {k.rstrip("_"): _jsonable(v) for k, v in value.as_dict().items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _args(step_or_inst: Step | Instruction) -> list[str]:
    """The arguments after expansion where BuildKit expands, as written elsewhere."""
    inst = step_or_inst.instruction if isinstance(step_or_inst, Step) else step_or_inst
    ex = step_or_inst.expanded if isinstance(step_or_inst, Step) else {}
    if isinstance(inst, Copy) and "sources" in ex:
        return [*ex["sources"], *(c.path for c in inst.contents), ex["dest"]]  # type: ignore[misc]
    if "pairs" in ex:
        return [f"{k}={v}" for k, v in ex["pairs"]]  # type: ignore[union-attr]
    if "args" in ex:
        return [k if v is None else f"{k}={v}" for k, v in ex["args"]]  # type: ignore[union-attr]
    for key in ("path", "user", "signal"):
        if key in ex:
            return [str(ex[key])]
    for key in ("ports", "volumes"):
        if key in ex:
            return list(ex[key])  # type: ignore[call-overload]
    return list(inst.node.args)


def instruction_record(inst: Instruction, stage: str | int | None, step: Step | None) -> dict:
    node = inst.node
    span = node.span
    rec = {
        "keyword": node.keyword.upper(),
        "kind": kind_of(inst),
        "stage": stage,
        "start_line": span.start_line,
        "end_line": span.end_line,
        "start_column": span.start_column,
        "end_column": span.end_column,
        "original": node.original,
        "flags": list(node.flags),
        "args": _args(step if step is not None else inst),
        "json_form": node.json,
        "heredocs": [
            {"name": h.name, "content": h.content, "expand": h.expand, "chomp": h.chomp}
            for h in node.heredocs
        ],
    }
    if isinstance(inst, Run):
        rec["mounts"] = _jsonable(step.expanded.get("mounts", inst.mounts) if step else inst.mounts)
        rec["network"] = inst.network
        rec["security"] = inst.security
    if isinstance(inst, Copy):
        rec["copy"] = {
            k: v
            for k, v in {
                "from": (step.expanded.get("from") if step else None) or inst.from_ or None,
                "chown": inst.chown or None,
                "chmod": inst.chmod or None,
                "link": inst.link,
                "parents": inst.parents,
                "excludes": inst.excludes,
            }.items()
            if v
        }
    if isinstance(inst, Onbuild) and inst.trigger is not None:
        rec["trigger"] = instruction_record(inst.trigger, stage, None)
    if step is not None:
        rec["env"] = dict(step.env)
        rec["build_args_in_scope"] = dict(step.args)
        rec["workdir"] = step.workdir
        rec["user"] = step.user
    return rec


def to_dict(build: Build) -> dict:
    df = build.dockerfile
    instructions = []
    by_node = {}
    for stage in build.stages:
        by_node[id(stage.from_)] = (stage, None)
        for step in stage.steps:
            by_node[id(step.instruction)] = (stage, step)
    for inst in build.instructions:
        stage, step = by_node.get(id(inst), (None, None))
        instructions.append(instruction_record(inst, stage.label if stage else None, step))
    return {
        "path": df.path,
        "directives": [{"name": d.name, "value": d.value, "line": d.line} for d in df.directives],
        "escape": df.escape,
        "global_args": [{"name": k, "value": v} for k, v in build.meta_args],
        "stages": [
            {
                "index": s.index,
                "name": s.name or None,
                "base": s.base,
                "base_stage": s.base_stage,
                "platform": s.platform or None,
                "start_line": s.from_.line,
                "args": s.args,
                "depends_on": sorted(s.dependencies()),
            }
            for s in build.stages
        ],
        "instructions": instructions,
        "warnings": list(df.warnings),
    }


def render_json(build: Build) -> str:
    from layerwise.escape import json_data

    return json.dumps(json_data(to_dict(build)), indent=2, ensure_ascii=False)


def render_text(build: Build, console=None) -> None:
    """Print to ``console`` (a rich Console; default: stdout, no hard wrap off a terminal)."""
    import sys

    from rich.console import Console

    from layerwise.escape import rich_text as escape

    if console is None:
        console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
    data = to_dict(build)
    console.print(f"[bold]{escape(data['path'])}[/]")
    for d in data["directives"]:
        console.print(f"  directive  {d['name']}={escape(d['value'])}  (line {d['line']})")
    for a in data["global_args"]:
        console.print(f"  global ARG {a['name']}={escape(str(a['value']))}")
    insts = data["instructions"]
    for s in data["stages"]:
        base = s["base"] + (f" (stage {s['base_stage']})" if s["base_stage"] is not None else "")
        title = f"stage {s['index']}" + (f" '{s['name']}'" if s["name"] else "")
        console.print(f"\n[bold cyan]{escape(title)}[/] from {escape(base)}")
        for rec in insts:
            if rec["stage"] != (s["name"] or s["index"]):
                continue
            lines = (
                f"{rec['start_line']}"
                if rec["start_line"] == rec["end_line"]
                else f"{rec['start_line']}-{rec['end_line']}"
            )
            flags = (" " + " ".join(rec["flags"])) if rec["flags"] else ""
            args = json.dumps(rec["args"]) if rec["json_form"] else " ".join(rec["args"])
            style = "dim" if rec["kind"] == "metadata" else "bold"
            text = f"{rec['keyword']}{flags} {args}".strip()
            if len(text) > 110:
                text = text[:107] + "..."
            console.print(f"  {lines:>7}  [{style}]{escape(text)}[/]")
            for h in rec["heredocs"]:
                console.print(f"           heredoc <<{escape(h['name'])} ({len(h['content'])} chars)")
    for w in data["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(w)}")
