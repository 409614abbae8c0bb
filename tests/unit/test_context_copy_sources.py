"""``layerwise context`` names the COPY/ADD of the Dockerfile that copies a secret."""

from __future__ import annotations

import json

from tests.shared import run_cli


def test_secret_copied_by_named_instruction(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\nWORKDIR /app\nCOPY requirements.txt .\nCOPY . .\n")
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / ".env").write_text("TOKEN=1\n")
    result = run_cli(["context", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert ".env" in result.output and "Dockerfile:4:1" in result.output


def test_secret_not_copied_when_only_named_files_are(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\nCOPY app.py /app/\n")
    (tmp_path / "app.py").write_text("")
    (tmp_path / ".env").write_text("TOKEN=1\n")
    result = run_cli(["context", str(tmp_path), "--format", "json"])
    data = json.loads(result.output)
    text = json.dumps(data)
    assert ".env" in text  # sent to the builder...
    assert "Dockerfile:2" not in text  # ...but no COPY puts it in the image
