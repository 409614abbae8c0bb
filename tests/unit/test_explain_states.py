"""``layerwise explain`` on real folders and git repositories (the CLI, end to end)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.shared import committed_repo, git, run_cli

BAD = 'FROM python:3.10-slim\nWORKDIR /app\nADD . /app\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'


def write_app(root: Path) -> None:
    (root / "Dockerfile").write_text(BAD)
    (root / "app.py").write_text("print('Hello, Docker!')\n")
    (root / "requirements.txt").write_text("flask==2.3.2\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return committed_repo(tmp_path, write_app)


def explain_json(path: Path, *args: str) -> dict:
    result = run_cli(["explain", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def by_line(data: dict) -> dict[int, str]:
    return {s["line"]: s["status"] for s in data["steps"]}


def test_clean_worktree_is_all_cached(repo):
    assert by_line(explain_json(repo)) == {1: "cached", 2: "cached", 3: "cached", 4: "cached", 5: "metadata"}


def test_code_change_in_worktree_blames_the_file(repo):
    (repo / "app.py").write_text("print('Hello, World!')\n")
    data = explain_json(repo)
    assert by_line(data) == {1: "cached", 2: "cached", 3: "rebuilt", 4: "rebuilt", 5: "metadata"}
    add = data["steps"][2]
    assert add["cause"]["type"] == "files"
    assert add["cause"]["paths"] == [{"path": "app.py", "change": "modified"}]
    assert data["steps"][3]["cause"]["type"] == "parent"
    assert data["summary"]["first_miss_line"] == 3


def test_untracked_and_gitignored_files_count_as_docker_sees_them(repo):
    (repo / ".gitignore").write_text("secret.env\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    # present in both states (untracked / ignored files are sent as they are): no change
    (repo / "secret.env").write_text("TOKEN=1\n")
    (repo / "notes.txt").write_text("todo\n")
    assert by_line(explain_json(repo))[3] == "cached"


def test_revisions_and_deleted_files(repo):
    (repo / "extra.py").write_text("x = 1\n")
    git(repo, "add", "extra.py")
    git(repo, "commit", "-qm", "extra")
    os.remove(repo / "extra.py")  # deleted in the worktree, present in HEAD
    data = explain_json(repo)
    assert data["steps"][2]["cause"]["paths"] == [{"path": "extra.py", "change": "removed"}]
    # between two revisions: HEAD~1 had no extra.py
    data = explain_json(repo, "--before", "HEAD~1", "--after", "HEAD")
    assert data["steps"][2]["cause"]["paths"] == [
        {"path": ".git/logs/HEAD", "change": "modified"},  # (no .dockerignore: .git is sent, and moved)
        {"path": "extra.py", "change": "added"},
    ]


def test_new_directory_since_revision_is_not_in_the_before_state(repo):
    (repo / "pkg").mkdir()
    (repo / "pkg" / "mod.py").write_text("x = 1\n")
    git(repo, "add", "pkg")
    data = explain_json(repo)
    paths = {p["path"] for p in data["steps"][2]["cause"]["paths"]}
    assert paths == {"pkg", "pkg/mod.py"}


def test_a_merge_in_conflict_is_compared_with_head(repo):
    """During a conflicted merge the index has no plain entry for the file: HEAD's version is
    still the one put back (git's raw diff names it with HEAD's blob, as ls-tree did)."""
    git(repo, "checkout", "-qb", "other")
    (repo / "app.py").write_text("print('other')\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", "-")
    (repo / "app.py").write_text("print('main')\n")
    git(repo, "commit", "-qam", "main")
    merge = subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "merge", "other"],
                           cwd=repo, capture_output=True, check=False)  # fmt: skip
    assert merge.returncode != 0 and "<<<<<<<" in (repo / "app.py").read_text()
    data = explain_json(repo)
    assert data["steps"][2]["cause"]["paths"] == [{"path": "app.py", "change": "modified"}]


def test_an_edited_tree_costs_three_git_children(repo, monkeypatch):
    """Each git child process costs a few milliseconds of a ~70 ms explain: the folders and
    the commit come from one ``rev-parse``, the changed paths with the commit's modes and
    blobs from one raw ``diff`` (no ``ls-tree``), their contents from one ``cat-file``."""
    (repo / "app.py").write_text("print('Hello, World!')\n")
    (repo / "requirements.txt").unlink()
    calls: list[list[str]] = []
    real = subprocess.Popen.__init__

    def popen(self, args, *a, **k):
        calls.append(list(args))
        real(self, args, *a, **k)

    monkeypatch.setattr(subprocess.Popen, "__init__", popen)
    data = explain_json(repo)
    assert data["steps"][2]["cause"]["paths"] == [
        {"path": "app.py", "change": "modified"},
        {"path": "requirements.txt", "change": "removed"},
    ]
    commands = [next(a for a in c[1:] if not a.startswith("-")) for c in calls if c[0] == "git"]
    assert commands == ["rev-parse", "diff", "cat-file"], calls


def test_the_git_folder_sent_differs_between_two_commits(repo):
    """With no .dockerignore, Docker sends .git: a build of the commit before saw another one
    (HEAD's reflog), which git does not report (tests/engine/test_explain_git_folder.py)."""
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    data = explain_json(repo, "--before", "HEAD~1")
    assert data["steps"][2]["cause"]["paths"] == [{"path": ".git/logs/HEAD", "change": "modified"}]
    assert by_line(explain_json(repo))[3] == "cached"  # HEAD against the working tree: the same commit
    (repo / ".dockerignore").write_text(".git\n")
    git(repo, "add", ".dockerignore")
    git(repo, "commit", "-qm", "ignore")
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty again")
    assert by_line(explain_json(repo, "--before", "HEAD~1"))[3] == "cached"


@pytest.mark.parametrize("ignore", [None, ".git\n"], ids=["git-sent", "git-excluded"])
def test_git_runs_beside_the_walk_only_when_the_walk_does_not_send_git(repo, monkeypatch, ignore):
    """git diff writes .git/index.lock while it refreshes the index (a copied repository's
    index always needs it): a walk that sends .git and runs beside it may list that file,
    which a later walk does not (seen once, as a change '.git/index.lock (added)'). So git
    runs after such a walk, and beside it only when .git is not sent."""
    from layerwise.context import states

    if ignore is not None:
        (repo / ".dockerignore").write_text(ignore)
    events: list[str] = []
    real_walk, real_diff = states.folder_files, states._PendingDiff.__init__

    def walk(*a, **k):
        events.append("walk")
        return real_walk(*a, **k)

    def diff(self, *a, **k):
        events.append("git diff")
        real_diff(self, *a, **k)

    monkeypatch.setattr(states, "folder_files", walk)
    monkeypatch.setattr(states._PendingDiff, "__init__", diff)
    (repo / "app.py").write_text("print('Hello, World!')\n")
    assert by_line(explain_json(repo))[3] == "rebuilt"
    assert events == (["walk", "git diff"] if ignore is None else ["git diff", "walk"])


def test_dockerfile_of_the_revision_is_used(repo):
    (repo / "Dockerfile").write_text(BAD.replace("RUN pip install", "RUN pip install --no-cache-dir"))
    data = explain_json(repo)
    run = data["steps"][3]
    assert run["status"] == "rebuilt"
    # ADD . copies the Dockerfile too: its edit busts ADD first
    assert data["steps"][2]["cause"]["paths"] == [{"path": "Dockerfile", "change": "modified"}]


def test_folders(tmp_path, repo):
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        d.mkdir()
        for name in ("Dockerfile", "app.py", "requirements.txt"):
            (d / name).write_bytes((repo / name).read_bytes())
    (two / "requirements.txt").write_text("flask==3.0.0\n")
    data = explain_json(one, "--before", str(one), "--after", str(two))
    assert data["steps"][2]["cause"]["paths"] == [{"path": "requirements.txt", "change": "modified"}]


def test_errors_are_one_line(tmp_path):
    result = run_cli(["explain", str(tmp_path)])
    assert result.exit_code != 0


def test_text_output_tells_the_story(repo):
    (repo / "app.py").write_text("print('Hello, World!')\n")
    result = run_cli(["explain", str(repo)])
    assert result.exit_code == 0, result.output
    assert "REBUILD" in result.output and "app.py (modified)" in result.output
    assert "The first miss is line 3: ADD . /app" in result.output


def test_no_cache_rebuilds_everything(repo):
    data = explain_json(repo, "--no-cache")
    assert by_line(data) == {1: "cached", 2: "rebuilt", 3: "rebuilt", 4: "rebuilt", 5: "metadata"}
    assert data["steps"][1]["cause"]["type"] == "no-cache"


def test_measured_timings_give_a_cost_estimate(repo, monkeypatch, tmp_path):
    from layerwise.analyses.timings import save_timings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    save_timings(repo / "Dockerfile", {"RUN pip install -r requirements.txt": 15.3, "ADD . /app": 1.0})
    (repo / "app.py").write_text("print('Hello, World!')\n")
    data = explain_json(repo)
    assert data["summary"]["estimated_rebuild_seconds"] == 16.3
    assert [s.get("seconds") for s in data["steps"]] == [None, None, 1.0, 15.3, None], data
    result = run_cli(["explain", str(repo)])
    assert "~15.3 s" in result.output and "about 16.3 s of work" in result.output


@pytest.mark.parametrize("target", [[], ["--target", "web"]])
def test_legacy_builder_refuses_a_copy_from_a_later_stage_in_one_line(tmp_path, target, capsys):
    """The legacy builder knows only the stages before a COPY --from (it pulls the name as an
    image: tests/engine/test_legacy_refusal.py); BuildKit builds it."""
    from layerwise.cli import main

    (tmp_path / "Dockerfile").write_text("FROM busybox AS web\nCOPY --from=deps /x /x\nFROM busybox AS deps\nRUN echo > /x\n")
    with pytest.raises(SystemExit) as exit_:
        main(["explain", str(tmp_path), "--before", str(tmp_path), "--builder", "legacy", *target])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        f"layerwise: error: {tmp_path / 'Dockerfile'}:2:1: the legacy builder cannot build this Dockerfile:"
        ' COPY --from=deps names a later stage, and it knows only the stages before: it pulls "deps" as an image'
        ' ("invalid from flag value deps: ..."); explain it with --builder buildkit'
    ]
    # BuildKit builds the default target (deps) and skips web; built, web fails there too
    with pytest.raises(SystemExit) as exit_:
        main(["explain", str(tmp_path), "--before", str(tmp_path), "--format", "json", *target])
    assert exit_.value.code == (2 if target else 0)
    capsys.readouterr()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_legacy_builder_refuses_buildkit_only_syntax_in_one_line(repo, fmt, capsys):
    from layerwise.cli import main

    (repo / "Dockerfile").write_text(BAD.replace("RUN pip", "RUN --mount=type=cache,target=/root/.cache/pip pip"))
    with pytest.raises(SystemExit) as exit_:
        main(["explain", str(repo), "--builder", "legacy", "--format", fmt])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        f"layerwise: error: {repo / 'Dockerfile'}:4:1: the legacy builder cannot build this Dockerfile:"
        ' RUN --mount needs BuildKit ("the --mount option requires BuildKit"); explain it with --builder buildkit'
    ]
    assert run_cli(["explain", str(repo), "--format", fmt]).exit_code == 0
