"""Compare two simulated builds: which steps of the *after* build come from the cache that the
*before* build left, and for every rebuilt step the first cause."""

from __future__ import annotations

import difflib

from layerwise.analyses.cache import (
    Cause,
    ContextFiles,
    FileChange,
    SelectedFiles,
    StepKey,
    Writer,
    legacy_unsupported,
    simulate,
)
from layerwise.errors import LayerwiseError, Location
from layerwise.records import Record
from layerwise.resolve.stages import Build

MAX_PATHS = 5


class UnsupportedByBuilder(LayerwiseError):
    """The builder asked for cannot build this Dockerfile: there is nothing to predict."""


class StepReport(Record):
    """One step of the after build as predicted (a record written out: a dataclass would be
    built at every start-up)."""

    _fields = ("stage", "line", "instruction", "kind", "status", "cause", "assumptions", "end_line", "onbuild",
               "seconds", "base_stage", "may_be_cached")  # fmt: skip

    def __init__(self, stage: str | int, line: int, instruction: str, kind: str, status: str, cause: Cause | None = None,
                 assumptions: list[str] | None = None, end_line: int = 0, onbuild: bool = False,
                 seconds: float | None = None, base_stage: int | None = None, may_be_cached: bool = False) -> None:  # fmt: skip
        self.stage = stage
        self.line = line
        self.instruction = instruction  # the original text (continuations joined)
        self.kind = kind  # from | run | copy | add | workdir | metadata
        self.status = status  # cached | rebuilt | not-built | metadata
        self.cause = cause
        self.assumptions: list[str] = [] if assumptions is None else assumptions
        self.end_line = end_line
        self.onbuild = onbuild  # an ONBUILD trigger of the parent stage (its line is the ONBUILD's)
        self.seconds = seconds  # what it took in the last measured build (layerwise bench)
        self.base_stage = base_stage  # for FROM <earlier stage>: that stage's index
        #: rebuilt only if a re-run RUN writes other bytes than last time (which layerwise cannot
        #: know offline): the builder takes it from the cache when they come out the same
        self.may_be_cached = may_be_cached

    def to_json(self) -> dict:
        extra: dict = {}
        if self.may_be_cached:
            extra["may_be_cached"] = True
        if self.onbuild:
            extra["onbuild_trigger"] = True
        if self.base_stage is not None:
            extra["base_stage"] = self.base_stage
        if self.seconds is not None:
            extra["seconds"] = self.seconds
        return {
            "stage": self.stage,
            "line": self.line,
            "end_line": self.end_line,
            "instruction": self.instruction,
            "kind": self.kind,
            "status": self.status,
            "cause": self.cause.to_json() if self.cause else None,
            "assumptions": list(self.assumptions),
            **extra,
        }


CACHE_ASSUMPTION = (
    "the builder still holds the cache of the before build (same builder, not pruned; for"
    " BuildKit also the same context folder, whose incremental sync can miss a folder's mode change)"
)


class Explanation(Record):
    _fields = ("builder", "target", "steps", "assumptions")

    def __init__(self, builder: str, target: str | int, steps: list[StepReport],
                 assumptions: list[str] | None = None) -> None:  # fmt: skip
        self.builder = builder
        self.target = target
        self.steps = steps
        self.assumptions: list[str] = [CACHE_ASSUMPTION] if assumptions is None else assumptions

    def apply_timings(self, timings: dict[str, float]) -> None:
        """Attach measured step times (by instruction text) for the cost estimate."""
        for s in self.steps:
            if s.instruction in timings:
                s.seconds = timings[s.instruction]

    @property
    def first_miss(self) -> StepReport | None:
        return next((s for s in self.steps if s.status == "rebuilt" and s.kind != "from"), None)

    def to_json(self) -> dict:
        counts: dict[str, int] = {}
        for s in self.steps:
            counts[s.status] = counts.get(s.status, 0) + 1
        first = self.first_miss
        cost = sum(s.seconds or 0.0 for s in self.steps if s.status == "rebuilt")
        if any(s.seconds is not None for s in self.steps):
            counts["estimated_rebuild_seconds"] = round(cost, 1)  # type: ignore[assignment]
        return {
            "builder": self.builder,
            "target": self.target,
            "summary": {**counts, "first_miss_line": first.line if first else None},
            "assumptions": list(self.assumptions),
            "steps": [s.to_json() for s in self.steps],
        }


