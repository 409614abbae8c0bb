"""``layerwise check`` as a library call: parse, resolve, run the selected rules, drop the
findings suppressed inline (``# layerwise: ignore[LW201]``), apply configured severities.

Parse and resolve errors propagate as :class:`~layerwise.errors.LayerwiseError` (located);
a bug in one rule is recorded in :attr:`CheckResult.errors` and never stops the others.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import Rule, all_rules

_SUPPRESS = re.compile(r"#\s*layerwise:\s*(?:ignore|noqa)(?:\[([A-Za-z0-9,\s]*)\])?", re.I)


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # path -> text, for code frames
    errors: list[str] = field(default_factory=list)  # rules that failed (bugs), context problems
    files: list[str] = field(default_factory=list)  # Dockerfiles checked

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
    from layerwise.analyses.rules import RuleContext
    from layerwise.parse import parse_file
    from layerwise.resolve.stages import resolve

    path = display_path or os.fspath(dockerfile)
    df = parse_file(dockerfile)
    df.path = path
    build = resolve(df, dict(build_args or {}))
    project = ProjectContext(context, dockerfile)
    ctx = RuleContext(path, df, build, project)
    result = CheckResult(sources={path: df.text}, files=[path])
    found: list[Finding] = []
    for rule in rules if rules is not None else list(all_rules().values()):
        if rule.needs_context and not project.known:
            continue
        try:
            found.extend(rule.check(ctx))
        except Exception as exc:  # a bug in a rule: report it, keep checking
            if os.environ.get("LAYERWISE_DEBUG"):
                raise
            result.errors.append(f"{path}: internal error in {rule.code}: {type(exc).__name__}: {exc}")
    for exc in project.errors:
        result.errors.append(str(exc))
    sev = {k.upper(): v for k, v in (severities or {}).items()}
    defaults = {r.code: r.severity for r in all_rules().values()}
    seen = set()
    for f in found:
        f = replace(f, severity=sev.get(f.code, defaults.get(f.code, f.severity)))
        key = (f.code, f.path, f.line, f.column, f.message)
        if key in seen or _suppressed(f, df, path, result.sources):
            continue
        seen.add(key)
        result.findings.append(f)
    result.findings.sort(key=lambda f: f.sort_key)
    return result


def _comment_lines_above(text: str, offset: int) -> list[str]:
    """The comment lines right above the line holding ``offset``, nearest first."""
    out = []
    end = text.rfind("\n", 0, offset)  # the line ending of the line above
    while end >= 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].rstrip("\r")
        if not line.lstrip().startswith("#"):
            break
        out.append(line)
        end = start - 1
    return out


def _codes(m: re.Match) -> set[str] | None:
    if m.group(1) is None:
        return None  # every code
    return {c.strip().upper() for c in m.group(1).split(",") if c.strip()}


def is_suppressed(df, path: str, code: str, line: int) -> bool:
    """Whether an inline comment (``# layerwise: ignore[CODE]``) turns ``code`` off at ``line``
    of the Dockerfile ``df`` shown as ``path``: what ``fix`` honours too."""
    return _suppressed(Finding(code, "", path, line), df, path, {})


def _suppressed(f: Finding, df, path: str, sources: dict[str, str]) -> bool:
    if f.path == path:
        # the instruction holding the line (a search: a file can have millions of them)
        i = bisect.bisect_right(df.nodes, f.line, key=lambda n: n.start_line) - 1
        if i < 0:
            return False
        node = df.nodes[i]
        texts = list(node.comments)
        texts += [ln for ln in df.source(node).splitlines() if ln.lstrip().startswith("#")]
        texts += _comment_lines_above(df.text, node.span.start)
    else:
        text = sources.get(f.path)
        if text is None:
            try:
                with open(f.path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
            except OSError:
                return False
            sources[f.path] = text
        lines = text.splitlines()
        texts = [lines[k] for k in (f.line - 1, f.line - 2) if 0 <= k < len(lines)]
    for t in texts:
        for m in _SUPPRESS.finditer(t):
            codes = _codes(m)
            if codes is None or any(f.code.startswith(c) for c in codes):
                return True
    return False
