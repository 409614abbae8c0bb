"""``--format sarif`` is valid SARIF 2.1.0 (the OASIS schema, vendored in tests/data/sarif)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.report.sarif import render_sarif

jsonschema = pytest.importorskip("jsonschema")
SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())


def validate(doc):
    jsonschema.Draft4Validator(SCHEMA).validate(doc)


def test_empty_run_is_valid():
    validate(json.loads(render_sarif([])))


def test_findings_with_fixes_and_related_locations():
    findings = [
        Finding("LW101", "COPY before install", "docker/Dockerfile", 3, 1, 3, 9, "error",
                Fix("safe", "layout"), "copy requirements first", (("docker/Dockerfile", 5),)),  # fmt: skip
        Finding("LW502", "ADD -> COPY", "Dockerfile", 2, 1, 2, 11, "info",
                Fix("safe", "ADD -> COPY", (Edit("Dockerfile", 17, 20, "COPY"),))),  # fmt: skip
        Finding("LW302", "root only", "/abs/path with space/.dockerignore", 1, 1, severity="warning"),
    ]
    doc = json.loads(render_sarif(findings))
    validate(doc)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert [r["ruleId"] for r in run["results"]] == ["LW101", "LW502", "LW302"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
    assert run["results"][1]["level"] == "note"
    assert run["results"][1]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "COPY"
    # GitHub code scanning wants relative URIs for files in the repository
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "docker/Dockerfile"


def test_cli_sarif_on_corpus_like_file(tmp_path, capsys):
    from layerwise.cli import main

    df = tmp_path / "Dockerfile"
    df.write_text("FROM python\nADD . /app\nRUN pip install -r /app/requirements.txt\nCMD python /app/x.py\n")
    with pytest.raises(SystemExit):
        main(["check", str(df), "--format", "sarif"])
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"LW101", "LW105", "LW201", "LW502", "LW504"}


def test_every_rule_has_a_help_uri_to_its_page_in_the_repository():
    from urllib.parse import urlparse

    from layerwise.analyses.rules import all_rules
    from layerwise.report.sarif import RULES_URL

    doc = json.loads(render_sarif([]))
    validate(doc)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(all_rules())
    docs = Path(__file__).parents[2] / "docs" / "rules"
    for r in rules:
        uri = urlparse(r["helpUri"])
        assert uri.scheme == "https" and uri.netloc, r["helpUri"]  # SARIF: an absolute URI
        assert r["helpUri"] == f"{RULES_URL}{r['id']}.md"
        assert (docs / f"{r['id']}.md").is_file(), r["helpUri"]  # the page the URI names exists here
        assert RULES_URL.endswith("/docs/rules/")


def test_rule_and_rules_json_give_the_same_url(capsys):
    from layerwise.cli import main
    from layerwise.report.sarif import help_uri

    with pytest.raises(SystemExit) as exc:
        main(["rule", "lw201", "--format", "json"])
    assert exc.value.code == 0 and json.loads(capsys.readouterr().out)["url"] == help_uri("LW201")
    with pytest.raises(SystemExit):
        main(["rules", "--format", "json"])
    listed = json.loads(capsys.readouterr().out)
    assert all(r["url"] == help_uri(r["code"]) and r["url"].endswith(f"/docs/rules/{r['code']}.md") for r in listed)
