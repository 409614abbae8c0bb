"""Files and folders of the build context that the user running ``docker build`` cannot read
(issue #14), on the engine, against what ``layerwise explain`` says. The docker CLI (which
sends the context) runs without the capabilities that let root read any file, as a normal
user would; layerwise runs the same way.

What the engine does (docker 26): BuildKit sends only what the COPYs name; a file it cannot
read arrives *empty* (the build goes on), a folder it cannot list stops the sender; the
legacy builder stops on anything of the context it cannot read."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.engine


def _drop_read_override() -> None:
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH (PR_CAPBSET_DROP = 24)
            if libc.prctl(24, cap, 0, 0, 0) != 0:
                os._exit(97)


def unprivileged(argv: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, preexec_fn=_drop_read_override)
    if proc.returncode == 97:
        pytest.skip("cannot drop the capabilities that let root read any file")
    return proc


CASES = {  # name: (Dockerfile, unreadable "file" or "folder")
    "file-copied": ("FROM busybox\nCOPY . /app/\nRUN wc -c /app/secret.txt\n", "file"),
    "file-not-copied": ("FROM busybox\nCOPY app.py /app/\n", "file"),
    "folder-copied": ("FROM busybox\nCOPY . /app/\n", "folder"),
}


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
@pytest.mark.parametrize("name", list(CASES))
def test_unreadable_context_as_the_engine_sees_it(engine, tmp_path, builder, name):
    dockerfile, what = CASES[name]
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / "app.py").write_text("print(1)\n")
    if what == "file":
        (tmp_path / "secret.txt").write_text("the secret\n")
        (tmp_path / "secret.txt").chmod(0)
    else:
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "f").write_text("x\n")
        (tmp_path / "d").chmod(0)
    try:
        env = dict(engine.env, DOCKER_BUILDKIT="1" if builder == "buildkit" else "0")
        extra = ["--progress=plain"] if builder == "buildkit" else []
        built = unprivileged([engine.docker_bin, "build", "--network", "host", *extra, str(tmp_path)], env)
        ours = unprivileged([sys.executable, "-m", "layerwise", "explain", str(tmp_path), "--before", str(tmp_path),
                             "--builder", builder])  # fmt: skip
    finally:
        for p in (tmp_path / "secret.txt", tmp_path / "d"):
            if p.exists():
                p.chmod(0o755)
    log = built.stdout + built.stderr
    if built.returncode == 0:
        assert ours.returncode == 0, ours.stderr
        if name == "file-copied":  # sent empty: the image's copy has 0 bytes
            assert "0 /app/secret.txt" in log, log
            assert "BuildKit sends it empty" in ours.stderr
    else:
        assert ours.returncode == 2, (log, ours.stdout, ours.stderr)
        assert ours.stderr.startswith("layerwise: error: ") and "cannot read" in ours.stderr
    # the expected outcomes, so that a change of the engine shows here
    expected_ok = builder == "buildkit" and name != "folder-copied"
    assert (built.returncode == 0) == expected_ok, log
