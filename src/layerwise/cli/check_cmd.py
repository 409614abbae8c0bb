"""``layerwise check``, ``layerwise rule CODE`` and ``layerwise rules``."""

from __future__ import annotations

import os
import sys

from layerwise.cli.args import command, echo, flag, folder, not_folder, repeated
from layerwise.cli.options import build_arg_option, format_option, parse_build_args

FORMATS = ("text", "json", "sarif", "github", "gitlab")


def _check_arguments(p) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="Project folders or Dockerfiles (default: .).")
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE", help="The Dockerfile (default: PATH/Dockerfile).")
    p.add_argument("--context", metavar="DIR", type=folder,
                   help="The build context (default: PATH when it is a folder, else the current folder).")
    flag(p, "--no-context", help="Check the Dockerfile alone (rules that need the context are skipped).")
    p.add_argument("--format", dest="output_format", choices=FORMATS, default=None, help="Output format (default: text).")
    p.add_argument("-o", "--output", metavar="FILE", type=not_folder, help="Write the report to this file.")
    repeated(p, "--select", metavar="CODES", help="Only these rules (code prefixes: LW1, LW201, ALL).")
    repeated(p, "--ignore", dest="ignore_codes", metavar="CODES", help="Not these rules.")
    repeated(p, "--extend-select", metavar="CODES", help="Add rules to the configured selection.")
    repeated(p, "--severity", dest="severities", metavar="CODE=LEVEL",
             help="Override a rule's severity (error, warning, info).")
    p.add_argument("--min-severity", choices=["info", "warning", "error"], default="info",
                   help="Report only findings of at least this severity.  [default: info]")
    p.add_argument("--fail-level", choices=["error", "warning", "info"], default="warning",
                   help="Exit 1 for findings of at least this severity; the others are reported (info: notes"
                        " without evidence) but do not fail the run.  [default: warning]")
    flag(p, "--exit-zero", help="Exit 0 even when there are findings (errors still exit 2).")
    flag(p, "--unsafe-fixes",
         help="Count (and mark [*]) the unsafe fixes too, as `layerwise fix --unsafe-fixes` applies them.")
    flag(p, "--no-config", help="Ignore [tool.layerwise] in pyproject.toml.")
    from layerwise.cli.color import add_color_option

    add_color_option(p, "Colour the text output (default: on a terminal).")
    flag(p, "--changed-files",
         help="PATHS are changed files (the pre-commit hook): check each changed Dockerfile, and the "
              "project of each changed requirements, lock, pyproject.toml or .dockerignore file.")
    build_arg_option(p)


