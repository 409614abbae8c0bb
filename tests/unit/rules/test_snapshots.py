"""Each rule's fixture (fixtures/LWxxx/) against its readable snapshot (snapshots/LWxxx.snap):
what ``check`` reports, the diff ``fix`` makes and what is left (see snapshots.py)."""

from __future__ import annotations

import pytest

from layerwise.analyses.rules import all_rules
from tests.unit.rules import snapshots


def test_every_rule_has_a_fixture_and_a_snapshot():
    assert snapshots.codes() == sorted(all_rules()), "add tests/unit/rules/fixtures/LWxxx/ for a new rule"
    stored = sorted(p.stem for p in snapshots.SNAPSHOTS.glob("*.snap"))
    assert stored == snapshots.codes(), f"run `{snapshots.COMMAND}`"


@pytest.mark.parametrize("code", snapshots.codes())
def test_snapshot(code):
    diff = snapshots.difference(code)
    if diff:
        pytest.fail(f"{code}: the output differs from snapshots/{code}.snap; if intended, run "
                    f"`{snapshots.COMMAND} {code}` and review the diff:\n{diff}", pytrace=False)  # fmt: skip


def test_a_changed_output_is_shown_as_a_diff(monkeypatch, tmp_path):
    """The check can fail: a snapshot that says something else is reported with its diff."""
    monkeypatch.setattr(snapshots, "SNAPSHOTS", tmp_path)
    (tmp_path / "LW502.snap").write_text(snapshots.render("LW502").replace("ADD", "COPY", 1))
    diff = snapshots.difference("LW502")
    assert diff.startswith("--- snapshots/LW502.snap\n+++ now\n")
    assert any(line.startswith("+") and "ADD" in line for line in diff.splitlines()[2:])
    assert snapshots.main(["LW502"]) == 1
    assert snapshots.main(["--update", "LW502"]) == 0 and snapshots.difference("LW502") == ""
    assert snapshots.main(["LW502"]) == 0