def diff_files(before: dict[str, tuple] | SelectedFiles | None, after: dict[str, tuple] | SelectedFiles | None) -> list[FileChange]:
    """Per-path differences between two selections (``kind, mode, digest, target`` tuples).
    Two states of one snapshot are compared on the paths they have otherwise than it (a
    revision against the working tree: the paths git reports changed), not listed."""
    named = [s for s in (after, before) if isinstance(s, SelectedFiles)]
    if isinstance(before, SelectedFiles) and isinstance(after, SelectedFiles):
        pairs = after.changes_from(before)
        if pairs is not None:
            before = {k: a for k, (a, _) in pairs.items() if a is not None}
            after = {k: b for k, (_, b) in pairs.items() if b is not None}
    before = before.as_dict() if isinstance(before, SelectedFiles) else before or {}
    after = after.as_dict() if isinstance(after, SelectedFiles) else after or {}
    changes: list[FileChange] = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path), after.get(path)
        if a == b:
            continue
        shown = next((p for s in named if (p := s.context_path(path)) is not None), None)
        if shown is None:
            shown = path.split(":", 1)[1] if ":" in path else path
        if a is None:
            changes.append(FileChange(shown, "added"))
        elif b is None:
            changes.append(FileChange(shown, "removed"))
        elif a[0] != b[0]:
            changes.append(FileChange(shown, "type"))
        elif a[2] != b[2] or a[3] != b[3]:
            changes.append(FileChange(shown, "modified"))
        elif a[1] != b[1]:
            changes.append(FileChange(shown, "mode"))
    # Directories whose only change is a new child are noise next to the child itself.
    return changes


def _files_cause(changes: list[FileChange], what: str = "the files it copies changed") -> Cause:
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.change] = counts.get(c.change, 0) + 1
    shown = [f"{c.path} ({c.change})" for c in changes[:MAX_PATHS]]
    more = f" and {len(changes) - MAX_PATHS} more" if len(changes) > MAX_PATHS else ""
    return Cause(
        "files",
        f"{what}: {', '.join(shown)}{more}",
        {
            "count": len(changes),
            "changes": counts,
            "paths": [{"path": c.path, "change": c.change} for c in changes[:50]],
        },
    )


def _align(before: list[StepKey], after: list[StepKey]) -> dict[int, StepKey]:
    """Match each after step to its counterpart in the before build (same stage, aligned text)."""
    out: dict[int, StepKey] = {}
    by_stage_before: dict[object, list[StepKey]] = {}
    for k in before:
        by_stage_before.setdefault(k.stage.name or k.stage.index, []).append(k)
    by_stage_after: dict[object, list[int]] = {}
    for i, k in enumerate(after):
        by_stage_after.setdefault(k.stage.name or k.stage.index, []).append(i)
    for label, idxs in by_stage_after.items():
        old = by_stage_before.get(label, [])
        a = [before_key_text(k) for k in old]
        b = [before_key_text(after[i]) for i in idxs]
        sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for off in range(j2 - j1):
                    out[idxs[j1 + off]] = old[i1 + off]
            elif tag == "replace":
                # unequal blocks: pair same-keyword instructions in order
                pool = list(range(i1, i2))
                for j in range(j1, j2):
                    for p in pool:
                        if old[p].instruction.name == after[idxs[j]].instruction.name:
                            out[idxs[j]] = old[p]
                            pool.remove(p)
                            break
    return out


def before_key_text(k: StepKey) -> str:
    return k.instruction.name + " " + k.instruction.original


def _describe_op_change(old: StepKey, new: StepKey) -> Cause:
    if old.instruction.original != new.instruction.original or old.instruction.node.heredocs != new.instruction.node.heredocs:
        if old.instruction.original != new.instruction.original:
            return Cause(
                "instruction",
                "the instruction changed",
                {"before": old.instruction.original, "after": new.instruction.original},
            )
        return Cause("instruction", "the heredoc body changed", {})
    o, n = old.op, new.op
    if o.get("env") != n.get("env") or o.get("buildargs") != n.get("buildargs"):
        before = dict(x.split("=", 1) for x in (o.get("env") or o.get("buildargs") or []))
        after = dict(x.split("=", 1) for x in (n.get("env") or n.get("buildargs") or []))
        names = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return Cause(
            "variables",
            "a build arg or ENV value it sees changed: " + ", ".join(names),
            {"names": names, "before": {k: before.get(k) for k in names}, "after": {k: after.get(k) for k in names}},
        )
    diffs = sorted(k for k in set(o) | set(n) if o.get(k) != n.get(k))
    labels = {
        "cwd": "WORKDIR",
        "user": "USER",
        "run": "SHELL or the command",
        "dest": "destination (WORKDIR)",
        "config": "image config (an earlier metadata instruction)",
        "mounts": "mount options",
    }
    if diffs:
        shown = ", ".join(labels.get(d, d) for d in diffs)
        return Cause("instruction", f"what it runs with changed: {shown}", {"fields": diffs})
    return Cause("unknown", "no difference found; the cache may have been pruned", {})


