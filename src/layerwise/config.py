"""``[tool.layerwise]`` in ``pyproject.toml``: the project's defaults for ``layerwise check``
(and, for the rule selection and the Dockerfile, ``layerwise fix``).

```toml
[tool.layerwise]
select = ["LW1", "LW2", "LW3"]        # rule code prefixes ("ALL" by default)
ignore = ["LW503"]
severity = { LW504 = "warning" }      # error | warning | info
dockerfile = "docker/Dockerfile"      # default Dockerfile, relative to pyproject.toml
context = "."                         # default build context, relative to pyproject.toml
format = "text"                       # text | json | sarif | github
```
Command-line options override it. The file is found from the checked folder upwards.
"""

from __future__ import annotations

import os
from pathlib import Path

from layerwise import safefs
from layerwise.errors import Location, UsageError
from layerwise.records import Record

KEYS = {"select", "ignore", "extend-select", "extend-ignore", "severity", "dockerfile", "context", "format"}
FORMATS = ("text", "json", "sarif", "github", "gitlab")


class Config(Record):
    """(A record written out: a dataclass would be built at every start-up.)"""

    _fields = ("path", "select", "ignore", "extend_select", "severity", "dockerfile", "context", "format")

    def __init__(self, path: Path | None = None, select: list[str] | None = None, ignore: list[str] | None = None,
                 extend_select: list[str] | None = None, severity: dict[str, str] | None = None,
                 dockerfile: str | None = None, context: str | None = None, format: str | None = None) -> None:  # fmt: skip
        self.path = path  # the pyproject.toml it came from
        self.select = select
        self.ignore: list[str] = [] if ignore is None else ignore
        self.extend_select: list[str] = [] if extend_select is None else extend_select
        self.severity: dict[str, str] = {} if severity is None else severity
        self.dockerfile = dockerfile
        self.context = context
        self.format = format

    def resolve(self, rel: str) -> str:
        base = self.path.parent if self.path else Path(".")
        return os.path.normpath(os.path.join(base, rel))


def find_pyproject(start: str | os.PathLike[str]) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.layerwise]`` table, from ``start`` upwards (to
    the repository's root when there is one). Its ``dockerfile``/``context`` are checked by
    :func:`load_config`: they must stay in the project."""
    p = Path(os.path.abspath(start))
    if not p.is_dir():
        p = p.parent
    for d in (p, *p.parents):
        cand = d / "pyproject.toml"
        if safefs.is_file("pyproject.toml", root=d):
            try:
                text = safefs.read_text("pyproject.toml", root=d, display=str(cand))
            except safefs.FileAccessError:
                text = ""
            if "tool.layerwise" in text:
                return cand
        if os.path.lexists(d / ".git"):
            break
    return None


def load_config(start: str | os.PathLike[str]) -> Config:
    path = find_pyproject(start)
    if path is None:
        return Config()
    cfg = read_config(path)
    # dockerfile/context name what fix rewrites: never a place outside the project
    root = safefs.project_root(start)
    for key in ("dockerfile", "context"):
        value = getattr(cfg, key)
        if value is not None:
            target = cfg.resolve(value)
            if safefs.contained(root, os.path.relpath(os.path.abspath(target), root)) is None:
                raise UsageError(f"[tool.layerwise] {key} = {value!r} is outside the project {root} (refused)",
                                 Location(str(path)))  # fmt: skip
    return cfg


def _strings(value, key: str, path: Path) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"[tool.layerwise] {key}: expected a list of rule codes", Location(str(path)))
    return [v.strip().upper() for v in value]


def read_config(path: Path) -> Config:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(safefs.read_text(path.name, root=path.parent, display=str(path), errors="strict"))
    except safefs.FileAccessError as exc:
        raise UsageError(exc.message, Location(str(path))) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise UsageError(f"cannot read {path.name}: {exc}", Location(str(path))) from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageError("tool must be a table ([tool.layerwise] cannot be read)", Location(str(path)))
    table = tool.get("layerwise")
    if table is None:
        return Config(path)
    if not isinstance(table, dict):
        raise UsageError("[tool.layerwise] must be a table", Location(str(path)))
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise UsageError(f"[tool.layerwise]: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})",
                         Location(str(path)))  # fmt: skip
    cfg = Config(path)
    if "select" in table:
        cfg.select = _strings(table["select"], "select", path)
    cfg.ignore = _strings(table.get("ignore", []), "ignore", path) + _strings(table.get("extend-ignore", []), "extend-ignore", path)
    cfg.extend_select = _strings(table.get("extend-select", []), "extend-select", path)
    sev = table.get("severity", {})
    if not isinstance(sev, dict):
        raise UsageError("[tool.layerwise] severity: expected a table like { LW503 = \"info\" }", Location(str(path)))
    for code, level in sev.items():
        if level not in ("error", "warning", "info"):
            raise UsageError(f"[tool.layerwise] severity.{code}: {level!r} is not error, warning or info",
                             Location(str(path)))  # fmt: skip
        cfg.severity[str(code).upper()] = level
    for key in ("dockerfile", "context", "format"):
        if key in table:
            if not isinstance(table[key], str):
                raise UsageError(f"[tool.layerwise] {key}: expected a string", Location(str(path)))
            setattr(cfg, key, table[key])
    if cfg.format is not None and cfg.format not in FORMATS:
        raise UsageError(f"[tool.layerwise] format: {cfg.format!r} is not one of {', '.join(FORMATS)}",
                         Location(str(path)))  # fmt: skip
    return cfg
