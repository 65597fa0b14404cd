"""The ``json``, ``yaml`` and ``diff`` blocks of README.md, docs/ and examples/ are shown true
(tests/doc_data.py says how)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.doc_blocks import Block
from tests.doc_data import (
    WRITTEN_BY,
    diff_problem,
    json_key,
    missing_keys,
    parse_json,
    written,
    yaml_problem,
)
from tests.test_docs import BLOCKS, NO_KEYS, where

JSON = [block for block in BLOCKS if block.lang == "json"]


@pytest.fixture(scope="module")
def what_the_code_writes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """Each ``WRITTEN_BY`` kind, made once per run (per worker) when a block first needs it."""

    class Made(dict[str, list[Any]]):
        def __missing__(self, what: str) -> list[Any]:
            self[what] = written(what, tmp_path_factory.mktemp("written"), NO_KEYS)
            return self[what]

    return Made()


@pytest.mark.parametrize("block", JSON, ids=where)
def test_json_block_shows_what_the_code_writes(
    block: Block, what_the_code_writes: dict[str, list[Any]]
) -> None:
    shown, fragment = parse_json(block)
    if block.not_run is not None:
        assert block.not_run, f"{block.where}: 'Not run by apirec's CI:' gives no reason"
        return
    what = WRITTEN_BY.get(json_key(block))
    assert what, f"{block.where}: tie it to what writes it (doc_data.WRITTEN_BY) or mark it"
    assert missing_keys(shown, fragment, what_the_code_writes[what]) == [], block.where


def test_the_json_blocks_written_by_are_on_the_pages() -> None:
    assert set(WRITTEN_BY) - {json_key(block) for block in JSON} == set()


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang in ("yaml", "yml")], ids=where)
def test_yaml_block_parses_and_names_real_hooks(block: Block) -> None:
    assert yaml_problem(block, NO_KEYS) is None


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "diff"], ids=where)
def test_diff_block_applies_to_the_file_it_changes(block: Block) -> None:
    assert diff_problem(block) is None


def test_each_block_is_of_a_language_the_suite_checks() -> None:
    checked = {"", "python", "bash", "sh", "console", "shell", "json", "yaml", "yml", "diff"}
    checked |= {"toml", "ini", "mermaid"}  # mermaid: a diagram, read by its renderer only
    assert {f"{b.where}: {b.lang}" for b in BLOCKS if b.lang not in checked} == set()