def explain(
    before: Build,
    before_files: ContextFiles,
    after: Build,
    after_files: ContextFiles,
    *,
    builder: str = "buildkit",
    target: str | int | None = None,
    link_effective: bool = False,
    no_cache: bool = False,
) -> Explanation:
    """What a build of ``after`` takes from the cache that a build of ``before`` left
    (``no_cache``: as ``docker build --no-cache``, nothing)."""
    final = after.stage(target) if target is not None else after.stages[-1]
    if builder == "legacy":
        refused = legacy_unsupported(after, target)
        if refused:
            inst, why = refused[0]
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise UnsupportedByBuilder(
                f"the legacy builder cannot build this Dockerfile: {why}{more}; explain it with"
                " --builder buildkit",
                Location(after.dockerfile.path, inst.line, inst.span.start_column),
            )
    by_changes = getattr(before_files, "same_base", None)
    if by_changes is not None and by_changes(after_files):
        # two states of one snapshot (a revision against the working tree): the files a step
        # reads are keyed by what the states have otherwise than the snapshot, nothing listed
        before_files, after_files = before_files.by_changes(), after_files.by_changes()  # type: ignore[union-attr]
    try:
        old = simulate(before, before_files, builder=builder, target=_map_target(before, final),
                       link_effective=link_effective)  # fmt: skip
    except Exception:  # noqa: BLE001 - the before state may not even have the target: nothing is cached
        old = []
    new = simulate(after, after_files, builder=builder, target=target,
                   link_effective=link_effective)  # fmt: skip
    old_keys = {k.key for k in old if k.key}
    cached_keys = set() if no_cache else old_keys
    counterpart = _align(old, new)
    producer: dict[str, StepKey] = {}
    reports: list[StepReport] = []
    statuses: dict[str, str] = {}
    hedged: set[str] = set()  # keys of the rebuilt steps that may come from the cache after all
    built_stages = {k.stage.index for k in new}

    for i, k in enumerate(new):
        inst = k.instruction
        rep = StepReport(
            stage=k.stage.label,
            line=inst.line,
            end_line=inst.span.end_line,
            instruction=inst.original,
            kind=k.kind,
            status="metadata",
            assumptions=list(k.assumptions),
            onbuild=bool(k.step is not None and k.step.onbuild),
            base_stage=k.stage.base_stage if k.kind == "from" else None,
        )
        reports.append(rep)
        if not k.key:
            continue
        if not k.missing and (k.key in cached_keys or (k.kind == "from" and k.key in old_keys)):
            rep.status = "cached"  # --no-cache does not re-pull the base (that is --pull)
        elif no_cache and k.kind != "from":
            rep.status = "rebuilt"
            rep.cause = Cause("no-cache", "--no-cache: nothing is taken from the cache", {})
        else:
            rep.status = "rebuilt"
            rep.cause = _cause(k, counterpart.get(i), producer, statuses)
            rep.may_be_cached = _hedged(k, rep, counterpart.get(i), producer, hedged)
            if rep.may_be_cached:
                hedged.add(k.key)
        producer.setdefault(k.key, k)
        statuses[k.key] = rep.status

    if builder == "buildkit":
        for stage in after.stages:
            if stage.index in built_stages:
                continue
            for inst in [stage.from_, *(s.instruction for s in stage.steps)]:
                reports.append(
                    StepReport(stage.label, inst.line, inst.original,
                               _kind(inst.name), "not-built", end_line=inst.span.end_line)  # fmt: skip
                )
        reports.sort(key=lambda r: r.line)
    explanation = Explanation(builder, final.label, reports)
    if no_cache:
        explanation.assumptions = ["--no-cache: every step runs"]
    _unlink(old, new)
    return explanation


def _unlink(*builds: list[StepKey]) -> None:
    """Break the cycles between the simulated steps and what they write (a step's writer names
    the step; a later step's reads name the writers), which hold the states' files, and through
    them the walk's entries, until the cyclic collector runs: freed as soon as the prediction
    is made, with no collection over 100,000 entries (#17: ~45 ms of a warm 100k explain)."""
    for keys in builds:
        for k in keys:
            k.writes = None
            k.reads = []


def _kind(name: str) -> str:
    return name if name in ("from", "run", "copy", "add", "workdir") else "metadata"


def _map_target(before: Build, final) -> str | int | None:
    if final.name:
        return final.name
    return min(final.index, len(before.stages) - 1)


