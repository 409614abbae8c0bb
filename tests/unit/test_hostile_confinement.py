"""Hostile projects, threat: reading (or writing) outside the project, and reads that block or
have no bound. layerwise reads only regular files inside the project (the repository or the
folder given), never through a symlink that leaves it, without blocking and with a size
limit; a file outside is a located message naming it, never its contents (issue #14).

Grouped by threat: includes and links out; the Dockerfile and .dockerignore; configuration;
FIFOs, devices and size; races (a folder swapped for a symlink).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from layerwise import safefs
from layerwise.analyses.project import ProjectContext
from layerwise.cli import main
from layerwise.fixes import fix_project

SECRET = "SECRET_TOKEN_f00dfeed"
REPO = Path(__file__).resolve().parents[2]


def needed_paths(text: str, name: str, proj: Path) -> list[str]:
    """The context files the build reads by name (analyses.needed: what .dockerignore fixes keep)."""
    from layerwise.analyses.needed import needed_files
    from layerwise.analyses.rules import RuleContext
    from layerwise.parse import parse
    from layerwise.resolve.stages import resolve

    df = parse(text, name)
    ctx = RuleContext(name, df, resolve(df, {}), ProjectContext(proj, proj / name))
    return [rel for rel, _, _ in needed_files(ctx, expand=True)]


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    """tmp/outside/secret.txt (the secret) and tmp/repo/proj (a repository) with ``files``."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(f"{SECRET}==1.0\n{SECRET}_B\n")
    proj = tmp_path / "repo" / "proj"
    proj.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    for name, body in files.items():
        (proj / name).parent.mkdir(parents=True, exist_ok=True)
        (proj / name).write_text(body)
    return proj


DOCKERFILE = """FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
"""


# --- includes and links out of the context ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "github", "json", "sarif"])
def test_include_out_of_the_context_is_never_printed(tmp_path, capsys, monkeypatch, fmt):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE, "requirements.txt": "-r ../../outside/secret.txt\nflask\n"})
    monkeypatch.chdir(proj)
    code, out, err = _cli(["check", "--format", fmt, "."], capsys)
    assert code == 1 and SECRET not in out + err
    assert "flask is not pinned" in out  # the project's own file is still checked
    assert "requirements.txt:1:1: -r ../../outside/secret.txt: include points outside the build context" in err


def test_include_of_proc_self_environ_is_never_read(tmp_path, capsys, monkeypatch):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE,
                               "requirements.txt": "-r " + "../" * 20 + "proc/self/environ\n"})  # fmt: skip
    monkeypatch.setenv("CI_TOKEN", SECRET)
    monkeypatch.chdir(proj)
    _code, out, err = _cli(["check", "--format", "github", "."], capsys)
    assert SECRET not in out + err and "CI_TOKEN" not in out + err
    assert "include points outside the build context" in err


def test_absolute_include_is_a_context_path_not_the_host_file(tmp_path):
    proj = _project(tmp_path, {"requirements.txt": "-r /etc/passwd\n"})
    project = ProjectContext(proj)
    assert project.requirements_closure(["requirements.txt"]) == ["requirements.txt"]  # no context file etc/passwd
    assert all("root:" not in (project.read_text(p) or "") for p in ("/etc/passwd", "etc/passwd"))


