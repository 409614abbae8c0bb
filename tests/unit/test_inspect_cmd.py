"""``layerwise inspect``: the model as JSON (a contract for tools) and text; errors as one line."""

from __future__ import annotations

import json

from layerwise.cli import main
from layerwise.examples import example_path
from tests.shared import run_cli


def invoke(*args):
    return run_cli(list(args))


def test_json_model_of_the_example():
    result = invoke("inspect", str(example_path() / "Dockerfile"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["base"] for s in data["stages"]] == ["python:3.10-slim"]
    keys = [(i["keyword"], i["start_line"], i["kind"]) for i in data["instructions"]]
    assert keys == [("FROM", 1, "from"), ("WORKDIR", 2, "workdir"), ("ADD", 4, "add"),
                    ("RUN", 6, "run"), ("CMD", 7, "metadata")]  # fmt: skip
    add = data["instructions"][2]
    assert add["args"] == [".", "/app"] and add["stage"] == 0 and add["original"] == "ADD . /app"


def test_json_expands_where_buildkit_expands(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("ARG PY=3.11\nFROM python:${PY}-slim AS app\nARG DEST=/srv\nENV HOME=$DEST\n"
                  "COPY --chown=app . $DEST/\nRUN echo $DEST\n")  # fmt: skip
    data = json.loads(invoke("inspect", str(df), "--format", "json", "--build-arg", "DEST=/opt").output)
    assert data["stages"][0]["base"] == "python:3.11-slim"
    by_kw = {i["keyword"]: i for i in data["instructions"]}
    assert by_kw["COPY"]["args"] == [".", "/opt/"]
    assert by_kw["ENV"]["args"] == ["HOME=/opt"]
    assert by_kw["RUN"]["args"] == ["echo $DEST"]  # the shell expands RUN, not BuildKit
    assert by_kw["RUN"]["build_args_in_scope"] == {"DEST": "/opt"}


def test_text_output(tmp_path):
    result = invoke("inspect", str(example_path() / "Dockerfile"))
    assert result.exit_code == 0
    assert "stage 0 from python:3.10-slim" in result.output
    assert "ADD . /app" in result.output


def test_errors_are_one_located_line(tmp_path, capsys):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM x\nCOPY --nope a b\n")
    try:
        main(["inspect", str(bad)])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert err.strip() == f"layerwise: error: {bad}:2:1: unknown flag: --nope"
    assert "Traceback" not in err


def test_missing_file(capsys, tmp_path):
    try:
        main(["inspect", str(tmp_path / "nope")])
    except SystemExit as exc:
        assert exc.code == 2
    assert "no such file" in capsys.readouterr().err


def test_help_has_an_example():
    for name in ("inspect", "explain"):
        result = invoke(name, "--help")
        assert result.exit_code == 0 and "Example" in result.output
