"""LW001 and the inline directives (analyses/directives.py): line and file-wide ignores, reasons,
``noqa`` spellings, and the directives that suppress nothing."""

import tempfile
import textwrap
from pathlib import Path

import pytest

from layerwise.analyses.check import check_dockerfile, is_suppressed, selected_rules
from layerwise.analyses.directives import parse_directives
from layerwise.parse import parse

BASE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
USER nobody
CMD ["python", "app.py"]
"""
FILES = {"requirements.txt": "flask==3.0.0\n", ".dockerignore": ".git\n**/__pycache__\nDockerfile\n.dockerignore\n"}


def run(dockerfile: str, files: dict[str, str] | None = FILES, select=None, ignore=()):
    """(findings as (code, line, message), the Dockerfile text) of a check with the context."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        text = textwrap.dedent(dockerfile)
        (root / "Dockerfile").write_text(text)
        for rel, body in (files or {}).items():
            (root / rel).write_text(body)
        result = check_dockerfile(root / "Dockerfile", context=root if files is not None else None,
                                  display_path="Dockerfile", rules=selected_rules(select, ignore))  # fmt: skip
        assert not result.errors, result.errors
        return result.findings, text


def apply_edits(text: str, edits) -> str:
    for e in sorted(edits, key=lambda e: e.start_offset, reverse=True):
        text = text[: e.start_offset] + e.replacement + text[e.end_offset :]
    return text


def codes(findings):
    return sorted((f.code, f.line) for f in findings)


def test_base_project_is_silent():
    found, _ = run(BASE)
    assert codes(found) == []


def test_line_ignore_with_a_reason_suppresses_and_is_used():
    bad = BASE.replace("RUN pip install --no-cache-dir", "RUN pip install")
    assert ("LW201", 4) in codes(run(bad)[0])
    found, _ = run(bad.replace("RUN pip", "# layerwise: ignore[LW201] -- the cache is wanted in this image\nRUN pip"))
    assert codes(found) == []


def test_unused_line_ignore_is_reported_and_its_fix_removes_the_line():
    text = BASE.replace("RUN pip", "# layerwise: ignore[LW201] -- the cache is wanted\nRUN pip")
    found, text = run(text)
    (f,) = found
    assert (f.code, f.line, f.severity) == ("LW001", 4, "warning")
    assert f.message == "unused ignore directive: LW201 suppresses nothing here"
    assert f.fix.safety == "safe"
    assert apply_edits(text, list(f.fix.edits)) == BASE


def test_only_the_unused_codes_are_dropped():
    bad = BASE.replace("RUN pip install --no-cache-dir", "RUN pip install")
    text = bad.replace("RUN pip", "# layerwise: ignore[LW502, LW201, LW999]  -- why\nRUN pip")
    (f,) = run(text)[0]
    assert f.code == "LW001"
    assert f.message == "unused ignore directive: LW502 suppresses nothing here; unknown rule code LW999"
    assert apply_edits(text, list(f.fix.edits)) == bad.replace("RUN pip", "# layerwise: ignore[LW201]  -- why\nRUN pip")


def test_directive_inside_a_comment_keeps_the_comment():
    text = BASE.replace("RUN pip", "# deps first  # layerwise: noqa[LW101]\nRUN pip")
    (f,) = run(text)[0]
    assert f.code == "LW001"
    assert apply_edits(text, list(f.fix.edits)) == BASE.replace("RUN pip", "# deps first\nRUN pip")


def test_file_wide_ignore_suppresses_every_instruction():
    bad = BASE.replace('CMD ["python", "app.py"]', "CMD python app.py").replace("USER nobody\n", "")
    assert codes(run(bad)[0]) == [("LW503", 1), ("LW504", 6)]
    for directive in ("# layerwise: ignore-file[LW503, LW504] -- a dev image",
                      "# layerwise: noqa-file[LW5]", "# layerwise: ignore-file", "# LAYERWISE: NOQA-FILE"):  # fmt: skip
        found, _ = run(bad + directive + "\n")  # anywhere in the file, at its end too
        assert codes(found) == [], directive


