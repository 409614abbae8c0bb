"""Exact versions from pip's own resolver: ``pip install --dry-run --ignore-installed
--report``, in a subprocess of the chosen interpreter. Nothing is installed; the environment
is not read (``--ignore-installed``), so the answer is what a fresh image would get from the
same index for that interpreter and platform.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from layerwise.errors import LayerwiseError, Location
from layerwise.escape import redact
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
    python_version: str | None = None,
    timeout: float = 600,
) -> dict[str, Resolved]:
    """Canonical name -> what pip would install for ``-r requirements_file``. ``python_version``
    (``3.12``): for that Python instead of the interpreter's own, with pip's ``--python-version``,
    which takes wheels only (``--only-binary :all:``; pip allows it with ``--target``, into a
    folder of the dry run that stays empty)."""
    path = Path(requirements_file)
    with tempfile.TemporaryDirectory(prefix="layerwise-pin-") as tmp:
        report = Path(tmp) / "report.json"
        other = (["--python-version", python_version, "--only-binary", ":all:", "--target", str(Path(tmp) / "target")]
                 if python_version else [])  # fmt: skip
        argv = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                "--disable-pip-version-check", "--report", str(report), *other, *index_options,
                "-r", path.name]  # fmt: skip
        env = dict(os.environ, PIP_NO_INPUT="1", PIP_REQUIRE_VIRTUALENV="0")
        try:
            p = subprocess.run(argv, cwd=path.parent, env=env, capture_output=True, text=True, timeout=timeout, check=False)
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


def add_all_hashes(resolved: dict[str, Resolved], index_options: Sequence[str] = ()) -> list[str]:
    """Give every resolved version the hashes of *all* its files (wheels for every platform,
    sdist), as pip-compile does: the file pip chose here may not be the one the image picks.
    From the ``--find-links`` folders (hashed here) and the index's JSON simple API (PEP 691).
    Returns notes for what could not be read (the chosen file's hash stays)."""
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    def version_of(filename: str) -> tuple[str, str] | None:
        try:
            if filename.endswith(".whl"):
                name, ver, _, _ = parse_wheel_filename(filename)
            else:
                name, ver = parse_sdist_filename(filename)
        except (InvalidWheelFilename, InvalidSdistFilename):
            return None
        return canonical(name), str(ver)

    opts = list(index_options)
    links = [opts[i + 1] for i, o in enumerate(opts[:-1]) if o in ("-f", "--find-links")]
    links += os.environ.get("PIP_FIND_LINKS", "").split()
    indexes: list[str] = []
    if "--no-index" not in opts:
        main = next((opts[i + 1] for i, o in enumerate(opts[:-1]) if o in ("-i", "--index-url")), None)
        indexes.append(main or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple")
        indexes += [opts[i + 1] for i, o in enumerate(opts[:-1]) if o == "--extra-index-url"]
    wanted = {(n, str(Version(r.version))): r for n, r in resolved.items() if not r.direct}
    found: dict[str, set[str]] = {n: set(r.hashes) for n, r in resolved.items()}
    for link in links:
        folder = Path(link.removeprefix("file://"))
        if not folder.is_dir():
            continue
        for f in folder.iterdir():
            key = version_of(f.name)
            if key in wanted:
                found[key[0]].add("sha256:" + hashlib.sha256(f.read_bytes()).hexdigest())
    notes = []
    for index in indexes:
        for (name, version), r in wanted.items():
            try:
                files = _simple_json(index, name)
            except (OSError, ValueError) as exc:
                notes.append(redact(f"{r.name}: hashes of its other files not read from {index} ({exc})"))
                continue
            for f in files:
                key = version_of(f.get("filename", ""))
                sha = (f.get("hashes") or {}).get("sha256")
                if key == (name, version) and sha and not f.get("yanked"):
                    found[name].add("sha256:" + sha)
    for n, r in resolved.items():
        r.hashes = sorted(found[n])
    return notes


def _simple_json(index: str, name: str) -> list[dict]:
    import ssl
    import urllib.request

    url = index.rstrip("/") + "/" + name + "/"
    req = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    ctx = ssl.create_default_context(cafile=os.environ.get("PIP_CERT") or None)
    with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
        if "json" not in resp.headers.get("Content-Type", ""):
            raise ValueError("the index does not serve PEP 691 JSON")
        return json.loads(resp.read()).get("files", [])


def _pip_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("WARNING: Location")]
    errors = [ln for ln in lines if ln.startswith("ERROR:")]
    msg = (errors or lines or ["(no output)"])[0]
    return msg.removeprefix("ERROR: ")
