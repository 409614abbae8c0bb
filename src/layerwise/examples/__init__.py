"""Example projects shipped with layerwise (used by ``layerwise demo`` and the tests)."""

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent


def example_path(name: str = "flask-demo") -> Path:
    """Return the folder of a bundled example project."""
    path = EXAMPLES / name
    if not path.is_dir():
        raise FileNotFoundError(f"no bundled example named {name!r}")
    return path
