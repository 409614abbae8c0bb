"""Every rule of ``layerwise check`` declared in one table: code, name, module, severity, fix,
whether it needs the build context (or CI files), summary.

This table is what everything that speaks about rules reads: the check engine (which rules a
selection turns on, their default severity, which ones to skip without a context), ``layerwise
rule``/``rules`` and ``docs/rules/generate.py``, the JSON/SARIF/GitLab reporters, the language
server and the fix loop. A rule's documentation is its module's docstring and its
``check(ctx)`` the module's function: the module is imported only when one of them is asked
for, so a ``check --select LW5`` imports the LW5 modules alone, and a check without a build
context never imports the rules that need one.

``needs_context`` rules are skipped without a build context, ``needs_ci`` ones (the CI cache
rules) when the repository has no CI file.

``fix`` is the safety of the fix the rule declares: ``"safe"`` (``layerwise fix`` applies it),
``"unsafe"`` (only with ``--unsafe-fixes``), ``"per-finding"`` (safe in some cases, unsafe in
others: each finding's fix carries its own, and the doc's ``## Fix safety`` says which case is
which) or ``None`` (no fix; the finding's help says what to do).

A rule module carries its ``CODE`` (the code of its findings) and nothing else of this table;
``tests/unit/rules/test_registry.py`` checks the two agree.

Adding a rule: its module ``lwNNN_<what>.py`` (docstring in ruff's shape: *What it does* /
*Why is this bad?* / *Example* / *Use instead*, and ``## Fix safety`` when it has a fix), one
row here, its fixture and snapshot (DEVELOPERS.md), then ``python docs/rules/generate.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from layerwise.records import Record

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.findings import Finding
    from layerwise.analyses.rules import RuleContext

SEVERITIES = ("error", "warning", "info")
FIX_SAFETY = ("safe", "unsafe", "per-finding", None)

FAMILIES = {"0": "directives", "1": "layer order", "2": "package caches", "3": "build context",
            "4": "pinning", "5": "Dockerfile hygiene", "6": "CI cache"}  # fmt: skip


class Rule(Record):
    """One rule's declared metadata; its doc and check come from its module on first use."""

    __slots__ = ("_mod", "code", "fix", "module", "name", "needs_ci", "needs_context", "severity", "summary")
    _fields = ("code", "name", "module", "severity", "fix", "needs_context", "needs_ci", "summary")

    def __init__(self, code: str, name: str, module: str, severity: str, *, fix: str | None,
                 summary: str, needs_context: bool = False, needs_ci: bool = False) -> None:  # fmt: skip
        self.code = code
        self.name = name
        self.module = module  # in layerwise.analyses.rules
        self.severity = severity
        self.fix = fix
        self.needs_context = needs_context
        # speaks only about CI files: with none in the repository it has nothing to look at,
        # and the engine neither imports nor runs it
        self.needs_ci = needs_ci
        self.summary = summary
        self._mod = None

    def _module(self):
        if self._mod is None:
            import importlib

            self._mod = importlib.import_module(f"{__package__}.{self.module}")
        return self._mod

    @property
    def doc(self) -> str:
        """The rule's documentation (its module's docstring, Markdown)."""
        return (self._module().__doc__ or "").strip()

    @property
    def check(self) -> Callable[[RuleContext], Iterable[Finding]]:
        return self._module().check

    @property
    def family(self) -> str:
        return FAMILIES.get(self.code[2], "")

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"Rule({self.code!r}, {self.name!r}, severity={self.severity!r}, fix={self.fix!r})"