@command(
    usage="[OPTIONS] [PATHS]...",
    arguments=_check_arguments,
    help="""Find Docker layer-cache problems in Dockerfiles of Python projects.

PATH is a project folder (its Dockerfile and build context; default: the current folder) or
Dockerfiles. The build context is the rule of `docker build -f DOCKERFILE PATH`: PATH when a
folder is given, else the current folder (--context names another); a Dockerfile elsewhere
(`-f docker/Dockerfile`, or named as PATH) does not move it. When the Dockerfile is not in
the context folder, a first line says which was used: `context: . (Dockerfile:
docker/Dockerfile)`; in JSON every finding has a "context" field. Findings are printed as `path:line:col: CODE message` with a code frame and a
hint; `layerwise rule CODE` explains a rule; `[*]` marks what `layerwise fix` fixes. Exit
status: 0 no findings (or none at the --fail-level), 1 findings at or above the
--fail-level, 2 a file could not be read or parsed, or bad usage.

\b
Examples:
    layerwise check                         # ./Dockerfile with . as context
    layerwise check -f docker/Dockerfile .
    layerwise check -f docker/Dockerfile    # the context is the current folder
    layerwise check services/*/ --format github   # each folder: its Dockerfile and context
    layerwise check --select LW1,LW2 --ignore LW204 --format sarif -o layerwise.sarif
    layerwise check --fail-level error      # report everything, fail only on errors
""",
)
def check(paths, dockerfile, context, no_context, output_format, output, select, ignore_codes, extend_select,
          severities, min_severity, fail_level, exit_zero, unsafe_fixes, no_config, color, changed_files, build_arg) -> int:  # fmt: skip
    from layerwise.analyses.check import CheckResult
    from layerwise.api import changed_file_targets, check_project, project_targets, rules_for
    from layerwise.config import Config, load_config
    from layerwise.errors import LayerwiseError, Location, UsageError
    from layerwise.escape import line as clean

    start = "." if changed_files else paths[0] if paths else (os.path.dirname(dockerfile) if dockerfile else ".")
    cfg = Config() if no_config else load_config(start or ".")
    rules = rules_for(select, ignore_codes, extend_select, cfg)
    from layerwise.analyses.rules import all_rules

    known = all_rules()
    for code in cfg.severity:  # a typo would change no rule's severity, silently
        if code not in known:
            raise UsageError(f"[tool.layerwise] severity {code}: unknown rule code (`layerwise rules` lists them)",
                             Location(str(cfg.path)) if cfg.path else None)  # fmt: skip
    sev = dict(cfg.severity)
    for item in severities:
        code, _, level = item.partition("=")
        if level not in ("error", "warning", "info"):
            raise UsageError(f"--severity {item!r}: expected CODE=error|warning|info")
        if code.strip().upper() not in known:
            raise UsageError(f"--severity {code.strip().upper()}: unknown rule code (`layerwise rules` lists them)")
        sev[code.strip().upper()] = level
    fmt = output_format or cfg.format or "text"
    args = parse_build_args(build_arg)

    result = CheckResult()
    failed = False
    if changed_files:
        targets = changed_file_targets(paths, cfg)
    else:
        targets = project_targets(paths, dockerfile, context, no_context, cfg)
    from layerwise.api import context_is_elsewhere, context_line

    context_of: dict[int, str | None] = {}  # id(finding) -> the build context it was checked with
    context_lines: list[str] = []
    for df_path, ctx_dir in targets:
        try:
            one = check_project(df_path, context=ctx_dir, no_context=ctx_dir is None, rules=rules,
                                severities=sev, build_args=args, config=cfg)  # fmt: skip
        except LayerwiseError as exc:
            echo(clean(f"{exc}" if exc.location else f"{df_path}: {exc}"), err=True)
            failed = True
            continue
        for f in one.findings:
            context_of[id(f)] = None if ctx_dir is None else os.path.normpath(ctx_dir)
        if context_is_elsewhere(df_path, ctx_dir):
            context_lines.append(context_line(df_path, ctx_dir))
        elif ctx_dir is None and not no_context:
            context_lines.append(f"context: none (Dockerfile: {os.path.normpath(df_path)}, outside the current"
                                 " folder: checked alone; --context DIR names one)")  # fmt: skip
        result.extend(one)
    for e in dict.fromkeys(result.errors):  # (each Dockerfile's check reports the CI files' problems)
        echo(clean(f"layerwise: warning: {e}"), err=True)
    rank = {"info": 0, "warning": 1, "error": 2}
    findings = [f for f in result.findings if rank.get(f.severity, 1) >= rank[min_severity]]

    if fmt == "json":
        import json

        from layerwise.escape import undecodable
        from layerwise.report.findings import finding_dict

        def with_context(f) -> dict:
            ctx_dir = context_of.get(id(f))
            return {**finding_dict(f), "context": None if ctx_dir is None else undecodable(ctx_dir)}

        text = json.dumps([with_context(f) for f in findings], indent=2) + "\n"
    elif fmt == "sarif":
        from layerwise.report.sarif import render_sarif

        text = render_sarif(findings, rules)
    elif fmt == "github":
        from layerwise.report.findings import render_github

        text = render_github(findings)
    elif fmt == "gitlab":
        from layerwise.report.gitlab import render_gitlab

        text = render_gitlab(findings)
    else:
        from layerwise.report.findings import render_text

        use_color = color if color is not None else (output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
        text = render_text(findings, result.sources, color=bool(use_color), unsafe_fixes=unsafe_fixes)
    if failed and not findings and fmt == "text":
        text = ""  # not "All checks passed!" under the error of a file that could not be checked
    if fmt == "text" and context_lines:  # a Dockerfile outside its context folder: say which one
        text = "".join(clean(line) + "\n" for line in context_lines) + text
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:  # a full disk (-o /dev/full), a folder, no permission
            raise LayerwiseError(f"cannot write the report: {exc.strerror or exc}", Location(output)) from None
    else:
        echo(text, nl=False)
    if failed:
        return 2
    if not exit_zero and any(rank.get(f.severity, 1) >= rank[fail_level] for f in findings):
        return 1
    return 0


def _rule_arguments(p) -> None:
    p.add_argument("code", metavar="CODE", help="A rule's code, e.g. LW101.")
    format_option(p, ("text", "json"))


@command(usage="[OPTIONS] CODE", arguments=_rule_arguments,
         help="Explain a rule: what it does, why it is bad, an example and what to use instead.")
def rule(code, output_format) -> int:
    import json

    from layerwise.analyses.rules import get_rule
    from layerwise.errors import UsageError
    from layerwise.report.sarif import help_uri

    r = get_rule(code)
    if r is None:
        raise UsageError(f"unknown rule {code!r} (see `layerwise rules`)")
    if output_format == "json":
        echo(json.dumps({"code": r.code, "name": r.name, "summary": r.summary, "severity": r.severity,
                               "fix": r.fix, "needs_context": r.needs_context, "url": help_uri(r.code),
                               "doc": r.doc}, indent=2))  # fmt: skip
        return 0
    fix = {"safe": "available (safe): `layerwise fix`", "unsafe": "available (unsafe: check the result)",
           "per-finding": "available (safe or unsafe by case: see Fix safety)"}.get(r.fix or "", "not available")
    echo(f"# {r.code} ({r.name})\n\n{r.summary}.\n\nSeverity: {r.severity}. Fix: {fix}."
               + (" Needs the build context." if r.needs_context else "") + "\n")  # fmt: skip
    echo(r.doc)
    return 0


@command(arguments=lambda p: format_option(p, ("text", "json")), help="List the rules of `layerwise check`.")
def rules(output_format) -> int:
    import json

    from layerwise.analyses.rules import all_rules
    from layerwise.report.sarif import help_uri

    items = list(all_rules().values())
    if output_format == "json":
        echo(json.dumps([{"code": r.code, "name": r.name, "summary": r.summary, "severity": r.severity,
                                "fix": r.fix, "needs_context": r.needs_context, "url": help_uri(r.code)}
                               for r in items], indent=2))  # fmt: skip
        return 0
    width = max(len(r.name) for r in items)
    for r in items:
        fix = {"safe": "*", "unsafe": "~", "per-finding": "+"}.get(r.fix or "", " ")
        ctx = "C" if r.needs_context else " "
        echo(f"{r.code} {fix}{ctx} {r.name:<{width}}  {r.severity:<7}  {r.summary}")
    echo("\n* fix available (safe)  ~ fix available (unsafe)  + safe or unsafe by case  C needs the build context")
    return 0