def test_symlinked_requirements_file_out_of_the_context_is_not_read(tmp_path, capsys, monkeypatch):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE})
    (proj / "requirements.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    monkeypatch.chdir(proj)
    _code, out, err = _cli(["check", "--format", "github", "."], capsys)
    assert SECRET not in out + err
    assert "requirements.txt: points outside the project (not read)" in err


def test_symlinked_folder_out_of_the_context_is_not_read(tmp_path):
    proj = _project(tmp_path, {"requirements.txt": "-r deps/secret.txt\n"})
    (proj / "deps").symlink_to(tmp_path / "outside")
    project = ProjectContext(proj)
    assert project.requirements_closure(["requirements.txt"]) == ["requirements.txt"]
    assert [str(e) for e in project.errors] == [
        f"{proj / 'requirements.txt'}:1:1: -r deps/secret.txt: include points outside the build context (not read)"
    ]
    assert project.read_text("deps/secret.txt") is None and project.is_file("deps/secret.txt") is False


def test_links_inside_the_context_are_followed(tmp_path):
    proj = _project(tmp_path, {"reqs/base.txt": "flask==3.0\n", "requirements.txt": "-r common.txt\n"})
    (proj / "common.txt").symlink_to("reqs/base.txt")
    project = ProjectContext(proj)
    assert project.requirements_closure(["requirements.txt"]) == ["requirements.txt", "common.txt"]
    assert project.requirement_lines("common.txt") == [(1, "flask==3.0")] and project.errors == []


def test_fix_proposes_no_copy_of_a_path_outside_the_context(tmp_path):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE, "requirements.txt": "-r ../shared/base.txt\nflask==3.0\n"})
    (tmp_path / "repo" / "shared").mkdir()
    (tmp_path / "repo" / "shared" / "base.txt").write_text("requests==2.0\n")
    result = fix_project(proj, proj / "Dockerfile", dockerignore=False)
    assert "../shared" not in result.dockerfile and result.dockerfile.count("COPY") == 1  # the layout is left alone
    assert any("outside the build context" in h.message for h in result.hints)
    assert not any(p.startswith("..") for p in needed_paths(DOCKERFILE, "Dockerfile", proj))


def test_fix_needed_paths_leave_out_readme_outside_the_context(tmp_path):
    project_install = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
    proj = _project(tmp_path, {"pyproject.toml": '[project]\nname="x"\nreadme="../../outside/secret.txt"\n'})
    paths = needed_paths(project_install, "Dockerfile", proj)
    assert not any("secret" in p or p.startswith("..") for p in paths)
    (proj / "pyproject.toml").write_text('[project]\nname="x"\nreadme="README.md"\n')
    assert "README.md" in needed_paths(project_install, "Dockerfile", proj)  # one inside is needed


# --- the Dockerfile and .dockerignore ------------------------------------------------------------


def test_dockerfile_symlinked_out_of_the_project_is_refused(tmp_path, capsys, monkeypatch):
    proj = _project(tmp_path, {})
    (tmp_path / "outside" / "Dockerfile").write_text(f"FROM python:3.12\nRUN echo {SECRET}\nCOPY x\n")
    (proj / "Dockerfile").symlink_to(tmp_path / "outside" / "Dockerfile")
    monkeypatch.chdir(proj)
    code, out, err = _cli(["check", "--format", "github", "."], capsys)
    assert code == 2 and SECRET not in out + err
    assert err.strip() == "./Dockerfile: is a symlink to a file outside the project (not read)"


def test_dockerfile_symlinked_inside_the_repository_is_read(tmp_path, capsys, monkeypatch):
    proj = _project(tmp_path, {"docker/Dockerfile": "FROM python:3.12-slim\n"})
    (proj / "Dockerfile").symlink_to("docker/Dockerfile")
    monkeypatch.chdir(proj)
    code, _out, err = _cli(["check", "--select", "LW1", "."], capsys)
    assert code == 0, err


def test_dockerignore_symlinked_out_is_not_shown_nor_replaced(tmp_path, capsys, monkeypatch):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE, "requirements.txt": "flask==3.0\n"})
    (proj / ".dockerignore").symlink_to(tmp_path / "outside" / "secret.txt")
    monkeypatch.chdir(proj)
    code, out, err = _cli(["fix", "--diff"], capsys)
    assert code == 2 and SECRET not in out + err
    assert err.strip() == ("layerwise: error: .dockerignore: is a symlink to a file outside the project: not written "
                           "(edit that file yourself)")
    code, out, err = _cli(["fix"], capsys)
    assert code == 2 and os.path.islink(proj / ".dockerignore") and (proj / "Dockerfile").read_text() == DOCKERFILE
    code, out, err = _cli(["check", "--format", "github", "."], capsys)
    assert SECRET not in out + err and "ignore file is a symlink to a file outside the project (not read)" in err


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("key, value", [("dockerfile", "../../outside/Dockerfile"), ("context", "../../outside")])
def test_config_pointing_out_of_the_repository_is_refused(tmp_path, capsys, monkeypatch, key, value):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE, "pyproject.toml": f'[tool.layerwise]\n{key} = "{value}"\n'})
    (tmp_path / "outside" / "Dockerfile").write_text(DOCKERFILE)
    before = (tmp_path / "outside" / "Dockerfile").read_bytes()
    monkeypatch.chdir(proj)
    for cmd in (["fix"], ["check"]):
        code, _out, err = _cli(cmd, capsys)
        assert code == 2
        assert err.strip() == (f"layerwise: error: {proj / 'pyproject.toml'}: [tool.layerwise] {key} = {value!r} is outside the "
                               f"project {tmp_path / 'repo'} (refused)")  # fmt: skip
    assert (tmp_path / "outside" / "Dockerfile").read_bytes() == before
    assert not (tmp_path / "outside" / ".dockerignore").exists()


