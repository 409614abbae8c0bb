"""``layerwise explain`` text without rich (#17, start-up of a small project's explain): to a
file that is not a terminal, :func:`write_text_plain` writes what rich prints there, byte for
byte, or declines."""

from __future__ import annotations

import io
import os

import pytest
from rich.console import Console

from layerwise.analyses.cache import Cause
from layerwise.analyses.explain import Explanation, StepReport
from layerwise.api import explain_project
from layerwise.report.explain import render_text, write_text_plain
from tests.shared import committed_repo, run_cli


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _rich(explanation, **kw) -> str:
    out = io.StringIO()  # as cli.color.console(emoji=False) makes it for a file that is not a terminal
    render_text(explanation, console=Console(file=out, highlight=False, soft_wrap=True, emoji=False), **kw)
    return out.getvalue()


def _plain(explanation, **kw) -> str | None:
    out = io.StringIO()
    if not write_text_plain(explanation, out, **kw):
        assert out.getvalue() == ""
        return None
    return out.getvalue()


def _project(root) -> None:
    (root / "Dockerfile").write_text(
        "FROM python:3.12-slim AS base\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        "COPY . .\nFROM base AS test\nRUN pytest\nFROM base\nCMD [\"python\", \"app.py\"]\n"
    )
    (root / "requirements.txt").write_text("flask==3.0.3\n")
    (root / "app.py").write_text("print('hi')\n")


@pytest.mark.parametrize("change", ["none", "code", "requirements", "dockerfile"])
def test_plain_is_what_rich_prints_for_real_predictions(tmp_path, change) -> None:
    repo = committed_repo(tmp_path / "repo", _project)
    if change == "code":
        (repo / "app.py").write_text("print('edited')\n")
    elif change == "requirements":
        (repo / "requirements.txt").write_text("flask==3.1.0\n")
    elif change == "dockerfile":
        (repo / "Dockerfile").write_text((repo / "Dockerfile").read_text().replace("CMD", "ENV A=1\nCMD"))
    got = explain_project(str(repo), timings=False)
    kw = {"before": got.before, "after": got.after, "context": "context: . (Dockerfile: Dockerfile)"}
    plain = _plain(got.explanation, **kw)
    assert plain is not None
    assert plain == _rich(got.explanation, **kw)


def _odd(text: str, seconds: float | None = None) -> Explanation:
    steps = [
        StepReport(0, 1, "FROM python:3.12-slim", "from", "cached", assumptions=["the tag is assumed not to move"]),
        StepReport(0, 2, f"COPY {text} /app", "copy", "rebuilt", Cause("files", f"the files it copies changed: {text}",
                   {}), seconds=seconds),  # fmt: skip
        StepReport("final", 3, "RUN " + "x" * 100, "run", "rebuilt", Cause("parent", "its parent step was rebuilt", {}),
                   may_be_cached=True),  # fmt: skip
        StepReport("final", 4, f"LABEL a={text}", "metadata", "metadata"),
        StepReport("unused", 5, "FROM scratch", "from", "not-built"),
    ]
    return Explanation("buildkit", "final", steps)


@pytest.mark.parametrize("text", ["app.py", "日本語/ファイル.txt", "emoji/😀.py", ":smile: and :100:", "a]b",
                                  "https://user:secret@example.com/x", "trailing  ", '["python", "app.py"]',
                                  "[bold]x", "a[b", "[/]", "[/bold]", "[link=https://x]y[/link]", "[@click]",
                                  "[#ff0000]r", "[red on blue]", "[[a]]", "x[", "[", "]", "[a-z]*.py"])  # fmt: skip
def test_plain_is_what_rich_prints_for_odd_texts(text) -> None:
    for seconds in (None, 12.5):
        exp = _odd(text, seconds)
        plain = _plain(exp, before="HEAD (1a2b3c4)", after="the working tree", context=None)
        assert plain is not None
        assert plain == _rich(exp, before="HEAD (1a2b3c4)", after="the working tree", context=None)
    assert ":smile:" not in plain or ":smile: and :100:" in plain  # an instruction's text, never an emoji
    assert "secret" not in plain


@pytest.mark.parametrize("text", ["tab\there", "back\\slash", "\\[bold]x", "new\nline", "esc\x1b[31m", "cr\rx"])
def test_plain_declines_what_rich_renders_otherwise(text) -> None:
    assert _plain(_odd(text), before="HEAD", after="the working tree") is None


def test_the_command_writes_the_same_either_way(tmp_path, monkeypatch) -> None:
    repo = committed_repo(tmp_path / "repo", _project)
    (repo / "app.py").write_text("print('edited')\n")
    monkeypatch.chdir(repo)
    plain = run_cli(["explain"])
    monkeypatch.setattr("layerwise.report.explain.write_text_plain", lambda *a, **k: False)
    rich = run_cli(["explain"])
    assert plain.exit_code == rich.exit_code
    assert plain.output == rich.output
    assert "REBUILD" in plain.output and os.path.basename("app.py") in plain.output