def _cause(
    k: StepKey, old: StepKey | None, producer: dict[str, StepKey], statuses: dict[str, str]
) -> Cause:
    if k.failure:
        return Cause("files", k.failure, {"missing": list(k.missing)})
    if k.missing:
        return Cause(
            "files",
            "source not found in the build context: " + ", ".join(k.missing)
            + " (the build fails here)",
            {"missing": list(k.missing)},
        )
    if k.kind == "from":
        if old is not None and old.op != k.op:
            return Cause("base", f"the base changed: {old.op.get('from')} -> {k.op.get('from')}", {})
        return Cause("base", "the base stage was rebuilt", {})
    link = bool(k.op.get("link")) and k.parent not in ("",) and k.kind in ("copy", "add")
    if k.parent and statuses.get(k.parent) == "rebuilt" and not link:
        p = producer.get(k.parent)
        where = f" (line {p.instruction.line}: {p.instruction.original})" if p else ""
        return Cause("parent", "its parent step was rebuilt" + where,
                     {"parent_line": p.instruction.line if p else None})  # fmt: skip
    if old is None:
        return Cause("new", "a new instruction (not in the previous build)", {})
    if old.instruction.original != k.instruction.original or old.op != k.op:
        cause = _describe_op_change(old, k)
        if cause.type != "unknown":
            return cause
    if k.stage_refs and old.stage_refs:
        return _stage_cause(k, old)
    changes = diff_files(old.files, k.files)
    if changes:
        what = "the files it copies changed" if k.kind in ("copy", "add") else "the files it mounts changed"
        return _files_cause(changes, what)
    if k.parent != old.parent:
        return Cause("parent", "its parent step differs from the previous build", {})
    return Cause("unknown", "no difference found; the cache may have been pruned", {})


def _hedged(k: StepKey, rep: StepReport, old: StepKey | None, producer: dict[str, StepKey], hedged: set[str]) -> bool:
    """Whether a rebuilt step rebuilds only because a re-run RUN may have written other bytes
    (what BuildKit and the legacy builder compare for ``COPY --from`` is the content): its own
    cause says so, or its parent is such a step and nothing else of it changed. Its cause then
    says that it may come from the cache."""
    cause = rep.cause
    if cause is None:
        return False
    if cause.detail.get("may_be_cached"):
        return True
    if cause.type != "parent" or k.parent not in hedged:
        return False
    own = _cause(k, old, producer, {})  # the cause with the parent left out
    if own.type not in ("parent", "unknown") and not own.detail.get("may_be_cached"):
        return False
    rep.cause = Cause("parent", cause.message + ", which may come from the cache: then this step does too",
                      {**cause.detail, "may_be_cached": True})  # fmt: skip
    return True


def _writer_why(w: Writer) -> str:
    if w.step.kind == "from":
        return "which is another image" if w.step.stage.base_stage is None else "whose base changed"
    if w.reruns_unknown:
        return "which re-runs (layerwise cannot know what a RUN writes: it assumes other bytes)"
    if w.step.reads:
        return "which copies other content"
    if w.files is not None:
        return "which copies other files"
    return "which changed"


def _stage_cause(k: StepKey, old: StepKey) -> Cause:
    """``COPY --from=<stage>`` rebuilt: which paths it copies may hold other bytes, and which
    step of that stage wrote them."""
    before = dict(old.reads)
    parts: list[str] = []
    paths: list[dict] = []
    runs_only = True  # every path may differ only because a RUN re-ran
    for path, touching in k.reads:
        old_ids = {i for _, i in before.get(path, [])}
        changed = [w for w, i in touching if i not in old_ids]
        if not changed and [i for _, i in touching] == [i for _, i in before.get(path, [])]:
            continue
        runs_only = runs_only and bool(changed) and all(w.reruns_unknown and w.step.kind == "run" for w in changed)
        lines = [w.step.instruction.line for w in changed]
        paths.append({"path": path, "written_by": lines})
        if changed:
            w = changed[-1]
            inst = w.step.instruction
            parts.append(f"{path}, written by line {inst.line} ({inst.original}), {_writer_why(w)}")
        else:
            parts.append(f"{path} (a step that wrote it is gone)")
    if k.kind == "run":
        names = [m["from"] for m in k.op.get("mounts", []) if m.get("from")]
        stage, verb = (f"stage {names[0]}" if names else "its stage"), "mounts"
    else:
        name = str(k.step.expanded.get("from", "")) if k.step is not None else ""
        stage, verb = (f"stage {name}" if name else str(k.op.get("from", "its stage"))), "copies"
    if not parts:
        return Cause("stage", f"what it {verb} from {stage} changed", {"paths": paths})
    if runs_only:
        # the builder compares the content: a RUN that writes the same bytes again (a re-run
        # `pip wheel` or `pip download` of the same versions can) leaves this step cached
        return Cause(
            "stage",
            f"what it {verb} from {stage} may have changed: " + "; ".join(parts[:MAX_PATHS])
            + ". If the RUN writes the same bytes again (a re-run `pip wheel` or `pip download` of"
            " the same versions can), the builder finds this step by its content and takes it, and"
            " the steps after it, from the cache",
            {"paths": paths, "may_be_cached": True},
        )
    return Cause(
        "stage",
        f"what it {verb} from {stage} may have changed: " + "; ".join(parts[:MAX_PATHS]),
        {"paths": paths},
    )