def test_config_of_a_parent_folder_cannot_aim_fix_outside_the_folder_given(tmp_path, capsys, monkeypatch):
    # no repository: the project is the folder given; a pyproject.toml above it names another Dockerfile
    (tmp_path / "pyproject.toml").write_text('[tool.layerwise]\ndockerfile = "other/Dockerfile"\n')
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Dockerfile").write_text(DOCKERFILE)
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.chdir(proj)
    code, _out, err = _cli(["fix"], capsys)
    assert code == 2 and "is outside the project" in err and "(refused)" in err
    assert (tmp_path / "other" / "Dockerfile").read_text() == DOCKERFILE
    assert not (tmp_path / "other" / ".dockerignore").exists()


def test_config_symlinked_out_is_not_read(tmp_path):
    from layerwise.config import load_config

    proj = _project(tmp_path, {})
    (tmp_path / "outside" / "pyproject.toml").write_text('[tool.layerwise]\nignore = ["ALL"]\n')
    (proj / "pyproject.toml").symlink_to(tmp_path / "outside" / "pyproject.toml")
    assert load_config(proj).ignore == []


# --- FIFOs, devices, size ---------------------------------------------------------------------


def _run(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, check=False)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", ["requirements.txt", "pyproject.toml", ".dockerignore"])
def test_fifo_project_file_does_not_block_check_or_fix(tmp_path, name):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE})
    if name != "requirements.txt":
        (proj / "requirements.txt").write_text("flask==3.0\n")
    os.mkfifo(proj / name)
    for cmd in (["check", str(proj)], ["fix", "--diff", str(proj)]):
        # a hang fails on the timeout (no writer ever opens the FIFO)
        p = _run(f"import sys; from layerwise.cli import main; main({cmd!r})", timeout=60)
        assert p.returncode in (0, 1, 2), p.stderr
        assert "Traceback" not in p.stderr


def test_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "requirements.txt")
    with pytest.raises(safefs.NotRegularFile, match="not a regular file"):
        safefs.read_bytes("requirements.txt", root=tmp_path)


def test_link_to_a_device_is_refused(tmp_path):
    (tmp_path / "requirements.txt").symlink_to("/dev/zero")
    with pytest.raises(safefs.OutsideProject):
        safefs.read_bytes("requirements.txt", root=tmp_path)
    with pytest.raises(safefs.NotRegularFile):
        safefs.read_bytes("/dev/zero")  # no root (a file named by the user): still never read


def test_sparse_file_over_the_limit_is_refused_before_reading(tmp_path):
    big = tmp_path / "requirements.txt"
    with open(big, "wb") as f:
        f.truncate(3 * 1024**3)  # 3 GB, sparse
    with pytest.raises(safefs.FileTooLarge, match=r"is too large \(3072 MB; the limit is 64 MB\)"):
        safefs.read_bytes("requirements.txt", root=tmp_path)
    project = ProjectContext(tmp_path)
    assert project.requirement_lines("requirements.txt") is None
    assert [e.message for e in project.errors] == ["is too large (3072 MB; the limit is 64 MB)"]


def test_read_stops_at_the_limit_when_the_size_lies():
    # /proc files say size 0 and have more: the streamed read stops at the limit
    assert os.stat("/proc/self/maps").st_size == 0
    with pytest.raises(safefs.FileTooLarge, match="more than 16 bytes"):
        safefs.read_bytes("maps", root="/proc/self", limit=16)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Dockerfile", ".dockerignore"])
