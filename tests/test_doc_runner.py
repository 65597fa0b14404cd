"""Review of issue 20 point 1: "a doc example that breaks must fail CI". Ways a doc block is
wrong and tests/test_docs.py still passes it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.doc_blocks import ROOT, blocks
from tests.test_docs import run_as_written


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(text))
    return page


@pytest.mark.xfail(
    strict=True,
    reason=(
        "not fixed yet (review 20, item 5 of the runner): run_as_written only defines a "
        "block's test functions; calling them needs the doc blocks i-docsrun is fixing to pass "
        "first"
    ),
)
def test_a_test_function_in_a_block_is_run(tmp_path: Path) -> None:
    # "runs as written" only defines the function: its body never runs
    (block,) = blocks(
        _page(
            tmp_path,
            """\
            ```python
            def test_weather():
                assert no_such_function("Paris") == "wrong"
            ```
            """,
        )
    )
    done = run_as_written(block, tmp_path)
    assert done.returncode != 0, "a test that cannot run passed as a doc example"


@pytest.mark.xfail(
    strict=True,
    reason=(
        "not fixed yet: docs/integrations.md's MCP block is i-docsrun's to fix (imports, "
        "servers/notes.py, its recordings)"
    ),
)
def test_the_mcp_example_of_integrations_md_runs(tmp_path: Path) -> None:
    # docs/integrations.md's MCP block passes test_block_runs_as_written, yet calling the test
    # it shows fails at once: apirec and integrations are never imported (and servers/notes.py
    # and its recordings do not exist)
    (block,) = [
        b
        for b in blocks(ROOT / "docs" / "integrations.md")
        if "async def test_agent_reads_notes" in b.text
    ]
    called = type(block)(
        block.page,
        block.line,
        block.lang,
        block.text + "\n\nawait test_agent_reads_notes()\n",
        block.links,
    )
    done = run_as_written(called, tmp_path)
    assert done.returncode == 0, done.stderr[-400:]


def test_a_fence_with_an_info_string_is_checked(tmp_path: Path) -> None:
    # ```python title="x"``` (or an indented fence in a list item) is not a block at all
    found = blocks(
        _page(
            tmp_path,
            """\
            ```python title="weather.py"
            no_such_function()
            ```

            1. then:

               ```python
               no_such_function()
               ```
            """,
        )
    )
    assert [b.lang for b in found] == ["python", "python"], found


@pytest.mark.xfail(
    strict=True,
    reason=(
        "not fixed yet: shell blocks' shown output is not compared with what the command "
        "prints; docs/cli.md's ls output is i-docsrun's to update"
    ),
)
def test_the_output_a_page_shows_is_the_output(capsys, monkeypatch) -> None:
    # issue 20 point 1: "with the output the page shows". Shell blocks are only parsed, so
    # docs/cli.md still shows `apirec ls` without the TOKENS and TOOK columns it prints since
    # issue 21 point 3, and the suite passes.
    from apirec.cli.app import main

    (block,) = [
        b
        for b in blocks(ROOT / "docs" / "cli.md")
        if "$ apirec ls tests/data/llama_stack --function 'tavily.*'" in b.text
    ]
    shown = block.text.split("$ apirec ls tests/data/llama_stack --function 'tavily.*'")[1]
    shown_header = shown.strip().splitlines()[0].split()
    monkeypatch.chdir(ROOT)  # "run from the repository's root"
    assert main(["ls", "tests/data/llama_stack", "--function", "tavily.*"]) == 0
    printed_header = capsys.readouterr().out.splitlines()[0].split()
    # happened: [..., 'ERROR', 'TOKENS', 'TOOK', 'AGE', 'SIZE'] printed, the page shows
    # [..., 'ERROR', 'AGE', 'SIZE']
    assert printed_header == shown_header
