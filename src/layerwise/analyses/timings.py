"""Step timings remembered from real builds (``layerwise bench`` records them), so that
``explain`` can say what a predicted rebuild will cost.

Stored per Dockerfile (by absolute path) in ``$XDG_CACHE_HOME/layerwise/timings.json`` as
``{dockerfile: {instruction text: seconds}}``; the newest measurement wins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def _store() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "layerwise" / "timings.json"


def load_timings(dockerfile: str | os.PathLike[str]) -> dict[str, float]:
    try:
        data = json.loads(_store().read_text())
    except (OSError, ValueError):
        return {}
    got = data.get(str(Path(dockerfile).resolve()), {})
    return {k: float(v) for k, v in got.items() if isinstance(v, (int, float))}


def save_timings(dockerfile: str | os.PathLike[str], timings: dict[str, float]) -> None:
    path = _store()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    key = str(Path(dockerfile).resolve())
    data.setdefault(key, {}).update({k: round(v, 3) for k, v in timings.items()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass  # a cache: never fail the command for it