def test_sparse_3_gb_dockerfile_and_dockerignore_stay_small(tmp_path, name):
    proj = _project(tmp_path, {"Dockerfile": DOCKERFILE, "requirements.txt": "flask==3.0\n"})
    with open(proj / name, "wb") as f:
        f.truncate(3 * 1024**3)
    p = _run(f"""
        import re
        from layerwise.cli import main
        try:
            main(["check", {str(proj)!r}])
        except SystemExit as e:
            code = e.code
        hwm = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
        print("RESULT", code, hwm)
    """)
    _, code, hwm_kb = p.stdout.splitlines()[-1].split()
    assert code == "2" or "too large" in p.stderr, p.stderr
    assert "too large" in p.stderr
    assert int(hwm_kb) < 300 * 1024  # not 3 GB


# --- races --------------------------------------------------------------------------------------


def test_folder_swapped_for_a_link_between_check_and_open_is_caught(tmp_path, monkeypatch):
    proj = _project(tmp_path, {"deps/base.txt": "flask==3.0\n"})
    (tmp_path / "outside" / "base.txt").write_text(f"{SECRET}\n")
    real_contained = safefs.contained

    def swap_after_check(root, rel):
        target = real_contained(root, rel)
        os.rename(proj / "deps", proj / "deps.old")  # the attacker's move, right after the check
        (proj / "deps").symlink_to(tmp_path / "outside")
        return target

    monkeypatch.setattr(safefs, "contained", swap_after_check)
    with pytest.raises(safefs.OutsideProject):
        safefs.read_bytes("deps/base.txt", root=proj)


def test_file_swapped_for_a_link_between_check_and_open_is_caught(tmp_path, monkeypatch):
    proj = _project(tmp_path, {"requirements.txt": "flask==3.0\n"})
    real_contained = safefs.contained

    def swap_after_check(root, rel):
        target = real_contained(root, rel)
        os.unlink(proj / "requirements.txt")
        (proj / "requirements.txt").symlink_to(tmp_path / "outside" / "secret.txt")
        return target

    monkeypatch.setattr(safefs, "contained", swap_after_check)
    with pytest.raises(safefs.OutsideProject, match="changed into a symlink"):
        safefs.read_bytes("requirements.txt", root=proj)


# the walk of the build context, with the C lister (its place check by openat2, and by
# /proc/self/fd as on kernels without openat2) and the Python one
def _backends():
    from layerwise.context import walk

    out = [("python", walk._list_dir_py)]
    native = walk._native_list_dir()
    if native is not None:
        out += [("c", native), ("c-proc", native)]
    return out


@pytest.fixture
def _place_check(request):
    """For the "c-proc" backend: the C listing's place check without openat2."""
    from layerwise.context import native

    if request.node.callspec.params.get("backend") != "c-proc":
        yield
        return
    was = native.function("set_openat2")(False)
    try:
        yield
    finally:
        native.function("set_openat2")(was)


