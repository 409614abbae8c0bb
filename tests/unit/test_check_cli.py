"""``layerwise check`` / ``rule`` / ``rules`` end to end through the CLI entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from layerwise.cli import main

BAD = "FROM python:3.12\nWORKDIR /app\nADD . .\nRUN pip install -r requirements.txt\nCMD python app.py\n"
GOOD = ('FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n'
        'COPY . .\nUSER nobody\nCMD ["python", "app.py"]\n')  # fmt: skip


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def project(tmp_path: Path, dockerfile: str, **files: str) -> Path:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / ".dockerignore").write_text(".git\nDockerfile\n.dockerignore\n")
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_text_output_and_exit_1(tmp_path, capsys):
    p = project(tmp_path, BAD)
    code, out, _ = run(["check", str(p)], capsys)
    assert code == 1
    assert f"{p / 'Dockerfile'}:3:1: LW101" in out
    assert "3 | ADD . ." in out and "^^^^^^^ LW101" in out
    assert "= help:" in out and "Found " in out
    assert "\x1b[" not in out  # no colours when not a terminal


def test_clean_exit_0(tmp_path, capsys):
    p = project(tmp_path, GOOD)
    code, out, _ = run(["check", str(p)], capsys)
    assert (code, out) == (0, "All checks passed!\n")


def test_select_ignore_and_exit_zero(tmp_path, capsys):
    p = project(tmp_path, BAD)
    code, out, _ = run(["check", str(p), "--select", "LW5", "--ignore", "LW503,LW504", "--format", "json"], capsys)
    assert code == 0 and {f["code"] for f in json.loads(out)} == {"LW502"}  # an info: reported, not failing
    code, _, _ = run(["check", str(p), "--exit-zero"], capsys)
    assert code == 0


@pytest.mark.parametrize("level,select,expected", [
    ("info", "LW502", 1), ("warning", "LW502", 0), (None, "LW502", 0),  # LW502 is an info
    ("warning", "LW201", 1), (None, "LW201", 1), ("error", "LW201", 0),  # LW201 a warning
    ("error", "LW101", 1),  # LW101 an error
])  # fmt: skip
def test_fail_level(tmp_path, capsys, level, select, expected):
    p = project(tmp_path, BAD)
    argv = ["check", str(p), "--select", select, "--format", "json"] + (["--fail-level", level] if level else [])
    code, out, _ = run(argv, capsys)
    assert [f["code"] for f in json.loads(out)] == [select]  # reported whatever the level
    assert code == expected
    code, _, _ = run([*argv, "--exit-zero"], capsys)
    assert code == 0


def test_fail_level_follows_configured_severity(tmp_path, capsys):
    p = project(tmp_path, BAD)
    code, _, _ = run(["check", str(p), "--select", "LW502", "--severity", "LW502=error", "--fail-level", "error"], capsys)
    assert code == 1


def test_exit_zero_keeps_exit_2_for_errors(tmp_path, capsys):
    (tmp_path / "Broken").write_text("FROM\n")
    code, _, err = run(["check", str(tmp_path / "Broken"), "--exit-zero"], capsys)
    assert code == 2 and "Broken:1" in err


def test_check_counts_what_fix_applies(tmp_path, capsys):
    """issue #18: apt-get after `COPY . .` and a shell-form CMD: `[*]` and the summary count
    exactly the fixes `fix` applies with the same options (--unsafe-fixes on both)."""
    from layerwise.fixes import fix_project

    (tmp_path / "requirements.txt").write_text("flask==2.3.2\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                                         "RUN apt-get update && apt-get install -y gcc\n"
                                         "RUN pip install -r requirements.txt\nCMD python app.py\n")  # fmt: skip
    for unsafe in (False, True):
        _, out, _ = run(["check", str(tmp_path), "--no-color"] + ["--unsafe-fixes"] * unsafe, capsys)
        marked = sum(1 for line in out.splitlines() if re.match(r"^\S+:\d+:\d+: LW\d+ \[\*\]", line))
        m = re.search(r"(\d+) can be fixed with", out)
        applied = fix_project(tmp_path, tmp_path / "Dockerfile", unsafe_fixes=unsafe).applied
        assert m and int(m.group(1)) == marked == len(applied), (out, applied)
        assert ("more with `--unsafe-fixes`" in out) is (not unsafe)


def test_json_fields(tmp_path, capsys):
    p = project(tmp_path, BAD)
    _, out, _ = run(["check", str(p), "--format", "json", "--select", "LW502"], capsys)
    (f,) = json.loads(out)
    assert f["code"] == "LW502" and f["name"] == "add-instead-of-copy"
    assert f["location"] == {"row": 3, "column": 1}
    assert f["fix"]["applicability"] == "safe" and f["fix"]["edits"][0]["content"] == "COPY"


def test_github_annotations(tmp_path, capsys):
    p = project(tmp_path, BAD)
    _, out, _ = run(["check", str(p), "--format", "github", "--select", "LW101"], capsys)
    assert out.startswith("::error file=") and ",line=3,col=1," in out and "title=LW101::LW101 " in out


def test_inline_suppression(tmp_path, capsys):
    text = BAD.replace("ADD . .", "# layerwise: ignore[LW101, LW502]\nADD . .")
    p = project(tmp_path, text)
    _, out, _ = run(["check", str(p), "--format", "json"], capsys)
    codes = {f["code"] for f in json.loads(out)}
    assert "LW101" not in codes and "LW502" not in codes and "LW201" in codes


def test_pyproject_config(tmp_path, capsys):
    p = project(tmp_path, BAD, **{"pyproject.toml": '[tool.layerwise]\nignore = ["LW5"]\nseverity = { LW201 = "error" }\n'})
    _, out, _ = run(["check", str(p), "--format", "json"], capsys)
    found = json.loads(out)
    assert not [f for f in found if f["code"].startswith("LW5")]
    assert {f["severity"] for f in found if f["code"] == "LW201"} == {"error"}


def test_bad_config_is_usage_error(tmp_path, capsys):
    p = project(tmp_path, GOOD, **{"pyproject.toml": "[tool.layerwise]\nselec = ['LW1']\n"})
    code, _, err = run(["check", str(p)], capsys)
    assert code == 2 and "unknown key 'selec'" in err and "pyproject.toml" in err


def test_parse_error_exit_2_located(tmp_path, capsys):
    p = project(tmp_path, "FROM python:3.12\nWORKID /app\n")
    code, _, err = run(["check", str(p)], capsys)
    assert code == 2 and f"{p / 'Dockerfile'}:2:1: unknown instruction: WORKID" in err


def test_missing_dockerfile_exit_2(tmp_path, capsys):
    code, _, err = run(["check", str(tmp_path)], capsys)
    assert code == 2 and "no Dockerfile" in err


def test_several_files_without_context(tmp_path, capsys):
    a = tmp_path / "a.Dockerfile"
    b = tmp_path / "b.Dockerfile"
    a.write_text(BAD)
    b.write_text(GOOD)
    code, out, _ = run(["check", str(a), str(b), "--format", "json"], capsys)
    files = {f["filename"] for f in json.loads(out)}
    assert code == 1 and files == {str(a)}


def test_rule_and_rules(capsys):
    code, out, _ = run(["rule", "lw101"], capsys)
    assert code == 0
    for part in ("# LW101 (copy-before-install)", "## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert part in out
    code, out, _ = run(["rules"], capsys)
    assert code == 0 and out.count("\nLW") >= 20
    code, _, err = run(["rule", "LW999"], capsys)
    assert code == 2 and "unknown rule" in err


def test_every_rule_documented():
    from layerwise.analyses.rules import all_rules

    rules = all_rules()
    for code in ["LW101", "LW102", "LW103", "LW104", "LW105", "LW106", "LW201", "LW202", "LW203", "LW204",
                 "LW301", "LW302", "LW303", "LW304", "LW305", "LW401", "LW402", "LW501", "LW502", "LW503", "LW504"]:  # fmt: skip
        r = rules[code]
        for part in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert part in r.doc, (code, part)
        assert r.severity in ("error", "warning", "info") and r.fix in ("safe", "unsafe", "per-finding", None)
        assert (Path(__file__).parent / "rules" / f"test_{code.lower()}.py").is_file(), code


def test_single_file_check_does_not_import_rich(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text(BAD)
    code = ("import sys\nfrom layerwise.cli import main\ntry:\n    main(['check', sys.argv[1]])\n"
            "except SystemExit:\n    pass\nprint('rich' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, str(df)], capture_output=True, text=True, check=False).stdout
    assert out.strip().splitlines()[-1] == "False"