def test_unused_file_wide_ignore():
    found, text = run("# layerwise: ignore-file[LW504]\n" + BASE)
    (f,) = found
    assert (f.code, f.line) == ("LW001", 1)
    assert apply_edits(text, list(f.fix.edits)) == BASE


def test_bare_ignore_unused_only_when_every_rule_ran():
    text = BASE.replace("COPY . .", "# layerwise: ignore\nCOPY . .")
    (f,) = run(text)[0]
    assert f.message == "`# layerwise: ignore` suppresses nothing here"
    assert codes(run(text, files=None)[0]) == []  # no context: LW3xx did not run, it may be for them
    assert codes(run(text, ignore=["LW301"])[0]) == []


def test_codes_of_rules_that_did_not_run_are_not_reported():
    text = BASE.replace("COPY . .", "# layerwise: ignore[LW303, LW201]\nCOPY . .")
    assert [f.message for f in run(text)[0]] == ["unused ignore directive: LW303, LW201 suppress nothing here"]
    # LW303 needs the context: without it, only LW201 is certain
    assert [f.message for f in run(text, files=None)[0]] == ["unused ignore directive: LW201 suppresses nothing here"]
    assert codes(run(text, select=["LW001", "LW5"])[0]) == []
    assert codes(run(text, ignore=["LW001"])[0]) == []


def test_naming_lw001_keeps_it_quiet():
    text = BASE.replace("COPY . .", "# layerwise: ignore[LW201, LW001] -- kept for the next base image\nCOPY . .")
    assert codes(run(text)[0]) == []
    assert codes(run("# layerwise: ignore-file[LW001]\n" + BASE.replace("COPY", "# layerwise: ignore\nCOPY"))[0]) == []


def test_shell_comment_in_a_run_is_not_a_directive():
    bad = BASE.replace("RUN pip install --no-cache-dir -r requirements.txt",
                       "RUN pip install -r requirements.txt  # layerwise: ignore[LW201]")  # fmt: skip
    assert ("LW201", 4) in codes(run(bad)[0])


def test_directive_on_a_comment_line_inside_an_instruction():
    bad = BASE.replace("RUN pip install --no-cache-dir -r requirements.txt",
                       "RUN pip install \\\n  # layerwise: ignore[LW201]\n  -r requirements.txt")  # fmt: skip
    assert codes(run(bad)[0]) == []


def test_directives_in_other_files():
    files = dict(FILES, **{"requirements.txt": "flask  # layerwise: ignore[LW401] -- we follow flask\nrich\n"})
    assert codes(run(BASE, files)[0]) == [("LW401", 2)]
    files["requirements.txt"] = "# layerwise: ignore-file[LW401]\nflask\nrich\n"
    assert codes(run(BASE, files)[0]) == []


def test_parse_keeps_the_reason_and_the_place():
    (d,) = parse_directives("FROM a\n  # layerwise: ignore[lw201 , LW1] -- two words\n", comment_lines_only=True)
    assert (d.line, d.column, d.codes, d.reason, d.file_wide) == (2, 3, ("LW201", "LW1"), "two words", False)
    (d,) = parse_directives("# layerwise: noqa-file\n", comment_lines_only=True)
    assert (d.codes, d.file_wide, d.reason) == (None, True, "")
    assert parse_directives("# layerwise: ignored\n# layerwise:ignorefile\n", comment_lines_only=True) == []


@pytest.mark.parametrize("line,expected", [(4, True), (5, True), (6, False), (2, False)])
def test_is_suppressed_is_what_fix_honours(line, expected):
    df = parse("FROM a\nWORKDIR /app\n# layerwise: ignore[LW201]\nRUN pip \\\n  install x\nRUN y\n", "Dockerfile")
    assert is_suppressed(df, "Dockerfile", "LW201", line) is expected
    assert not is_suppressed(df, "Dockerfile", "LW101", line)