@pytest.mark.parametrize("digests", [True, False], ids=["digests", "stat-only"])
@pytest.mark.parametrize("swapped", ["the folder", "its parent", "its parent, moved out"])
@pytest.mark.parametrize(("backend", "lister"), _backends(), ids=[b for b, _ in _backends()])
def test_folder_swapped_for_a_link_during_the_walk_is_not_followed(
    tmp_path, monkeypatch, backend, lister, swapped, digests, _place_check
):
    """A folder listed inside the context, then reached through a symlink when the walk
    opens it, is not listed: whether the symlink leads to another folder, or to the very
    folder that was listed, moved out of the context with its parent (the same inode: an
    inode comparison with the parent's listing would let it through)."""
    from layerwise.context import walk
    from layerwise.context.snapshot import Snapshot

    ctx = tmp_path / "ctx"
    (ctx / "a" / "b").mkdir(parents=True)
    (ctx / "a" / "b" / "app.py").write_text("print()\n")
    (ctx / "a" / "keep.txt").write_text("x\n")
    outside = tmp_path / "outside"
    (outside / "b").mkdir(parents=True)
    (outside / "b" / "id_rsa").write_text(SECRET)
    (outside / "id_rsa").write_text(SECRET)
    listed: list[str] = []

    def list_then_swap(path, prefix, *args):
        listed.append(prefix)
        if prefix == "a/b/" and swapped.startswith("its parent"):  # 'a' was listed and checked: swap it now
            os.rename(ctx / "a", tmp_path / "a.moved")
            (ctx / "a").symlink_to(outside if swapped == "its parent" else tmp_path / "a.moved")
        got = lister(path, prefix, *args)
        if prefix == "a/" and swapped == "the folder":  # 'a' was listed with its folder 'b'
            os.rename(ctx / "a" / "b", tmp_path / "b.moved")
            (ctx / "a" / "b").symlink_to(outside)
        return got

    monkeypatch.setattr(walk, "_list_dir", list_then_swap)
    if backend == "python":
        monkeypatch.setattr(walk, "_make_entries", walk._make_entries_py)
        monkeypatch.setattr(walk, "_hash_files", None)
    snap = Snapshot.take(ctx, None, use_cache=False, digests=digests)
    paths = [e.path for e in snap.entries]
    assert listed == ["", "a/", "a/b/"]  # the walk did come to the swapped folder
    assert not any("id_rsa" in p for p in paths), paths
    assert "a/b/app.py" not in paths
    assert any(w.path == "a/b" and "replaced by a symlink" in w.message for w in snap.warnings), snap.warnings


@pytest.mark.slow
def test_fifo_in_the_stat_cache_does_not_hang_explain(tmp_path, monkeypatch):
    from layerwise.context import snapshot

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\n")
    (ctx / "app.py").write_text("print()\n")
    fifo = tmp_path / "cache"
    os.mkfifo(fifo)  # no writer: an open without O_NONBLOCK would wait forever
    assert snapshot._load_cache(fifo, ctx) is snapshot.StatCache.EMPTY
    # explain itself: its cache file made once, then replaced by a FIFO
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    argv = ["explain", "--before", str(ctx), "--after", str(ctx), str(ctx)]
    code = f"from layerwise.cli import main; main({argv!r})"
    assert _run(code).returncode == 0
    made = list((tmp_path / "xdg").rglob("*.cache"))
    assert made
    for f in made:
        f.unlink()
        os.mkfifo(f)
    p = _run(code, timeout=60)
    assert p.returncode == 0 and "Every step comes from the cache" in p.stdout, p.stderr


def test_fifo_as_the_stat_cache_file_is_no_cache(tmp_path):
    os.mkfifo(tmp_path / "cache")
    p = _run(f"""
        from pathlib import Path
        from layerwise.context import snapshot
        print(snapshot._load_cache(Path({str(tmp_path / "cache")!r}), Path("/")) is snapshot.StatCache.EMPTY)
    """, timeout=30)
    assert p.stdout.strip() == "True", p.stderr


def test_pin_never_reads_nor_rewrites_an_include_outside_the_project(tmp_path, capsys, monkeypatch):
    proj = _project(tmp_path, {"requirements.txt": "flask\n-r ../../outside/secret.txt\n"})
    before = (tmp_path / "outside" / "secret.txt").read_bytes()
    from layerwise.pin import resolver

    monkeypatch.setattr(resolver, "resolve", lambda *a, **k: pytest.fail("resolved a project with an include out"))
    code, out, err = _cli(["pin", str(proj)], capsys)
    assert code == 2 and SECRET not in out + err
    assert err.strip() == (f"layerwise: error: {tmp_path / 'outside' / 'secret.txt'}: include points "
                           "outside the project: not read, not pinned")  # fmt: skip
    assert (tmp_path / "outside" / "secret.txt").read_bytes() == before


def test_ci_files_behind_a_symlink_out_are_not_read(tmp_path):
    from layerwise.ci.project import load_ci

    proj = _project(tmp_path, {})
    (tmp_path / "outside" / "workflows").mkdir()
    (tmp_path / "outside" / "workflows" / "ci.yml").write_text(f"name: {SECRET}\non: push\njobs: {{}}\n")
    (tmp_path / "repo" / ".github").symlink_to(tmp_path / "outside")
    ci = load_ci(proj)
    assert ci.files == [] and SECRET not in repr(ci.texts)
    assert [e.message for e in ci.errors] == ["points outside the project (not read)"]
