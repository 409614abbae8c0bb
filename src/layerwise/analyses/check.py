"""``layerwise check`` as a library call: parse, resolve, run the selected rules, drop the
findings suppressed inline (``# layerwise: ignore[LW201]``: :mod:`~layerwise.analyses.directives`,
which also reports the directives that suppress nothing, LW001), apply configured severities.

Parse and resolve errors propagate as :class:`~layerwise.errors.LayerwiseError` (located);
a bug in one rule is recorded in :attr:`CheckResult.errors` and never stops the others.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from layerwise.analyses.directives import UNUSED_CODE, Suppressions, is_suppressed
from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import Rule, all_rules
from layerwise.records import replace

__all__ = ["CheckResult", "check_dockerfile", "is_suppressed", "matches", "selected_rules"]


class CheckResult:
    """What a check found (a plain class: a dataclass would be built at every start-up)."""

    __slots__ = ("errors", "files", "findings", "sources")

    def __init__(self, findings: list[Finding] | None = None, sources: dict[str, str] | None = None,
                 errors: list[str] | None = None, files: list[str] | None = None) -> None:  # fmt: skip
        self.findings: list[Finding] = [] if findings is None else findings
        self.sources: dict[str, str] = {} if sources is None else sources  # path -> text, for code frames
        self.errors: list[str] = [] if errors is None else errors  # rules that failed (bugs), context problems
        self.files: list[str] = [] if files is None else files  # Dockerfiles checked

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.findings, self.sources, self.errors, self.files) == (
            other.findings, other.sources, other.errors, other.files)  # type: ignore[attr-defined]  # fmt: skip

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"CheckResult(findings={self.findings!r}, sources={self.sources!r}, errors={self.errors!r}, "
                f"files={self.files!r})")  # fmt: skip

    def extend(self, other: CheckResult) -> None:
        self.findings += other.findings
        self.sources.update(other.sources)
        self.errors += other.errors
        self.files += other.files


def matches(code: str, prefixes: Iterable[str]) -> bool:
    return any(p == "ALL" or code.startswith(p) for p in prefixes)


def selected_rules(select: Iterable[str] | None = None, ignore: Iterable[str] = ()) -> list[Rule]:
    """Rules chosen by code prefixes (``LW1``, ``LW201``, ``ALL``); the longest prefix wins,
    as in ruff, so ``--select LW2 --ignore LW201`` and ``--ignore LW2 --select LW204`` both work;
    between equally long ones the select wins (an ``--extend-select`` over a configured ignore),
    except for ``ALL``: ``--ignore ALL`` ignores everything that no code prefix selects."""
    sel = [s.upper() for s in (select or ["ALL"])]
    ign = [s.upper() for s in ignore]
    out = []
    for rule in all_rules().values():
        best_sel = max((len(p) if p != "ALL" else 0 for p in sel if matches(rule.code, [p])), default=-1)
        best_ign = max((len(p) if p != "ALL" else 0 for p in ign if matches(rule.code, [p])), default=-1)
        if best_sel > best_ign or best_sel == best_ign > 0:
            out.append(rule)
    return out


def check_dockerfile(
    dockerfile: str | os.PathLike[str],
    *,
    context: str | os.PathLike[str] | None = None,
    display_path: str | None = None,
    rules: list[Rule] | None = None,
    severities: Mapping[str, str] | None = None,
    build_args: Mapping[str, str] | None = None,
) -> CheckResult:
    """Check one Dockerfile; ``context`` is the build context folder (None: Dockerfile only)."""
    from layerwise.analyses.project import ProjectContext
    from layerwise.parse import parse_file

    path = display_path or os.fspath(dockerfile)
    df = parse_file(dockerfile)
    df.path = path
    project = ProjectContext(context, dockerfile)
    return check_parsed(df, path, project, rules=rules, severities=severities, build_args=build_args)


def uses_buildkit_features(df) -> bool:
    """Whether the Dockerfile already needs BuildKit (a syntax directive, ``RUN --mount``, a
    heredoc): package-cache fixes then mount the cache rather than disable it."""
    if df.directive("syntax"):
        return True
    return any(n.cmd == "run" and any(f.startswith("--mount") for f in n.flags) for n in df.nodes) or any(
        n.heredocs for n in df.nodes
    )


def check_parsed(
    df,
    path: str,
    project,
    *,
    rules: list[Rule] | None = None,
    severities: Mapping[str, str] | None = None,
    build_args: Mapping[str, str] | None = None,
    cache_mount: bool | None = None,
) -> CheckResult:
    """Run the rules on a parsed Dockerfile shown as ``path`` with the
    :class:`~layerwise.analyses.project.ProjectContext` ``project``: what ``check`` reports,
    and what each pass of ``fix`` reads its edits from. ``cache_mount`` (None: when the file
    already uses BuildKit features) is how package-cache fixes are written."""
    from layerwise.analyses.rules import RuleContext
    from layerwise.resolve.stages import resolve

    build = resolve(df, dict(build_args or {}))
    build.needed_stages()  # BuildKit's refusals that depend on what is built (COPY --from a later stage)
    if cache_mount is None:
        cache_mount = uses_buildkit_features(df)
    to_run = [r for r in (rules if rules is not None else all_rules().values()) if project.known or not r.needs_context]
    ctx = RuleContext(path, df, build, project, cache_mount=cache_mount, active=frozenset(r.code for r in to_run))
    result = CheckResult(sources={path: df.text}, files=[path])
    found: list[Finding] = []
    ran: list[str] = []  # the rules that ran to the end: LW001 speaks only about them
    for rule in to_run:
        if getattr(rule, "needs_ci", False) and not ctx.has_ci_files():
            ran.append(rule.code)  # nothing to look at: it finds nothing (and is not even imported)
            continue
        try:
            batch = list(rule.check(ctx))
            ran.append(rule.code)
            found.extend(batch)
            for f in batch:
                if f.fix is not None and f.fix.edits and rule.fix not in (f.fix.safety, "per-finding"):
                    raise ValueError(f"a {f.fix.safety} fix, but the rule declares {rule.fix or 'no fix'}")
        except Exception as exc:  # a bug in a rule: report it, keep checking
            if os.environ.get("LAYERWISE_DEBUG"):
                raise
            result.errors.append(f"{path}: internal error in {rule.code}: {type(exc).__name__}: {exc}")
    for exc in project.errors:
        result.errors.append(str(exc))
    sev = {k.upper(): v for k, v in (severities or {}).items()}
    defaults = {r.code: r.severity for r in all_rules().values()}
    seen = set()
    suppressions = Suppressions(df, path, result.sources)
    for f in found:
        # the rule's severity, unless the finding is a speculative note (``info``: the rule
        # has no evidence for it) or says its own (``own_severity``); a configured severity
        # wins over all
        own = f.severity if f.severity == "info" or f.own_severity else defaults.get(f.code, f.severity)
        f = replace(f, severity=sev.get(f.code, own))
        key = (f.code, f.path, f.line, f.column, f.message)
        if key in seen or suppressions.suppressed(f):
            continue
        seen.add(key)
        result.findings.append(f)
    if UNUSED_CODE in ran:
        for f in suppressions.unused(ran, defaults):
            result.findings.append(replace(f, severity=sev.get(f.code, defaults.get(f.code, f.severity))))
    result.findings.sort(key=lambda f: f.sort_key)
    return result
