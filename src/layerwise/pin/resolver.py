"""Exact versions from pip's own resolver: ``pip install --dry-run --ignore-installed
--report``, in a subprocess of the chosen interpreter. Nothing is installed; the environment
is not read (``--ignore-installed``), so the answer is what a fresh image would get from the
same index for that interpreter and platform.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from layerwise.errors import LayerwiseError, Location
from layerwise.pin.requirements import canonical


@dataclass
class Resolved:
    name: str  # as the distribution spells it
    version: str
    requested: bool  # named in the requirements (not only a dependency)
    direct: bool  # a path or URL (never pinned by version)
    hashes: list[str] = field(default_factory=list)  # "sha256:..." of the file pip chose


def resolve(
    requirements_file: str | os.PathLike[str],
    *,
    python: str,
    index_options: Sequence[str] = (),
    timeout: float = 600,
) -> dict[str, Resolved]:
    """Canonical name -> what pip would install for ``-r requirements_file``."""
    path = Path(requirements_file)
    with tempfile.TemporaryDirectory(prefix="layerwise-pin-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                "--disable-pip-version-check", "--report", str(report), *index_options,
                "-r", path.name]  # fmt: skip
        env = dict(os.environ, PIP_NO_INPUT="1", PIP_REQUIRE_VIRTUALENV="0")
        try:
            p = subprocess.run(argv, cwd=path.parent, env=env, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            raise LayerwiseError(f"no Python interpreter {python}", Location(str(path))) from None
        except subprocess.TimeoutExpired:
            raise LayerwiseError(f"pip did not resolve within {timeout:.0f}s", Location(str(path))) from None
        if p.returncode != 0 or not report.exists():
            raise LayerwiseError("pip could not resolve the requirements: " + _pip_error(p.stderr or p.stdout),
                                 Location(str(path)))  # fmt: skip
        data = json.loads(report.read_text())
    out: dict[str, Resolved] = {}
    for item in data.get("install", []):
        meta = item.get("metadata", {})
        info = item.get("download_info", {})
        archive = info.get("archive_info") or {}
        hashes = archive.get("hashes") or {}
        if not hashes and archive.get("hash"):
            algo, _, value = archive["hash"].partition("=")
            hashes = {algo: value}
        direct = bool(item.get("is_direct")) or "dir_info" in info or "vcs_info" in info
        out[canonical(meta["name"])] = Resolved(
            meta["name"],
            meta["version"],
            bool(item.get("requested")),
            direct,
            [f"sha256:{hashes['sha256']}"] if "sha256" in hashes else [],
        )
    return out


def _pip_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("WARNING: Location")]
    errors = [ln for ln in lines if ln.startswith("ERROR:")]
    msg = (errors or lines or ["(no output)"])[0]
    return msg.removeprefix("ERROR: ")
