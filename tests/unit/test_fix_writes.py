"""``layerwise fix`` writes all or nothing: a read-only file, or a full disk, leaves every
byte of the user's files as it was, with a one-line error."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from layerwise.cli import main

ARTICLE = "FROM python:3.10-slim\nWORKDIR /app\nADD . /app\nRUN pip install -r requirements.txt\n"


def project(root):
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(ARTICLE)
    (root / "requirements.txt").write_text("flask==2.3.2\n")
    return root


def run(argv, capsys):
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    return code, capsys.readouterr().err


def test_read_only_dockerfile_is_left_alone(tmp_path, capsys):
    root = project(tmp_path / "p")
    os.chmod(root / "Dockerfile", 0o444)
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 2
    assert err.strip() == f"layerwise: error: {root / 'Dockerfile'}: the file is read-only: not written (make it writable to fix it)"
    assert (root / "Dockerfile").read_text() == ARTICLE
    assert [p.name for p in root.iterdir()].count("Dockerfile") == 1
    assert not [p for p in root.iterdir() if p.name.endswith(".layerwise")]


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs filled to the last byte (needs root and mount; skipped otherwise)."""
    where = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tiny tmpfs")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_full_disk_leaves_the_files_as_they_were(full_disk, capsys):
    root = project(full_disk / "p")
    fd = os.open(full_disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"x" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    code, err = run(["fix", str(root)], capsys)
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    assert (root / "Dockerfile").read_text() == ARTICLE
    assert not (root / ".dockerignore").exists()
    assert not [p for p in root.iterdir() if p.name.endswith(".layerwise")]
