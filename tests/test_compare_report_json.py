"""The compare report is strict JSON, whatever the stored recording's ledger says: a file from
a pull request may hold ``NaN`` or ``Infinity`` (Python's json writes and reads them; other
parsers, ``jq`` among them, refuse the report). Adversarial review of issue 21."""

from __future__ import annotations

import json

from .test_review21_compare import recorded


def _refuse(constant: str) -> None:
    raise ValueError(f"not JSON: {constant}")


def test_a_damaged_stored_ledger_leaves_the_report_strict_json(pytester):
    recorded(pytester, 1)
    [path] = (pytester.path / "recordings").glob("*.json")
    entry = json.loads(path.read_text())
    entry["ledger"]["seconds"] = float("nan")
    entry["ledger"]["usage"] = {"input_tokens": float("inf"), "output_tokens": 3}
    path.write_text(json.dumps(entry))
    pytester.runpytest("--apirec-mode=compare", "--apirec-compare-report=report.json")
    text = (pytester.path / "report.json").read_text()
    report = json.loads(text, parse_constant=_refuse)
    [call] = [c for test in report["tests"].values() for c in test]
    assert call["ledger"]["stored"]["seconds"] is None  # unknown, as the ledger reads it
    assert call["ledger"]["stored"]["usage"]["output_tokens"] == 3
