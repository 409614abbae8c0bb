"""Hostile projects, threat: what layerwise prints. Credentials in URLs are masked as pip masks
them, in every message; terminal control characters never reach the terminal raw; each output
format is escaped by its own rules (GitHub workflow commands, JSON/SARIF as valid UTF-8)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layerwise import escape
from layerwise.cli import main
from layerwise.pin.resolver import Resolved, add_all_hashes

TOKEN = "glpat-S3CRETt0ken"


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, body in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body if isinstance(body, bytes) else body.encode())
    return root


# --- credentials -------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "masked"), [
    (f"https://oauth2:{TOKEN}@gitlab.com/g/p.git", "https://oauth2:****@gitlab.com/g/p.git"),
    (f"git+https://{TOKEN}@github.com/o/r.git@v1.0#egg=r", "git+https://****@github.com/o/r.git@v1.0#egg=r"),
    (f"https://u:p@ss{TOKEN}@host:8443/simple", "https://u:****@host:8443/simple"),
    ("https://host/path@v1", "https://host/path@v1"),  # no credentials: unchanged
    ("user@example.com", "user@example.com"),
])  # fmt: skip
def test_redact_as_pip_does(url, masked):
    assert escape.redact(f"x {url} y") == f"x {masked} y"


DF_INDEX = f"""FROM python:3.12-slim
COPY requirements.txt .
RUN pip install --index-url https://u:{TOKEN}@pypi.example.com/simple -r requirements.txt
"""


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab"])
def test_credentials_are_masked_in_every_format(tmp_path, capsys, fmt):
    proj = _write(tmp_path, {"Dockerfile": DF_INDEX,
                             "requirements.txt": f"git+https://oauth2:{TOKEN}@gitlab.com/g/p.git\nflask\n"})  # fmt: skip
    code, out, err = _cli(["check", "--format", fmt, str(proj)], capsys)
    assert code == 1
    assert TOKEN not in out + err
    assert "oauth2:****@gitlab.com" in out  # LW401 names the requirement, masked
    if fmt == "text":
        assert "https://u:****@pypi.example.com/simple" in out  # the code frame of the RUN
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(out)


def test_credentials_are_masked_in_errors(tmp_path, capsys):
    proj = _write(tmp_path, {"Dockerfile": f"FROM python:3.12\nRUN pip install git+https://{TOKEN}@h/r.git\nRUN <<EOF\n"})
    code, _out, err = _cli(["check", str(proj)], capsys)
    assert code == 2 and TOKEN not in err


def test_pin_hash_notes_mask_the_index_credentials(monkeypatch):
    # port 9 on localhost (discard): refused at once, no network reached
    monkeypatch.setenv("PIP_INDEX_URL", f"http://__token__:{TOKEN}@127.0.0.1:9/simple")
    notes = add_all_hashes({"flask": Resolved("flask", "3.0.0", True, False)})
    assert len(notes) == 1 and TOKEN not in notes[0]
    assert "http://__token__:****@127.0.0.1:9/simple" in notes[0]


def test_inspect_and_explain_mask_credentials(tmp_path, capsys):
    proj = _write(tmp_path, {"Dockerfile": DF_INDEX, "requirements.txt": "flask==3.0\n"})
    for argv in (["inspect", str(proj / "Dockerfile")], ["inspect", "--format", "json", str(proj / "Dockerfile")]):
        code, out, err = _cli(argv, capsys)
        assert code == 0 and TOKEN not in out + err and "u:****@pypi.example.com" in out


# --- terminal control characters ---------------------------------------------------------------


ESC_DF = "FROM python:3.12-slim\nCOPY . .\nRUN pip install flask \x1b]0;pwned\x07 \x1b[2J\x9b31m\u202e \x08\r\n"


@pytest.mark.parametrize("argv", [["check"], ["check", "--color"], ["inspect"]])
def test_control_characters_in_dockerfile_text_never_reach_the_terminal(tmp_path, capsys, argv):
    proj = _write(tmp_path, {"Dockerfile": ESC_DF, "requirements.txt": "flask\n"})
    _code, out, err = _cli([*argv, str(proj if argv[0] == "check" else proj / "Dockerfile")], capsys)
    text = out + err
    if "--color" in argv:  # rich's own colour codes are the only ESC left
        text = __import__("re").sub(r"\x1b\[[0-9;]*m", "", text)
    assert not any(c in text for c in "\x1b\x07\r\x9b\u202e"), repr(text)
    assert "\\x1b]0;pwned\\x07" in text and "\\u202e" in text


def test_control_characters_in_a_file_name_never_reach_the_terminal(tmp_path, capsys):
    d = tmp_path / "a\x1b[31mb"
    _write(d, {"Dockerfile": "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\n",
               "requirements.txt": "flask\n"})  # fmt: skip
    _code, out, err = _cli(["check", str(d)], capsys)
    assert "\x1b" not in out + err and "a\\x1b[31mb" in out
    _code, out, err = _cli(["check", str(d / "nope")], capsys)
    assert "\x1b" not in out + err and err.startswith("layerwise: error:")


# --- format rules ----------------------------------------------------------------------------------


def test_github_folder_name_with_a_newline_cannot_start_a_command(tmp_path, capsys):
    d = tmp_path / "x\n::error file=evil::pwned,%0A"
    _write(d, {"Dockerfile": "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\n",
               "requirements.txt": "flask\n"})  # fmt: skip
    _code, out, _err = _cli(["check", "--format", "github", str(d)], capsys)
    lines = out.splitlines()
    assert lines and all(ln.startswith(("::error ", "::warning ", "::notice ")) for ln in lines)
    assert not any("::error file=evil" in ln for ln in lines)
    assert "x%0A%3A%3Aerror file=evil%3A%3Apwned%2C%250A" in out  # property: %, CR, LF, ':' and ','


def test_github_message_escapes_percent_and_newlines():
    assert escape.github_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape.github_property("a:b,c%") == "a%3Ab%2Cc%25"


@pytest.mark.parametrize("fmt", ["json", "sarif", "text", "github"])
def test_non_utf8_folder_name_gives_valid_utf8(tmp_path, capsys, fmt):
    d = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    _write(d, {"Dockerfile": "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\n",
               "requirements.txt": "flask\n"})  # fmt: skip
    code, out, err = _cli(["check", "--format", fmt, str(d)], capsys)
    assert code == 1, err
    out.encode("utf-8")  # strict: no lone surrogate
    if fmt == "json":
        assert json.loads(out)[0]["filename"].endswith("caf\\351/Dockerfile")  # Git's core.quotePath octal
    elif fmt == "sarif":
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in json.loads(out)["runs"][0]["results"]}
        assert all("caf%E9/" in u for u in uris)
    else:
        assert "caf\\351/Dockerfile" in out


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_a_name_with_a_newline_cannot_start_a_line_of_its_own(tmp_path, capsys, fmt):
    # GitHub Actions reads workflow commands from any line of stdout and stderr
    d = tmp_path / "x\n::error file=evil::pwned"
    _write(d, {"Dockerfile": "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\n",
               "requirements.txt": "flask\n-r ../../nope/x.txt\n", "pyproject.toml": "[tool.poetry\n"})  # fmt: skip
    _code, out, err = _cli(["check", "--format", fmt, str(d)], capsys)
    assert "include points outside the build context" in err  # a warning naming the folder
    assert not any(ln.startswith("::error file=evil") for ln in (out + err).splitlines())
    _code, out, err = _cli(["check", str(d / "missing")], capsys)
    assert err.count("\n") == 1 and "x\\n::error file=evil::pwned" in err
