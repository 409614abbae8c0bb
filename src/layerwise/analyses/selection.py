"""Which rules a ``check`` or ``fix`` runs: the ``--select/--ignore/--extend-select`` code
prefixes over ``[tool.layerwise]``, each checked against the rules there are (a typo selects
nothing silently otherwise). The command line and the library (``layerwise.rules_for``) read a
selection the same way."""

from __future__ import annotations

from layerwise.errors import UsageError


def codes(values) -> list[str]:
    """``--select LW1,LW201 --select LW3`` -> ``["LW1", "LW201", "LW3"]``."""
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def known_codes(prefixes: list[str], where: str, location=None) -> list[str]:
    """``prefixes`` when each is ``ALL`` or starts some rule's code; else a usage error naming
    the first that does not (a typo such as ``LW1O1`` would silently select nothing)."""
    from layerwise.analyses.rules import all_rules

    rules = list(all_rules())
    for p in prefixes:
        if p != "ALL" and not any(code.startswith(p) for code in rules):
            raise UsageError(f"{where} {p}: unknown rule code (`layerwise rules` lists them)", location)
    return prefixes


def rule_selection(cfg, select, ignore, extend_select=()):
    """The (select, ignore) code prefixes of ``check`` and ``fix``: the command line over
    ``[tool.layerwise]`` (an explicit ``--select`` drops the configured ignores too), plus the
    extensions of both. An unknown code is a usage error, located in pyproject.toml when it
    comes from there."""
    from layerwise.errors import Location

    at = Location(str(cfg.path)) if getattr(cfg, "path", None) else None
    known_codes(cfg.select or [], "[tool.layerwise] select", at)
    known_codes(cfg.ignore, "[tool.layerwise] ignore", at)
    known_codes(cfg.extend_select, "[tool.layerwise] extend-select", at)
    known_codes(codes(select), "--select")
    known_codes(codes(ignore), "--ignore")
    known_codes(codes(extend_select), "--extend-select")
    sel = codes(select) or cfg.select
    sel = (sel or ["ALL"]) + codes(extend_select) + cfg.extend_select
    ign = codes(ignore) + ([] if select else cfg.ignore)
    return sel, ign
