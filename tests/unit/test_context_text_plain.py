"""``layerwise context`` text without rich (#17, start-up): to a file that is not a terminal,
:func:`write_text_plain` writes what rich prints there, byte for byte, or declines."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from layerwise.context.ignore import IgnoreFile
from layerwise.context.report import CopySource, build_report, render_text, write_text_plain
from layerwise.context.snapshot import Snapshot
from tests.shared import run_cli


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _tree(root: Path, names: list[str], ignore: str = "*.pyc\n__pycache__\n.git\n") -> Path:
    for name in names:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x" * len(name))
    (root / ".dockerignore").write_text(ignore)
    return root


def _report(root: Path, sources=None, count_excluded: bool = True):
    return build_report(Snapshot.take(root, IgnoreFile.read(root / ".dockerignore"), use_cache=False),
                        sources, count_excluded=count_excluded)  # fmt: skip


def _rich(report) -> str:
    out = io.StringIO()  # as cli.color.console() makes it for a file that is not a terminal
    render_text(report, console=Console(file=out, highlight=False, soft_wrap=True))
    return out.getvalue()


PLAIN_NAMES = [
    "app/main.py", "app/__pycache__/m.pyc", "pkg/x.pyc", ".venv/pyvenv.cfg", ".venv/lib/s.py",
    ".env", "deploy/server.pem", "deploy/.aws/credentials", "a b  /trailing  ", "日本語/ファイル.txt",
    "emoji/😀.env", "emoji/:smile:.pem", "x]y/z.key", "dist/p.whl", "setup.py", ".git/HEAD",
]  # fmt: skip


@pytest.mark.parametrize("count_excluded", [True, False])
def test_plain_is_what_rich_prints(tmp_path, count_excluded) -> None:
    report = _report(_tree(tmp_path, PLAIN_NAMES), [CopySource("deploy")], count_excluded)
    assert report.junk and report.secrets and report.root_only_patterns
    out = io.StringIO()
    assert write_text_plain(report, out)
    assert out.getvalue() == _rich(report)
    assert ":smile:.pem" in out.getvalue()  # a name, not an emoji code


@pytest.mark.parametrize("name", ["a/[bold]x.pem", "a/[x.pem", "a/tab\there.pem", "a/back\\slash.pem", "a/nl\nx.pem"])
def test_plain_declines_what_rich_renders_otherwise(tmp_path, name) -> None:
    report = _report(_tree(tmp_path, ["app/main.py", name]), count_excluded=False)
    out = io.StringIO()
    assert not write_text_plain(report, out)
    assert out.getvalue() == ""
    # and the command then prints through rich: the name shown as it is
    result = run_cli(["context", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output == _rich(report)


def test_rich_shows_line_100_not_an_emoji(tmp_path) -> None:
    # ":100:" in "Dockerfile:100:1" was printed as an emoji by rich
    root = _tree(tmp_path, ["app/main.py", ".env"])
    (root / "Dockerfile").write_text("FROM python:3.12\n" + "\n" * 98 + "COPY . /app\n")
    result = run_cli(["context", str(root), "--color"])
    assert result.exit_code == 0, result.output
    assert "Dockerfile:100:1: ." in result.output and "\U0001f4af" not in result.output


def test_command_imports_no_rich_for_plain_text(tmp_path) -> None:
    root = _tree(tmp_path, PLAIN_NAMES)
    code = ("import sys; from layerwise.cli import main\n"
            "try:\n    main(['context', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print('RICH' if 'rich' in sys.modules else 'NO RICH', file=sys.stderr)")  # fmt: skip
    got = subprocess.run([sys.executable, "-c", code, str(root)], check=False, capture_output=True, text=True,
                         env=_env(tmp_path))  # fmt: skip
    assert got.stderr.strip().endswith("NO RICH"), got.stderr
    assert got.stdout == _rich(_report(root, count_excluded=False))


def test_text_report_needs_no_stat_cache(tmp_path) -> None:
    """The text report reads no digest: it neither reads nor writes the stat cache, nor
    loads OpenSSL to name its file (#17: start-up); the JSON report, which lists digests,
    keeps the cache."""
    root = _tree(tmp_path / "ctx", PLAIN_NAMES)
    code = ("import sys; from layerwise.cli import main\n"
            "try:\n    main(['context', *sys.argv[1:]])\nexcept SystemExit:\n    pass\n"
            "print('HASHLIB' if {'hashlib', '_hashlib'} & set(sys.modules) else 'NO HASHLIB', file=sys.stderr)")  # fmt: skip
    env = _env(tmp_path)
    cache = tmp_path / "xdg-cache" / "layerwise" / "stat"
    got = subprocess.run([sys.executable, "-c", code, str(root)], check=False, capture_output=True, text=True, env=env)
    assert got.stderr.strip().endswith("NO HASHLIB"), got.stderr
    assert "Build context" in got.stdout and not (cache.exists() and any(cache.iterdir()))
    got = subprocess.run([sys.executable, "-c", code, str(root), "--format", "json"], check=False, capture_output=True,
                         text=True, env=env)  # fmt: skip
    assert got.stderr.strip().endswith("HASHLIB"), got.stderr
    assert '"digest": "sha256:' in got.stdout and any(cache.iterdir())


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    return env


def test_json_file_lines_are_what_the_encoder_writes(tmp_path) -> None:
    import json
    import os

    from layerwise.context.report import _file_dict, _file_json

    root = _tree(tmp_path, ["a.py", 'q"uote\\back.txt', "日本/é😀.txt", "ctl\x01x", "exec.sh"])
    os.chmod(root / "exec.sh", 0o4755)
    os.symlink("a.py", root / "link")
    os.symlink("../../out\"side", root / "bad link")
    os.mkfifo(root / "fifo")
    (root / os.fsdecode(b"bad\xffname")).write_text("x")
    encode = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode
    for digests in (False, True):
        snap = Snapshot.take(root, None, digests=digests, use_cache=False)
        kinds = {e.kind for e in snap.entries}
        assert kinds == {"file", "dir", "symlink", "other"}
        assert any(e.digest is not None for e in snap.entries) == digests
        for e in snap.entries:
            assert _file_json(e) == encode(_file_dict(e)), e
