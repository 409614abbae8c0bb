"""A revision's git state read from the record kept with the stat cache (context/revcache.py)
gives the revision's state git's full diff gives, whatever changed since the record was
written; and the record is used (git asked about a few paths only) when it holds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layerwise.context import revcache, states
from layerwise.context import snapshot as snapmod
from layerwise.context.states import load_state, one_walk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from shared import committed_repo, git


def _project(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (root / ".dockerignore").write_text(".git\n*.log\nbuild/\n")
    (root / "app").mkdir()
    for i in range(6):
        (root / "app" / f"m{i}.py").write_text(f"x = {i}\n")
    (root / "README.md").write_text("hello\n")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("excluded but tracked\n")
    os.symlink("app/m0.py", root / "link")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    # every stamp trusted (files written a minute before the snapshot starts): cache hits
    monkeypatch.setattr(snapmod, "_now_ns", lambda: time.time_ns() + 60 * 10**9)
    return committed_repo(tmp_path / "repo", _project)


class Seen:
    """How the last states were read: from a record (``record:N``: git asked about N paths),
    from git's full diff after the walk (``full``: the record did not hold for it) or beside
    it (``new``: no record for this tree and git key)."""

    def __init__(self, monkeypatch) -> None:
        self.how: list[str] = []
        orig = revcache.known_diff
        orig_lookup = revcache.lookup

        def known(*a, **k):
            got = orig(*a, **k)
            self.how.append("full" if got is None else f"record:{got.asked}")
            return got

        def lookup(*a, **k):
            got = orig_lookup(*a, **k)
            if got is None:
                self.how.append("new")
            return got

        monkeypatch.setattr(revcache, "known_diff", known)
        monkeypatch.setattr(revcache, "lookup", lookup)


def _state(repo: Path) -> dict:
    with one_walk():
        st = load_state(str(repo), None, "HEAD", builder="buildkit")
        return {p: tuple(st.files[p]) for p in st.files}


def _truth(repo: Path, monkeypatch) -> dict:
    """The state from git's full diff, nothing written: no record, no stat cache, no index
    refreshed by git (which would change the git key)."""
    with monkeypatch.context() as m:
        m.setattr(revcache, "lookup", lambda *a, **k: None)
        m.setattr(revcache.Pending, "write", lambda self: None)
        m.setattr(snapmod.Snapshot, "save_cache", lambda self: None)
        m.setenv("GIT_OPTIONAL_LOCKS", "0")
        return _state(repo)


def _warm(repo: Path) -> None:
    _state(repo)  # stat cache and record written
    _state(repo)


def _check(repo: Path, monkeypatch, seen: Seen, expect: str) -> dict:
    seen.how.clear()
    got = _state(repo)
    assert got == _truth(repo, monkeypatch)
    assert seen.how[:1] == [expect], seen.how
    return got


def test_unchanged_tree_asks_git_nothing(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    calls = []
    orig = subprocess.Popen.__init__

    def popen(self, args, *a, **k):
        calls.append(list(args))
        orig(self, args, *a, **k)

    monkeypatch.setattr(subprocess.Popen, "__init__", popen)
    _check(repo, monkeypatch, seen, "record:0")
    n_own = sum(1 for c in calls if c[:2] == ["git", "rev-parse"])
    assert not [c for c in calls[: len(calls) // 2] if "diff" in c], calls  # (the truth's diff comes after)
    assert n_own >= 2


def test_edited_file_is_asked_about(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "app" / "m1.py").write_text("x = 'edited'\n")
    got = _check(repo, monkeypatch, seen, "record:1")
    assert got["app/m1.py"][2] != _state_worktree(repo)["app/m1.py"][2]  # HEAD's version put back


def _state_worktree(repo: Path) -> dict:
    with one_walk():
        st = load_state(str(repo), None, None, builder="buildkit")
        return {p: tuple(st.files[p]) for p in st.files}


def test_mode_change_and_edit_undone(repo, monkeypatch) -> None:
    (repo / "app" / "m1.py").write_text("x = 'edited'\n")
    _warm(repo)
    seen = Seen(monkeypatch)
    os.chmod(repo / "app" / "m2.py", 0o755)
    got = _check(repo, monkeypatch, seen, "record:1")
    assert got["app/m2.py"][1] == 0o644
    # the cache was rewritten (a small tree: worth it), with the record for it
    _check(repo, monkeypatch, seen, "record:0")
    (repo / "app" / "m1.py").write_text("x = 1\n")  # back to HEAD's content
    _check(repo, monkeypatch, seen, "record:1")
    # (git's refresh then rewrote the index: a stat-only change it found)
    _check(repo, monkeypatch, seen, "new")
    _check(repo, monkeypatch, seen, "record:0")


def test_new_untracked_file_stays(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "app" / "new.py").write_text("new\n")
    got = _check(repo, monkeypatch, seen, "record:1")
    assert "app/new.py" in got


def test_git_add_changes_the_index_key(repo, monkeypatch) -> None:
    (repo / "app" / "new.py").write_text("new\n")
    _warm(repo)
    seen = Seen(monkeypatch)
    git(repo, "add", "app/new.py")  # the same file, now tracked: HEAD's state has none
    got = _check(repo, monkeypatch, seen, "new")
    assert "app/new.py" not in got
    _check(repo, monkeypatch, seen, "record:0")


def test_removed_file_reads_git_again_then_records_it(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "app" / "m3.py").unlink()
    got = _check(repo, monkeypatch, seen, "full")
    assert "app/m3.py" in got  # HEAD had it
    _check(repo, monkeypatch, seen, "record:0")  # the record now knows it gone
    (repo / "app" / "m4.py").unlink()
    _check(repo, monkeypatch, seen, "full")


def test_renamed_file(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    os.rename(repo / "app" / "m2.py", repo / "app" / "renamed.py")
    got = _check(repo, monkeypatch, seen, "full")
    assert "app/m2.py" in got and "app/renamed.py" in got  # (untracked: sent with HEAD's state too)


def test_file_replaced_by_a_folder(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "README.md").unlink()
    (repo / "README.md").mkdir()
    (repo / "README.md" / "x").write_text("x\n")
    _check(repo, monkeypatch, seen, "full")


def test_symlink_retargeted_and_removed(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "link").unlink()
    os.symlink("app/m1.py", repo / "link")
    _check(repo, monkeypatch, seen, "record:1")
    (repo / "link").unlink()
    _check(repo, monkeypatch, seen, "record:1")


def test_dockerignore_changed(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    # the revision's ignore file differs: its build sent build/ too (walked again, git's full diff)
    (repo / ".dockerignore").write_text(".git\n*.log\n")
    (repo / "build" / "out.txt").write_text("changed, excluded at HEAD\n")
    got = _check(repo, monkeypatch, seen, "record:2")  # (build/out.txt is walked now)
    assert "build/out.txt" not in got
    (repo / ".dockerignore").write_text(".git\n*.log\nbuild/\n")  # back: only the stamp moved
    _check(repo, monkeypatch, seen, "record:1")


def test_excluded_ignore_file_and_dockerfile_are_stamped(repo, monkeypatch) -> None:
    (repo / ".dockerignore").write_text(".git\n*.log\nbuild/\n.dockerignore\nDockerfile\n")
    git(repo, "commit", "-qam", "ignore itself")
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY app /app\n")  # not walked: excluded
    _check(repo, monkeypatch, seen, "record:1")
    with one_walk():
        st = load_state(str(repo), None, "HEAD", builder="buildkit")
    assert b"COPY . /app" in st.dockerfile_text


def test_new_commit_reads_git_again(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "app" / "m1.py").write_text("x = 'committed'\n")
    git(repo, "commit", "-qam", "two")
    _check(repo, monkeypatch, seen, "new")
    _check(repo, monkeypatch, seen, "record:0")
    git(repo, "checkout", "-q", "HEAD~1")  # (the index changed: a new git key)
    _check(repo, monkeypatch, seen, "new")


def test_racy_file_recorded_unstable_then_removed(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    # a file rewritten (same content) just before a run that reads git's full diff (a new
    # commit): too recent for the stat cache, so the record cannot vouch for it
    mark = time.time_ns()
    time.sleep(0.01)
    (repo / "app" / "m5.py").write_text("x = 5\n")
    (repo / "README.md").write_text("hello again\n")
    git(repo, "commit", "-qam", "readme")
    with monkeypatch.context() as m:
        m.setattr(snapmod, "_now_ns", lambda: mark + snapmod.RACY_WINDOW_NS)  # racy: what changed after mark
        _check(repo, monkeypatch, seen, "new")
    (repo / "app" / "m5.py").unlink()  # not in the stat cache, so not missed from it: asked about
    got = _check(repo, monkeypatch, seen, "record:2")
    assert "app/m5.py" in got


def test_stat_cache_rewritten_invalidates(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    old_token = snapmod.cache_token(repo)
    assert old_token is not None
    snap = snapmod.Snapshot.take(repo, None, digests=True)
    snap.save_cache()  # (another command: a new token)
    assert snapmod.cache_token(repo) not in (None, old_token)
    started = []
    orig = states._PendingDiff.__init__
    monkeypatch.setattr(states._PendingDiff, "__init__", lambda self, *a: (started.append(1), orig(self, *a))[1])
    got = _state(repo)
    # seen before the walk: git's full diff runs beside it, the record is not tried after it
    assert seen.how == [] and started
    assert got == _truth(repo, monkeypatch)
    _check(repo, monkeypatch, seen, "record:0")  # (recorded again, for the new cache)


def test_record_survives_a_garbled_file(repo, monkeypatch) -> None:
    _warm(repo)
    seen = Seen(monkeypatch)
    rec = revcache.record_file_for(repo)
    rec.write_bytes(b"\x00garbage")
    _check(repo, monkeypatch, seen, "new")
    _check(repo, monkeypatch, seen, "record:0")


def test_too_many_changes_read_git_in_full(repo, monkeypatch) -> None:
    for i in range(revcache.MAX_ASKED + 1):
        (repo / "app" / f"extra{i}.py").write_text(f"{i}\n")
    _warm(repo)
    seen = Seen(monkeypatch)
    for i in range(revcache.MAX_ASKED + 1):
        (repo / "app" / f"extra{i}.py").write_text(f"{i} changed\n")
    _check(repo, monkeypatch, seen, "full")


def test_submodules_are_never_recorded(repo, monkeypatch) -> None:
    (repo / ".gitmodules").write_text("")
    _warm(repo)
    assert not revcache.record_file_for(repo).exists() or revcache.lookup(
        repo, repo, git(repo, "rev-parse", "HEAD").strip(), "", ()) is None  # fmt: skip
    assert states.git_dirs(repo) is not None


def _scenarios():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
    from scenarios import all_scenarios

    return all_scenarios()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda s: s.name)
def test_scenarios_predict_the_same_from_a_record(tmp_path, monkeypatch, scenario) -> None:
    """Every engine scenario's change, made after a record was written: the prediction from
    the record is the prediction from git's full diff (each checked on the engine)."""
    from scenarios import apply_change, write_files

    from layerwise.api import explain_project

    data = scenario.data
    if any(p == ".git" or p.startswith(".git/") for p in data["files"]):
        pytest.skip("the scenario's project has a .git folder of its own")
    monkeypatch.setattr(snapmod, "_now_ns", lambda: time.time_ns() + 60 * 10**9)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    write_files(ctx, data["files"])
    git(ctx, "init", "-q")
    git(ctx, "add", "-A")
    git(ctx, "commit", "-qm", "before")
    dockerfile = str(ctx / data.get("dockerfile", "Dockerfile"))
    seen = Seen(monkeypatch)
    for builder in scenario.builders:
        def predict(builder=builder):
            return explain_project(str(ctx), dockerfile=dockerfile, builder=builder, target=data.get("target") or None,
                                   build_args=data.get("build_args_after", data.get("build_args_before", {})),
                                   timings=False).explanation.to_json()  # fmt: skip

        predict()
        predict()  # (stat cache and record written)
        seen.how.clear()
        if builder == scenario.builders[0]:
            apply_change(ctx, data.get("change", {}))
        got = predict()
        with monkeypatch.context() as m:
            m.setattr(revcache, "lookup", lambda *a, **k: None)
            m.setattr(revcache.Pending, "write", lambda self: None)
            m.setattr(snapmod.Snapshot, "save_cache", lambda self: None)
            m.setenv("GIT_OPTIONAL_LOCKS", "0")
            truth = predict()
        assert got == truth


