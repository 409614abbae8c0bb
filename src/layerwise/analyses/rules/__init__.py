"""The rules of ``layerwise check``: one module per rule, declared in one table.

:mod:`~layerwise.analyses.rules.registry` declares every rule (code, name, severity, fix and
its safety, whether it needs the build context, summary) and imports a rule's module only when
its check or doc is asked for. A rule module ``lwNNN_<what>.py`` holds

* ``CODE`` (``"LW101"``), the code of its findings (the table's row names the module);
* its documentation as the module docstring, in ruff's shape: *What it does* / *Why is this
  bad?* / *Example* / *Use instead* (and ``## Fix safety`` when it has a fix);
* ``check(ctx: RuleContext) -> Iterable[Finding]``.

This package holds :class:`RuleContext`, what a rule's check looks at.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.rules.registry import RULES, Rule, all_rules, get_rule

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.copies import ImageAt, ImageHistories
    from layerwise.analyses.installs import RunAnalysis
    from layerwise.analyses.project import ProjectContext
    from layerwise.ci import CiBuild, CiProject
    from layerwise.parse.instructions import Run
    from layerwise.parse.nodes import Dockerfile, Node
    from layerwise.resolve.stages import Build, Stage, Step

__all__ = ["RULES", "Rule", "RuleContext", "all_rules", "get_rule"]


class RuleContext:
    """What a rule looks at: the parsed and resolved Dockerfile and (maybe) the project.

    (A plain class, not a dataclass: building a dataclass at import costs every start-up.)"""

    def __init__(self, path: str, dockerfile: Dockerfile, build: Build, project: ProjectContext,
                 cache_mount: bool = False, active: frozenset[str] | None = None) -> None:  # fmt: skip
        self.path = path  # the Dockerfile as shown to users
        self.dockerfile = dockerfile
        self.build = build
        self.project = project
        #: fixes that can either turn a package cache off or mount it prefer the mount (LW201;
        #: ``layerwise fix --cache-mount``)
        self.cache_mount = cache_mount
        #: the codes of the rules this check runs (None: every rule), for a rule that leaves a
        #: case to another one only when that one runs (LW107 leaves a move to LW101's fix)
        self.active = active
        self._analyses: dict[str, RunAnalysis] = {}
        self._by_run: dict[int, tuple[Run, RunAnalysis]] = {}
        self._report: object = None
        self._images: ImageHistories | None = None
        self._ci: CiProject | None = None
        self._has_ci: bool | None = None

    def __repr__(self) -> str:
        return f"RuleContext({self.path!r}, cache_mount={self.cache_mount!r}, active={self.active!r})"

    def runs(self, code: str) -> bool:
        """Whether the rule ``code`` runs in this check (selected, and able to run)."""
        return self.active is None or code in self.active

    def steps(self) -> Iterator[tuple[Stage, Step]]:
        for stage in self.build.stages:
            for step in stage.steps:
                yield stage, step

    def analysis(self, step_or_run) -> RunAnalysis:
        """The shared :mod:`~layerwise.analyses.installs` analysis of a RUN, memoised by the
        shell text it analyses: equal RUNs (a big Dockerfile repeats them) share one."""
        run = getattr(step_or_run, "instruction", step_or_run)
        # the rules ask ~8 times per RUN: the same RUN is answered without building its text
        # again (the entry keeps the RUN, so its id cannot name another object meanwhile)
        seen = self._by_run.get(id(run))
        if seen is not None and seen[0] is run:
            return seen[1]
        from layerwise.analyses.installs import analyse_run, run_text

        key = run_text(run)
        hit = self._analyses.get(key)
        if hit is None:
            hit = analyse_run(run)
            if "pdm" in key and self.project.known:  # pdm run <script> of [tool.pdm.scripts]
                from layerwise.analyses.installs import pdm_scripts, with_scripts

                hit = with_scripts(hit, pdm_scripts(self.project.pyproject))
            self._analyses[key] = hit
        self._by_run[id(run)] = (run, hit)
        return hit

    def image_files_before(self, stage: Stage, index: int) -> ImageAt:
        """The files of ``stage``'s image before its step ``index`` (its FROM stages included),
        from each stage chain's history built once for all rules and steps: rebuilding the
        state for each install made a long stage quadratic."""
        if self._images is None:
            from layerwise.analyses.copies import ImageHistories

            self._images = ImageHistories(self.build.stages, lambda step: self.analysis(step).text)
        return self._images.before(stage, index)

    def context_report(self):
        """The build-context report (junk, secrets and the COPY that copies them), built once
        for all rules; None without a snapshot."""
        if self._report is None and self.project.snapshot is not None:
            from layerwise.analyses.copies import copy_sources
            from layerwise.context.report import build_report

            self._report = build_report(self.project.snapshot, copy_sources(self.build, self.path))
        return self._report

    def has_ci_files(self) -> bool:
        """Whether the repository around the build context has CI files (GitHub workflows,
        ``.gitlab-ci.yml``): a look at two names, without importing the CI model or YAML."""
        if self._has_ci is None:
            if self.project.root is None:
                self._has_ci = False
            else:
                from layerwise.ci.project import ci_files, repository_root

                self._has_ci = bool(ci_files(repository_root(self.project.root)))
        return self._has_ci

    def ci(self) -> CiProject | None:
        """The CI files of the repository around the build context (GitHub Actions, GitLab
        CI), loaded once for all rules; None without a context. Unreadable CI files are
        reported as project errors."""
        if self._ci is None and self.project.root is not None:
            from layerwise.ci import load_ci
            from layerwise.errors import LayerwiseError, Location

            self._ci = load_ci(self.project.root, overlay=getattr(self.project, "overlay", None))
            for e in self._ci.errors:
                self.project.errors.append(LayerwiseError(e.message, Location(e.path, e.line, e.column)))
        return self._ci

    def ci_builds(self) -> list[CiBuild]:
        """The CI builds of this Dockerfile (their ``file``/``-f`` resolves to it)."""
        ci = self.ci()
        if ci is None or not ci.builds:
            return []
        import os

        return ci.builds_of(os.fspath(self.project.dockerfile_path or self.path))

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built FROM, oldest first."""
        chain, seen = [stage], {stage.index}  # (a set: a long chain stays linear)
        while chain[-1].base_stage is not None and chain[-1].base_stage not in seen:
            chain.append(self.build.stages[chain[-1].base_stage])
            seen.add(chain[-1].index)
        return chain[::-1]

    def shipped_stages(self) -> set[int]:
        """Indices of the stages whose layers end up in an image: the last stage (the default
        target), every stage no other stage builds FROM or copies from (it exists only to be
        built with ``--target``: a dev or test image), and the stages they are built FROM. Only
        the stages that other stages merely copy from (builders) are left out."""
        stages = self.build.stages
        if not stages:
            return set()
        used: set[int] = set()
        for st in stages:
            used |= st.dependencies() - {st.index}
        targets = [st for st in stages[:-1] if st.index not in used] + [stages[-1]]
        return {s.index for t in targets for s in self.lineage(t)}

    def at(
        self,
        code: str,
        node: Node,
        message: str,
        *,
        hint: str = "",
        fix: Fix | None = None,
        line: int | None = None,
        column: int | None = None,
        related: tuple[tuple[str, int], ...] = (),
    ) -> Finding:
        """A finding on an instruction (``line``/``column`` narrow it to a place inside it)."""
        sp = node.span
        return Finding(
            code=code,
            message=message,
            path=self.path,
            line=line or sp.start_line,
            column=column or (sp.start_column if line is None else 1),
            end_line=sp.end_line if line is None else line,
            end_column=sp.end_column if line is None else None,
            fix=fix,
            hint=hint,
            related=related,
        )

    def insert_line_before(self, node: Node, line: str) -> Edit:
        """An edit that inserts ``line`` on a line of its own just above the instruction,
        indented like it, with the file's line ending."""
        text = self.dockerfile.text
        at = text.rfind("\n", 0, node.span.start) + 1
        first = text.find("\n")
        newline = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"
        return Edit(self.path, at, at, text[at : node.span.start] + line + newline)

    def locate_command(self, node: Node, argv: list[str]) -> tuple[int, int] | None:
        """Where a command (its longest leading words found) is inside an instruction."""
        for k in range(min(len(argv), 6), 0, -1):
            hit = self.locate(node, " ".join(argv[:k]))
            if hit is not None:
                return hit
        return None

    def locate_install(self, step, install) -> tuple[int, int] | None:
        """Line and column of the command that runs ``install`` (one of the step's analysis'
        installs): its own words, not the same text in an echo before it; else as
        :meth:`locate_command` finds it."""
        from layerwise.analyses.fixtext import install_words

        words = install_words(self.dockerfile, step.instruction, self.analysis(step), install)
        at = words[len(words) - len(install.argv)][1] if words and len(words) >= len(install.argv) else None
        if at is None:
            return self.locate_command(step.instruction.node, install.argv)
        text = self.dockerfile.text
        return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)

    def locate(self, node: Node, needle: str) -> tuple[int, int] | None:
        """Line and column of the first ``needle`` inside an instruction's text."""
        src = self.dockerfile.source(node)
        i = src.find(needle)
        if i < 0:
            return None
        before = src[:i]
        line = node.span.start_line + before.count("\n")
        col = i - (before.rfind("\n") + 1) + (node.span.start_column if "\n" not in before else 1)
        return line, col
