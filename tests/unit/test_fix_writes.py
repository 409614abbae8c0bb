"""``layerwise fix`` writes all or nothing: a read-only file, or a full disk, leaves every
byte of the user's files as it was, with a one-line error. What it writes keeps the user's
owner, group, mode, line endings and symlinks; a file saved while it ran is not overwritten;
a signal leaves no temporary file behind (issue #14, "the user's files, kept exactly")."""

from __future__ import annotations

import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import uuid

import pytest

from layerwise.cli import main
from layerwise.errors import LayerwiseError
from layerwise.fixes import fix_project
from layerwise.fixes.edits import FileWrite, write_all_atomic

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


def leftovers(root):
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".layerwise"))


# --- owner, group, mode ------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing owners needs root")
def test_owner_and_group_are_kept_when_run_as_root(tmp_path, capsys):
    root = project(tmp_path / "p")
    (root / ".dockerignore").write_text("__pycache__/\n")
    for name in ("Dockerfile", ".dockerignore"):
        os.chown(root / name, 1234, 2345)
        os.chmod(root / name, 0o664)
    code, err = run(["fix", str(root)], capsys)
    assert code == 0, err
    for name in ("Dockerfile", ".dockerignore"):
        st = os.stat(root / name)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 2345, 0o664), name
    assert "COPY requirements.txt" in (root / "Dockerfile").read_text()
    assert "**/__pycache__/" in (root / ".dockerignore").read_text()


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_a_new_dockerignore_gets_the_mode_of_a_normal_file_creation(tmp_path, capsys, umask):
    root = project(tmp_path / "p")
    old = os.umask(umask)
    try:
        code, err = run(["fix", str(root)], capsys)
        (root / "plain").write_text("x")  # what any other program creating a file gets
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE(os.stat(root / ".dockerignore").st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(os.stat(root / ".dockerignore").st_mode) == stat.S_IMODE(os.stat(root / "plain").st_mode)


def test_an_odd_mode_is_kept(tmp_path, capsys):
    root = project(tmp_path / "p")
    os.chmod(root / "Dockerfile", 0o2751)  # setgid survives the owner change chown would make
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0, err
    assert stat.S_IMODE(os.stat(root / "Dockerfile").st_mode) == 0o2751


# --- line endings ------------------------------------------------------------------------------


def test_a_crlf_dockerignore_stays_crlf(tmp_path, capsys):
    root = project(tmp_path / "p")
    (root / ".dockerignore").write_bytes(b"__pycache__/\r\n# mine\r\n*.log\r\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # junk COPY . . sends (LW303)
    code, err = run(["fix", str(root)], capsys)
    assert code == 0, err
    data = (root / ".dockerignore").read_bytes()
    assert data.startswith(b"**/__pycache__/\r\n# mine\r\n**/*.log\r\n")
    assert b"\r\n.git\r\n" in data  # the line LW303 appends
    assert data.count(b"\n") == data.count(b"\r\n") >= 4


def test_a_crlf_dockerfile_stays_crlf(tmp_path, capsys):
    root = project(tmp_path / "p")
    (root / "Dockerfile").write_bytes(ARTICLE.replace("\n", "\r\n").encode())
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0, err
    data = (root / "Dockerfile").read_bytes()
    assert b"COPY requirements.txt" in data
    assert data.count(b"\n") == data.count(b"\r\n") == ARTICLE.count("\n") + 1


def test_mixed_line_endings_keep_each_lines_own(tmp_path, capsys):
    root = project(tmp_path / "p")
    lines = ARTICLE.splitlines()
    endings = ["\n", "\r\n", "\n", "\r\n"]  # FROM LF, WORKDIR CRLF, ADD LF, RUN CRLF
    (root / "Dockerfile").write_bytes("".join(line + end for line, end in zip(lines, endings)).encode())
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0, err
    out = (root / "Dockerfile").read_bytes().decode()
    crlf = {line.rstrip("\r"): line.endswith("\r") for line in out.split("\n") if line}
    assert crlf == {
        "FROM python:3.10-slim": False,  # kept
        "WORKDIR /app": True,  # kept
        "COPY requirements.txt ./": True,  # inserted before the RUN line: its ending
        "RUN pip install --no-cache-dir -r requirements.txt": True,  # edited in place
        "COPY . /app": False,  # the ADD line, moved with its own ending
    }


# --- symlinks ----------------------------------------------------------------------------------


def test_a_symlinked_dockerfile_inside_the_project_writes_its_target(tmp_path, capsys):
    root = project(tmp_path / "p")
    (root / "docker").mkdir()
    (root / "Dockerfile").rename(root / "docker" / "Dockerfile.app")
    (root / "Dockerfile").symlink_to("docker/Dockerfile.app")
    (root / "docker" / "ignore").write_text("__pycache__/\n")
    (root / ".dockerignore").symlink_to("docker/ignore")
    code, err = run(["fix", str(root)], capsys)
    assert code == 0, err
    assert os.readlink(root / "Dockerfile") == "docker/Dockerfile.app"
    assert os.readlink(root / ".dockerignore") == "docker/ignore"
    assert "COPY requirements.txt" in (root / "docker" / "Dockerfile.app").read_text()
    assert (root / "docker" / "ignore").read_text().startswith("**/__pycache__/\n")
    assert not leftovers(root) and not leftovers(root / "docker")


@pytest.mark.parametrize("which", ["Dockerfile", ".dockerignore"])
def test_a_symlink_leaving_the_project_is_refused_and_nothing_is_written(tmp_path, capsys, which):
    root = project(tmp_path / "p")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "shared").write_text(ARTICLE if which == "Dockerfile" else "__pycache__/\n")
    if which == "Dockerfile":
        (root / "Dockerfile").unlink()
    (root / which).symlink_to(outside / "shared")
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    code, err = run(["fix", str(root)], capsys)
    assert code == 2
    assert err.strip() == (f"layerwise: error: {root / which}: is a symlink to a file outside the project: "
                           "not written (edit that file yourself)")  # fmt: skip
    assert os.readlink(root / which) == str(outside / "shared")
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before  # no new .dockerignore either
    assert (outside / "shared").read_text() == (ARTICLE if which == "Dockerfile" else "__pycache__/\n")
    assert not leftovers(root) and not leftovers(outside)


# --- all or nothing ----------------------------------------------------------------------------


def test_a_dockerignore_folder_is_a_located_error_before_anything_is_written(tmp_path, capsys):
    root = project(tmp_path / "p")
    (root / ".dockerignore").mkdir()
    code, err = run(["fix", str(root)], capsys)
    assert code == 2
    assert err.strip() == (f"layerwise: error: {root / '.dockerignore'}: is a folder: fix cannot write "
                           ".dockerignore (rename it, or use --no-dockerignore)")  # fmt: skip
    assert (root / "Dockerfile").read_text() == ARTICLE and not leftovers(root)
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0 and "COPY requirements.txt" in (root / "Dockerfile").read_text()


def test_every_write_is_checked_before_the_first_rename(tmp_path):
    (tmp_path / "a").write_text("old a\n")
    (tmp_path / "b").mkdir()
    with pytest.raises(LayerwiseError, match="is a folder, not a file: not written"):
        write_all_atomic([FileWrite(str(tmp_path / "a"), "new a\n"), FileWrite(str(tmp_path / "b"), "new b\n")])
    assert (tmp_path / "a").read_text() == "old a\n" and not leftovers(tmp_path)


@pytest.mark.parametrize("which", ["Dockerfile", ".dockerignore"])
def test_a_file_saved_while_fix_ran_is_not_overwritten(tmp_path, which):
    root = project(tmp_path / "p")
    (root / ".dockerignore").write_text("__pycache__/\n")
    result = fix_project(root, root / "Dockerfile")
    assert result.dockerfile != result.original and result.dockerignore is not None
    (root / which).write_text((root / which).read_text() + "# saved by the user meanwhile\n")
    saved = {p.name: p.read_bytes() for p in root.iterdir()}
    with pytest.raises(LayerwiseError) as info:
        result.write()
    assert str(info.value) == f"{root / which}: changed while layerwise fix ran: not written (run fix again)"
    assert {p.name: p.read_bytes() for p in root.iterdir()} == saved  # neither file written


def test_a_dockerignore_created_while_fix_ran_is_not_overwritten(tmp_path):
    root = project(tmp_path / "p")
    result = fix_project(root, root / "Dockerfile")
    (root / ".dockerignore").write_text("mine\n")
    with pytest.raises(LayerwiseError, match="was created while layerwise fix ran"):
        result.write()
    assert (root / ".dockerignore").read_text() == "mine\n" and (root / "Dockerfile").read_text() == ARTICLE


# --- signals -----------------------------------------------------------------------------------

# ``layerwise fix`` in a child process, stopped by the test when both temporary files are
# written and synced (the second fsync of a file's data), before any rename.
CHILD = textwrap.dedent("""
    import os, sys, time
    from layerwise.cli import main
    real_fsync, calls = os.fsync, []
    def fsync(fd):
        real_fsync(fd)
        calls.append(fd)
        if len(calls) == 2:
            print("staged", flush=True)
            for _ in range(600):  # (slices: a signal pending before one long sleep waits it out)
                time.sleep(0.1)
    os.fsync = fsync
    main(["fix", sys.argv[1]])
""")


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_leaves_no_temporary_file_and_no_change(tmp_path, signame):
    root = project(tmp_path / "p")
    (root / ".dockerignore").write_text("__pycache__/\n")
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready and child.stdout.readline() == "staged\n", child.stderr.read()
        assert len(leftovers(root)) == 2  # both temporary files are there
        child.send_signal(getattr(signal, signame))
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 128 + getattr(signal, signame), err
    assert err.strip() in ("Aborted.", "Interrupted.") and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before


def test_a_file_replaced_by_a_fifo_while_fix_ran_is_refused_without_blocking(tmp_path):
    from layerwise.fixes.edits import _recheck

    root = project(tmp_path / "p")
    result = fix_project(root, root / "Dockerfile", dockerignore=False)
    (root / "Dockerfile").unlink()
    os.mkfifo(root / "Dockerfile")
    with pytest.raises(LayerwiseError, match="is not a regular file"):  # found so before the temporary file
        result.write()
    # and so found just before the rename (the check that runs last): refused, never blocked on
    with pytest.raises(LayerwiseError, match="changed while layerwise fix ran: not written"):
        _recheck(FileWrite(str(root / "Dockerfile"), "new", False, ARTICLE, True), str(root / "Dockerfile"))
    assert stat.S_ISFIFO(os.lstat(root / "Dockerfile").st_mode) and not leftovers(root)


# ``layerwise fix`` stopped by the test at its first rename (the Dockerfile's), the
# .dockerignore's still to come.
CHILD_AT_RENAME = textwrap.dedent("""
    import os, sys, time
    from layerwise.cli import main
    real_replace, calls = os.replace, []
    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            print("renaming", flush=True)
            time.sleep(1)  # the signal arrives here
        real_replace(src, dst)
    os.replace = replace
    main(["fix", sys.argv[1]])
""")


@pytest.mark.slow
def test_a_signal_during_the_renames_waits_for_the_last_one(tmp_path):
    root = project(tmp_path / "p")
    child = subprocess.Popen([sys.executable, "-c", CHILD_AT_RENAME, str(root)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready and child.stdout.readline() == "renaming\n", child.stderr.read()
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    # both files written (never the new Dockerfile without its .dockerignore), then the signal
    assert child.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM), err
    assert "COPY requirements.txt" in (root / "Dockerfile").read_text()
    assert "**/__pycache__" in (root / ".dockerignore").read_text()
    assert not leftovers(root)


def test_a_symlink_into_the_repository_outside_the_context_folder_is_written_through(tmp_path, capsys):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)  # the repository's top
    (repo / "docker").mkdir()
    (repo / "docker" / "Dockerfile.shared").write_text(ARTICLE)
    root = project(repo / "services" / "web")
    (root / "Dockerfile").unlink()
    (root / "Dockerfile").symlink_to("../../docker/Dockerfile.shared")
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0, err
    assert os.readlink(root / "Dockerfile") == "../../docker/Dockerfile.shared"
    assert "COPY requirements.txt" in (repo / "docker" / "Dockerfile.shared").read_text()


# ------------------------------------------------------------ hard links and extended attributes


def test_a_hard_linked_dockerfile_is_rewritten_in_place_for_every_name(tmp_path, capsys):
    root = project(tmp_path / "p")
    other = tmp_path / "Dockerfile.also"
    os.link(root / "Dockerfile", other)  # a rename would leave this name on the old text
    inode = (root / "Dockerfile").stat().st_ino
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0, err
    after = (root / "Dockerfile").stat()
    assert (after.st_ino, after.st_nlink) == (inode, 2)
    assert "COPY requirements.txt" in other.read_text() and other.read_bytes() == (root / "Dockerfile").read_bytes()
    assert not leftovers(root)


def _xattrs_or_skip(path):
    try:
        os.setxattr(path, "user.layerwise.test", b"kept")
    except OSError as exc:  # a file system without user attributes
        pytest.skip(f"no user extended attributes here: {exc}")


def test_extended_attributes_are_kept(tmp_path, capsys):
    root = project(tmp_path / "p")
    _xattrs_or_skip(root / "Dockerfile")
    inode = (root / "Dockerfile").stat().st_ino
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0, err
    assert "COPY requirements.txt" in (root / "Dockerfile").read_text()
    assert (root / "Dockerfile").stat().st_ino != inode  # written by a rename, attributes copied
    assert os.getxattr(root / "Dockerfile", "user.layerwise.test") == b"kept"


def test_an_attribute_the_new_file_cannot_take_makes_it_rewritten_in_place(tmp_path, capsys, monkeypatch):
    # as a security label the user may not set on a new file: the file itself is rewritten
    root = project(tmp_path / "p")
    _xattrs_or_skip(root / "Dockerfile")
    inode = (root / "Dockerfile").stat().st_ino

    def refuse(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "setxattr", refuse)
    code, err = run(["fix", str(root), "--no-dockerignore"], capsys)
    assert code == 0, err
    assert (root / "Dockerfile").stat().st_ino == inode and "COPY requirements.txt" in (root / "Dockerfile").read_text()
    assert os.getxattr(root / "Dockerfile", "user.layerwise.test") == b"kept" and not leftovers(root)


def test_a_file_rewritten_in_place_is_put_back_when_another_write_fails(tmp_path, monkeypatch):
    (tmp_path / "linked").write_text("old linked\n")
    os.link(tmp_path / "linked", tmp_path / "other-name")
    (tmp_path / "plain").write_text("old plain\n")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)  # the rename after the in-place write fails
    with pytest.raises(LayerwiseError, match="cannot write: No space left on device"):
        write_all_atomic([FileWrite(str(tmp_path / "linked"), "new linked\n"),
                          FileWrite(str(tmp_path / "plain"), "new plain\n")])  # fmt: skip
    assert (tmp_path / "other-name").read_text() == "old linked\n" and (tmp_path / "plain").read_text() == "old plain\n"
    assert not leftovers(tmp_path)


def test_a_hard_linked_file_saved_while_fix_ran_is_not_overwritten(tmp_path):
    root = project(tmp_path / "p")
    os.link(root / "Dockerfile", tmp_path / "other")
    result = fix_project(root, root / "Dockerfile", dockerignore=False)
    with open(tmp_path / "other", "a") as f:
        f.write("# saved meanwhile\n")
    with pytest.raises(LayerwiseError, match="changed while layerwise fix ran"):
        result.write()
    assert (root / "Dockerfile").read_text() == ARTICLE + "# saved meanwhile\n"