def test_the_walk_notes_what_changed_since_the_cache(repo, monkeypatch) -> None:
    ignore = snapmod.IgnoreFile.read(repo / ".dockerignore")
    snapmod.Snapshot.take(repo, ignore, digests=True).save_cache()
    (repo / "app" / "m1.py").write_text("changed\n")
    (repo / "app" / "new.py").write_text("new\n")
    (repo / "README.md").unlink()
    snap = snapmod.Snapshot.take(repo, ignore, cached_digests=True)
    sent, vanished = snap.walk_changes()
    assert sorted(sent) == ["app/m1.py", "app/new.py"]
    assert vanished == 1  # README.md
    # in the order the walk noted them: the C listing's and the pure-Python one's differ
    assert sorted(e.path for e in snap.without_digest("app")) == sorted(sent)
    assert snap.without_digest("docs") == []
    assert all(e.digest is not None for e in snap.entries if e.kind == "file" and e.path not in sent)
    assert [e.path for e in snap.walk_links] == ["link"]


@pytest.mark.parametrize("big", [False, True])
def test_paths_asked_of_a_big_index_in_two_steps(repo, monkeypatch, big) -> None:
    if big:
        monkeypatch.setattr(revcache, "_BIG_INDEX", 0)  # (diff --cached and diff-files)
    (repo / "app" / "staged.py").write_text("staged\n")
    (repo / "app" / "m0.py").write_text("x = 'staged'\n")
    git(repo, "add", "app/staged.py", "app/m0.py")
    _warm(repo)
    seen = Seen(monkeypatch)
    (repo / "app" / "m0.py").write_text("x = 0\n")  # back to HEAD's content, still staged otherwise
    (repo / "app" / "staged.py").write_text("staged, then edited\n")
    (repo / "app" / "m1.py").write_text("x = 'edited'\n")
    (repo / "app" / "untracked.py").write_text("new\n")
    got = _check(repo, monkeypatch, seen, "record:4")
    assert "app/staged.py" not in got and "app/untracked.py" in got
