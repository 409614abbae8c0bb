"""Hostile projects, threat: work or memory without bound. ``explain`` streams the git blobs
of a revision (hashed blob by blob, chunk by chunk) instead of holding them all; ``check``
reads a requirements file once however many findings point into it."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   cwd=cwd, check=True, capture_output=True)  # fmt: skip


def _peak_mb(code: str) -> tuple[int, subprocess.CompletedProcess]:
    """Run ``code`` in a child Python; its peak RSS (VmHWM, its own address space) in MB."""
    code = textwrap.dedent(code) + textwrap.dedent("""
        import sys
        hwm = next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:"))
        print("VMHWM", int(hwm) // 1024, file=sys.stderr)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=REPO, check=False)
    m = re.search(r"VMHWM (\d+)", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), p


@pytest.mark.slow
def test_explain_streams_the_blobs_of_modified_tracked_files(tmp_path):
    # 6 tracked files of 40 MB each, all modified: the revision's 240 MB of blobs are read
    # from git. Measured: 542 MB peak when every blob was held at once (and sliced: twice),
    # 25 MB when they are hashed as they stream in.
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\nRUN pip install flask\n")
    for i in range(6):
        with open(tmp_path / f"data{i}.bin", "wb") as f:
            f.write(bytes([i]) * (40 << 20))
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "data")
    for i in range(6):
        with open(tmp_path / f"data{i}.bin", "r+b") as f:
            f.write(b"changed")
    peak, p = _peak_mb(f"""
        from layerwise.cli import main
        try:
            main(["explain", "--format", "json", {str(tmp_path)!r}])
        except SystemExit as e:
            assert e.code == 0, e.code
    """)
    assert '"status": "rebuilt"' in p.stdout, p.stderr  # COPY . . sees the changed files
    assert peak < 160, f"explain peaked at {peak} MB for 240 MB of blobs"


class _CountingPattern:
    """A compiled regex whose ``sub`` calls are counted (one per requirement line parsed)."""

    def __init__(self, pattern, calls: dict[str, int]) -> None:
        self.pattern, self.calls = pattern, calls

    def sub(self, *args):
        self.calls["lines parsed"] += 1
        return self.pattern.sub(*args)


def _check_counted(monkeypatch, tmp_path: Path, n: int) -> tuple[dict[str, int], int]:
    from layerwise import safefs
    from layerwise.analyses import directives, project
    from layerwise.analyses.check import check_dockerfile
    from layerwise.report.findings import render_text

    calls = {"lines parsed": 0, "files read": 0, "directive scans": 0}
    real_read, real_init = safefs.read_bytes, directives.FileDirectives.__init__

    def read(*a, **k):
        calls["files read"] += 1
        return real_read(*a, **k)

    def init(self, *a, **k):
        calls["directive scans"] += 1
        real_init(self, *a, **k)

    monkeypatch.setattr(safefs, "read_bytes", read)
    monkeypatch.setattr(directives.FileDirectives, "__init__", init)
    monkeypatch.setattr(project, "_COMMENT", _CountingPattern(project._COMMENT, calls))
    d = tmp_path / str(n)
    d.mkdir()
    (d / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY requirements.txt base.txt ./\n"
                                  "RUN pip install -r requirements.txt\nRUN pip install -r requirements.txt -c base.txt\n")  # fmt: skip
    (d / "requirements.txt").write_text("-r base.txt\n" + "".join(f"pkg{i}>=1.{i}  # comment\n" for i in range(n)))
    (d / "base.txt").write_text("".join(f"base{i}\n" for i in range(n)))
    result = check_dockerfile(d / "Dockerfile", context=d)
    render_text(result.findings, result.sources)
    monkeypatch.undo()
    return calls, sum(1 for f in result.findings if f.code == "LW401")


def test_check_is_linear_in_the_requirement_lines(monkeypatch, tmp_path):
    # every finding in requirements.txt read and split the whole file again (and every install
    # re-parsed it): 10k lines took 2.9 s, 40k 49-71 s. Now each file is read, parsed and
    # scanned for directives once.
    small, found_small = _check_counted(monkeypatch, tmp_path, 40)
    big, found_big = _check_counted(monkeypatch, tmp_path, 400)
    assert (found_small, found_big) == (80, 800)  # each unpinned line of both files, once
    assert big["files read"] == small["files read"] and big["directive scans"] == small["directive scans"]
    assert small["lines parsed"] <= 2 * (2 * 40 + 1) + 10  # each line of each file parsed once
    assert big["lines parsed"] <= 11 * small["lines parsed"]


def test_pin_scratch_copy_leaves_out_big_and_special_files(tmp_path, monkeypatch):
    import os

    from layerwise import pin as pinmod

    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.poetry]\nname='x'\n")
    with open(project / "data.bin", "wb") as f:
        f.truncate(2 * 1024**3)  # 2 GB, sparse: copied, it became 1.7 GB of scratch disk
    os.mkfifo(project / "pipe")  # copied, it would block (or fail) the copy
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # the fake poetry "locks" what it finds in the scratch folder it runs in
    (bin_dir / "poetry").write_text(f"#!{sys.executable}\nimport os\nnames = sorted(os.listdir('.'))\nopen('poetry.lock', 'w').write(' '.join(names))\n")
    (bin_dir / "poetry").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = pinmod.pin(project)
    assert result.files[str(project / "poetry.lock")] == (None, "pyproject.toml")  # only the metadata copied


def test_a_revisions_dockerfile_over_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    # (a 3 GB Dockerfile in a commit: 3 GB read by `git show`; here the limit is made small)
    from layerwise.cli import main
    from layerwise.context import states

    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "df")
    # changed since the commit: the revision's own is read from git (an unchanged one is the file on disk)
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    shown: list[str] = []
    real_git = states._git
    monkeypatch.setattr(states, "_git", lambda top, *a, **k: shown.append(a[0]) or real_git(top, *a, **k))
    monkeypatch.setattr(states, "DOCKERFILE_LIMIT", 16)
    with pytest.raises(SystemExit) as info:
        main(["explain", str(tmp_path)])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert re.search(r"Dockerfile: is too large in [0-9a-f]{12} \(31 bytes; the limit is 16 bytes\)$", err.strip()), err
    assert "show" not in shown  # refused on its size: never read
