"""Review of issue 20: json, yaml and diff blocks were never collected. Each check of
tests/doc_data.py breaks an example here and sees it fail (and a right one pass)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.doc_blocks import ROOT, Block, blocks
from tests.doc_data import (
    COMPARE_REPORT,
    RECORDINGS,
    WRITTEN_BY,
    diff_problem,
    json_key,
    missing_keys,
    parse_json,
    written,
    yaml_problem,
)
from tests.test_docs import NO_KEYS

REPORT = """\
{
  "apirec_compare": 1,
  "totals": {"same": 0, "structure": 1},
  "tests": {
    "tests/test_weather.py::test_today": [
      {"outcome": "structure", "differences": [{"level": "structure", "path": "temp"}]}
    ]
  }
}
"""


def _block(tmp_path: Path, lang: str, text: str, before: str = "") -> Block:
    page = tmp_path / "page.md"
    page.write_text(f"{before}\n```{lang}\n{textwrap.dedent(text)}```\n")
    (block,) = blocks(page)
    return block


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return written(COMPARE_REPORT, tmp_path_factory.mktemp("report"), NO_KEYS)


def test_a_compare_report_shows_the_fields_the_code_writes(tmp_path: Path, report) -> None:
    shown, fragment = parse_json(_block(tmp_path, "json", REPORT))
    assert missing_keys(shown, fragment, report) == []
    # a field the page misspells, in an item of a list of an object keyed by test
    wrong, _ = parse_json(_block(tmp_path, "json", REPORT.replace('"path"', '"field"')))
    assert missing_keys(wrong, fragment, report) == ["tests.tests/test_weather.py::test_today[]"
                                                      ".differences[].field"]  # fmt: skip


def test_a_field_the_code_renames_fails_the_page(report) -> None:
    # the code renames "outcome": the page's compare report (staying-true.md) no longer holds
    renamed = json.loads(json.dumps(report).replace('"outcome"', '"result"'))
    key = next(key for key, what in WRITTEN_BY.items() if what == COMPARE_REPORT)
    page = ROOT / key[0]
    (block,) = [b for b in blocks(page) if b.lang == "json" and json_key(b) == key]
    shown, fragment = parse_json(block)
    assert missing_keys(shown, fragment, report) == []
    assert any(m.endswith(".outcome") for m in missing_keys(shown, fragment, renamed))


def test_a_fragment_is_found_in_any_object_written(tmp_path: Path) -> None:
    recordings = written(RECORDINGS, tmp_path, NO_KEYS)
    ledger = '"ledger": {"seconds": 1.8, "usage": {"input_tokens": 1, "cached_tokens": 1}}\n'
    shown, fragment = parse_json(_block(tmp_path, "json", ledger))
    assert fragment and missing_keys(shown, fragment, recordings) == []
    typo, _ = parse_json(_block(tmp_path, "json", ledger.replace("cached", "cache")))
    assert missing_keys(typo, fragment, recordings) == ["ledger.usage.cache_tokens"]


def test_json_that_does_not_parse_or_is_tied_to_nothing_is_caught(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_json(_block(tmp_path, "json", '{"apirec_compare": 1,}\n'))
    # a new block that shows apirec's JSON must be listed with what writes it, or marked
    assert WRITTEN_BY.get(json_key(_block(tmp_path, "json", REPORT))) is None


PRE_COMMIT = """\
repos:
  - repo: https://github.com/apirec/apirec
    rev: COMMIT
    hooks:
      - id: apirec-scan
"""


def test_a_yaml_block_must_parse_and_name_apirecs_hooks(tmp_path: Path) -> None:
    assert yaml_problem(_block(tmp_path, "yaml", PRE_COMMIT)) is None
    wrong = yaml_problem(_block(tmp_path, "yaml", PRE_COMMIT.replace("apirec-scan", "scan")))
    assert wrong and "apirec has no pre-commit hook ['scan']" in wrong
    broken = yaml_problem(_block(tmp_path, "yml", PRE_COMMIT.replace("    rev", "  rev")))
    assert broken and "not valid YAML" in broken


CHANGE = """\
-    return a + b
+    return a + b + 1
"""


def test_a_diff_block_must_apply_to_the_file_it_changes(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    before = "In `calc.py`, add one:"
    assert diff_problem(_block(tmp_path, "diff", CHANGE, before)) is None
    gone = diff_problem(_block(tmp_path, "diff", CHANGE.replace("a + b\n", "b + a\n", 1), before))
    assert gone and "does not hold the lines the diff changes" in gone
    broken = diff_problem(_block(tmp_path, "diff", CHANGE.replace("+ 1", "+"), before))
    assert broken and "does not compile" in broken
    assert "names no file" in (diff_problem(_block(tmp_path, "diff", CHANGE)) or "")


def test_json_that_no_code_writes_is_marked_and_only_parsed(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```json\n{\"a\": 1}\n```\n<sub>Not run by apirec's CI: a user's file.</sub>\n")
    (block,) = blocks(page)
    assert block.not_run == "a user's file" and parse_json(block) == ({"a": 1}, False)


@pytest.mark.parametrize(
    ("usage", "wrong"),
    [
        ('"input_tokens": 1200, "output_tokens": 300', None),
        ('"input_tokens": "1.2k tokens", "output_tokens": 300', "a string '1.2k tokens'"),
        ('"input_tokens": 1200, "output_tokens": null', "null None on the page, a number"),
        ('"input_tokens": 1200, "output_tokens": true', "a boolean True on the page"),
    ],
)
def test_json_shows_the_types_the_code_writes(
    tmp_path: Path, usage: str, wrong: str | None
) -> None:
    # review 20b: a ledger with strings, null and a bool for token counts passed: keys only
    block = _block(tmp_path, "json", f'"ledger": {{"usage": {{{usage}}}}}\n')
    shown, fragment = parse_json(block)
    problems = missing_keys(shown, fragment, written(RECORDINGS, tmp_path, NO_KEYS))
    assert problems == [] if wrong is None else any(wrong in p for p in problems), problems


def test_a_diff_line_must_be_a_whole_line_of_the_file(tmp_path: Path) -> None:
    # review 20b: a '-' line with its indentation cut off was found inside the line
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    before = "In `calc.py`, add one:"
    cut = diff_problem(_block(tmp_path, "diff", "-return a + b\n+return a + b + 1\n", before))
    assert cut and "does not hold the lines the diff changes" in cut
    part = diff_problem(_block(tmp_path, "diff", "-    return a\n+    return a + 1\n", before))
    assert part and "does not hold the lines the diff changes" in part


@pytest.mark.parametrize(
    ("hook", "wrong"),
    [
        ("        args: [--no-such-option]\n", "unrecognized arguments: --no-such-option"),
        ("        entry: apirec no-such-command\n", "invalid choice: 'no-such-command'"),
        ("        args: [--json]\n", None),
    ],
)
def test_a_pre_commit_hooks_command_is_checked(
    tmp_path: Path, hook: str, wrong: str | None
) -> None:
    # review 20b: a hook's entry and args were never looked at
    problem = yaml_problem(_block(tmp_path, "yaml", PRE_COMMIT + hook), NO_KEYS)
    assert problem is None if wrong is None else (problem and wrong in problem), problem