# In code order.
RULES: tuple[Rule, ...] = (
    Rule("LW001", "unused-ignore", "lw001_unused_ignore", "warning", fix="safe",
         summary="Inline ignore directive that suppresses nothing"),
    Rule("LW101", "copy-before-install", "lw101_copy_before_install", "error", fix="safe",
         summary="Source code copied before the dependency install: any code edit reinstalls every dependency"),
    Rule("LW102", "volatile-dependency-file", "lw102_volatile_dependency_file", "info", fix=None,
         needs_context=True,
         summary="The dependency install reads a file that changes for non-dependency reasons"),
    Rule("LW103", "missing-install-file", "lw103_missing_install_file", "error", fix=None,
         summary="A file the install needs is not in the image at that point"),
    Rule("LW104", "apt-update-layer", "lw104_apt_update_layer", "warning", fix="safe",
         summary="apt-get update in another RUN than apt-get install, or package lists left in the layer"),
    Rule("LW105", "moving-image-reference", "lw105_moving_reference", "warning", fix=None,
         summary="Image without a tag or with :latest: the cache silently goes stale or busts"),
    Rule("LW106", "build-files-copied", "lw106_build_files_copied", "info", fix="safe", needs_context=True,
         summary="The Dockerfile, .dockerignore or compose files are copied by COPY . ."),
    Rule("LW107", "system-packages-after-copy", "lw107_system_packages_after_copy", "warning", fix="per-finding",
         summary="System packages installed after the source copy: reinstalled on every code change"),
    Rule("LW108", "install-after-stage-copy", "lw108_install_after_stage_copy", "warning", fix="safe",
         summary="Dependency install after a COPY --from of the stage's whole app: reinstalled on every code change"),
    Rule("LW201", "package-cache-in-layer", "lw201_cache_in_layer", "warning", fix="safe",
         summary="Package-manager cache baked into the image layer"),
    Rule("LW202", "cache-mount-disabled", "lw202_cache_mount_disabled", "warning", fix="safe",
         summary="A cache mount made useless by --no-cache-dir, PIP_NO_CACHE_DIR or UV_NO_CACHE"),
    Rule("LW203", "cache-mount-wrong-user", "lw203_cache_mount_wrong_user", "warning", fix="safe",
         summary="Cache mount target does not match the cache folder of the user running the install"),
    Rule("LW204", "uv-link-mode", "lw204_uv_link_mode", "info", fix="safe",
         summary="uv with a cache mount but without UV_LINK_MODE=copy"),
    Rule("LW301", "no-dockerignore", "lw301_no_dockerignore", "warning", fix="safe", needs_context=True,
         summary="No .dockerignore while the whole context is copied"),
    Rule("LW302", "root-only-ignore-pattern", "lw302_root_only_pattern", "warning", fix="safe", needs_context=True,
         summary=".dockerignore pattern only matches at the context root"),
    Rule("LW303", "junk-copied", "lw303_junk_copied", "warning", fix="safe", needs_context=True,
         summary="Python junk (caches, virtualenvs, .git) sent to the builder and copied into the image"),
    Rule("LW304", "needed-file-ignored", "lw304_needed_file_ignored", "error", fix="safe",
         needs_context=True,
         summary=".dockerignore excludes a file the build needs"),
    Rule("LW305", "secret-copied", "lw305_secret_copied", "error", fix="safe",
         needs_context=True,
         summary="A file that looks like a secret is copied into the image"),
    Rule("LW401", "unpinned-requirement", "lw401_unpinned_requirement", "warning", fix=None,
         summary="A requirement is not pinned to one version"),
    Rule("LW402", "lock-file-ignored", "lw402_lock_ignored", "warning", fix="per-finding",
         summary="A lock file exists but the install ignores it"),
    Rule("LW501", "secret-in-arg-env", "lw501_secret_in_arg_env", "warning", fix=None,
         summary="A secret passed in ARG or ENV (stored in the image history or config)"),
    Rule("LW502", "add-instead-of-copy", "lw502_add_instead_of_copy", "info", fix="safe",
         summary="ADD used where COPY does"),
    Rule("LW503", "runs-as-root", "lw503_runs_as_root", "info", fix=None,
         summary="The image runs as root"),
    Rule("LW504", "shell-form-cmd", "lw504_shell_form_cmd", "info", fix="unsafe",
         summary="Shell-form CMD/ENTRYPOINT: the app does not receive SIGTERM"),
    Rule("LW601", "ci-build-without-cache", "lw601_ci_build_without_cache", "warning", fix="per-finding",
         needs_context=True, needs_ci=True,
         summary="A CI build neither imports nor exports a build cache: every CI build is cold"),
    Rule("LW602", "ci-cache-min-mode", "lw602_ci_cache_min_mode", "warning", fix="safe",
         needs_context=True, needs_ci=True,
         summary="CI cache exported in min mode while the dependency install is in a builder stage"),
    Rule("LW603", "ci-cache-mount-not-exported", "lw603_ci_cache_mount_not_exported", "info", fix=None,
         needs_context=True, needs_ci=True,
         summary="A cache mount the CI build relies on starts empty on every runner"),
    Rule("LW604", "ci-gha-scope-shared", "lw604_ci_gha_scope_shared", "warning", fix="safe",
         needs_context=True, needs_ci=True,
         summary="Several CI builds export their gha cache to one scope and overwrite each other"),
    Rule("LW605", "ci-cache-one-sided", "lw605_ci_cache_one_sided", "warning", fix="per-finding",
         needs_context=True, needs_ci=True,
         summary="A CI cache is imported but never exported, or exported but never imported"),
    Rule("LW606", "ci-inline-cache-missing", "lw606_ci_inline_cache_missing", "warning", fix="safe",
         needs_context=True, needs_ci=True,
         summary="--cache-from an image that no CI build embeds cache metadata in"),
    Rule("LW607", "ci-no-cache", "lw607_ci_no_cache", "warning", fix="unsafe",
         needs_context=True, needs_ci=True,
         summary="A CI build disables the build cache (no-cache)"),
    Rule("LW608", "ci-cache-export-unsupported", "lw608_ci_cache_export_unsupported", "error", fix="per-finding",
         needs_context=True, needs_ci=True,
         summary="A CI build exports a cache the default docker driver cannot export"),
    Rule("LW609", "ci-volatile-build-arg", "lw609_ci_volatile_build_arg", "warning", fix=None,
         needs_context=True, needs_ci=True,
         summary="A build argument CI changes on every build is declared before the dependency install"),
)

_BY_CODE = {r.code: r for r in RULES}


def all_rules() -> dict[str, Rule]:
    """Every rule, by code, in code order."""
    return _BY_CODE


def get_rule(code: str) -> Rule | None:
    return _BY_CODE.get(code.upper())
