"""The blocks of README.md, docs/ and examples/ that show output with no command that prints
it (an error, a summary line, a picture): each is listed with why, and what the reason promises
is checked (see CONTRIBUTING "Docs whose code runs")."""

from __future__ import annotations

import builtins
import re

import pytest

from tests.doc_blocks import ROOT, Block
from tests.doc_sessions import is_session
from tests.test_docs import BLOCKS, PROJECTS, where

# blocks without a language that show no command: output with nothing that prints it (an
# error, a summary line), or a picture. Each is made a session above (the command that prints
# it, run and compared), or listed here with why it is shown as it is, so that one more is a
# visible change and none is taken silently. Reasons of the kinds LISTING, PICTURE and
# EXAMPLE_RUN are checked by the tests below; NEEDS says what a run would need and which test
# asserts the wording instead (a phrase both the page and that test hold, checked below).
SHOWN = [block for block in BLOCKS if not block.lang and not is_session(block)]
LISTING = "the project's files: each listed path must exist"
PICTURE = "a picture of the code, not output: the classes it names must be apirec.errors'"
DIAGRAM = "a diagram of the code's layout and paths, not output (docs/architecture.md)"
EXAMPLE_RUN = "the summary line of the project's replay, compared by tests/test_examples.py"


WORDING_REKEY_RULES = "This call matches recordings of this test made under older key rules"


def _needs(what: str, test: str, wording: str) -> str:
    """Why a block is shown, not run: what a run would need, and the test that asserts the
    block's ``wording``, which both must hold (test_a_needed_run_is_asserted_by_its_test)."""
    return f"needs {what}; tests/{test} asserts this wording: {wording}"


SHOWN_NOT_RUN = {
    ("docs/architecture.md", "apirec/"): DIAGRAM,
    ("docs/architecture.md", ' your code: await chat("hi")'): DIAGRAM,
    ("docs/architecture.md", "            ┌─────────────────────┬─────────────────────┐"): DIAGRAM,
    ("docs/how-it-works.md", "ApirecError"): PICTURE,
    (
        "docs/how-it-works.md",
        "apirec.errors.SequenceExhausted: call 3 of openai.chat.completions.create() but 2 "
        "answers were recorded for it (mode 'replay'): the code under test now makes this call "
        "more often than when it was recorded.",
    ): _needs(
        "an agent's project recorded against openai",
        "test_plugin_sequences.py",
        "on apirec.recording(), @pytest.mark.apirec, --apirec-repeats",
    ),
    (
        "docs/pytest.md",
        "apirec: 900 replayed, 0 recorded, 0 live, 0 missed; saved 14m 02s of live calls and "
        "1.2M tokens ($3.06); 0 stored recordings no test used",
    ): _needs("a suite of 900 calls recorded live", "test_plugin_savings.py", "of live calls and"),
    (
        "docs/pytest.md",
        "apirec: 0 replayed, 2 recorded, 0 live, 0 missed; recording spent 2.1s and 3.0k tokens "
        "of the 2k budget; 0 stored recordings no test used",
    ): _needs(
        "a live service that spends tokens", "test_plugin_budget.py", "3.0k tokens of the 2k budget"
    ),
    (
        "docs/pytest.md",
        "apirec: 1 test connected to a non-loopback host outside any recording in this replay "
        "run; block them with --apirec-block-network=all (ini apirec_block_network = all)",
    ): _needs(
        "a non-loopback host to connect to",
        "test_plugin_network_run.py",
        "connected to a non-loopback host outside any recording",
    ),
    ("docs/servers.md", "ERROR at teardown of test_chat"): _needs(
        "an ASGI app served in its own process",
        "test_servers_run_app.py",
        "To record it, run the test with the mode (the server must follow it):",
    ),
    (
        "docs/staying-true.md",
        "openai.types.chat.chat_completion.ChatCompletion  [BREAKS REPLAY]",
    ): _needs(
        "3,000 recordings made with an older openai",
        "test_drift.py",
        "openai.types.chat.chat_completion",
    ),
    (
        "docs/staying-true.md",
        "------------------------------- apirec compare -------------------------------",
    ): _needs(
        "live services that answer differently",
        "test_plugin_compare.py",
        "the run fails: 1 live answer changed structure",
    ),
    ("docs/staying-true.md", "No recording of demo.add() for this call (mode 'replay')."): _needs(
        "a project with a renamed test", "test_plugin_rekey.py", "a test this run did not collect"
    ),
    (
        "docs/staying-true.md",
        "No recording of demo.lookup() for this call (mode 'replay').",
    ): _needs(
        "recordings made under older key rules", "test_plugin_rekey_rules.py", WORDING_REKEY_RULES
    ),
    (
        "docs/staying-true.md",
        "apirec: moved 3 recordings made under older key rules (ignore=, normalize=, scrub=...) "
        "to their keys today (--apirec-rekey):",
    ): _needs(
        "recordings made under older key rules",
        "test_plugin_rekey_rules.py",
        "moved 3 recordings made under older key rules",
    ),
    ("examples/anthropic_stream/README.md", "chat.py               the code under test"): LISTING,
    (
        "examples/mcp_agent/README.md",
        "notes_server.py       the MCP server (stands for any: a database, a ticket system...)",
    ): LISTING,
    ("examples/openai_agent/README.md", "agent.py              the agent: the code under test"): (
        LISTING
    ),
    ("examples/quickstart/README.md", "myapp/llm.py          the decorated function"): LISTING,
    **{
        (
            f"examples/{name}/README.md",
            f"apirec: {n} replayed, 0 recorded, 0 live, 0 missed; 0 stored recordings no test used",
        ): EXAMPLE_RUN
        for name, n in [
            ("anthropic_stream", 3),
            ("mcp_agent", 5),
            ("ogx_migration", 1),
            ("openai_agent", 6),
            ("quickstart", 1),
        ]
    },
    (
        "examples/weather/README.md",
        "apirec: 3 replayed, 0 recorded, 0 live, 0 missed; saved 0.41s of live calls and 53 "
        "tokens; 0 stored recordings no test used",
    ): EXAMPLE_RUN,
    (
        "examples/weather/README.md",
        "apirec: 0 replayed, 1 recorded, 0 live, 0 missed; 1 stored recording no test used "
        "(counting only the tests that ran; delete with --apirec-prune; -v lists them)",
    ): EXAMPLE_RUN,
    (
        "examples/weather/README.md",
        "apirec: 3 replayed, 0 recorded, 0 live, 0 missed; saved 0.41s of live calls and 53 "
        "tokens; deleted 1 unused recording",
    ): EXAMPLE_RUN,
}


def shown_unaccounted(shown: list[Block], listed: dict[tuple[str, str], str]) -> list[str]:
    """The blocks that show output with no command that prints it and are not listed (with a
    reason) as shown not run; and the listed ones no page holds any more."""
    found = {block_key(b): b.where for b in shown}
    wrong = [f"{where}: output with no command: make it a session, or list it with why"
             for key, where in found.items() if not listed.get(key, "").strip()]  # fmt: skip
    return wrong + [f"{key}: listed, but no page shows it" for key in listed if key not in found]


def block_key(block: Block) -> tuple[str, str]:
    page = block.page.relative_to(ROOT) if ROOT in block.page.parents else block.page
    return (str(page), block.text.splitlines()[0])


def test_the_blocks_shown_not_run_are_these() -> None:
    assert shown_unaccounted(SHOWN, SHOWN_NOT_RUN) == []


@pytest.mark.parametrize(
    "block",
    [b for b in SHOWN if SHOWN_NOT_RUN.get(block_key(b), "").startswith("needs")],
    ids=where,
)
def test_a_needed_run_is_asserted_by_its_test(block: Block) -> None:
    """A block shown, not run, shows wording its named test asserts: a message that changes
    fails that test, and the page must follow."""
    found = re.search(
        r"tests/(\w+\.py) asserts this wording: (.+)$", SHOWN_NOT_RUN[block_key(block)]
    )
    assert found, SHOWN_NOT_RUN[block_key(block)]
    test, wording = found.groups()
    assert wording in " ".join(block.text.split()), f"{block.where}: does not show {wording!r}"
    assert wording in (ROOT / "tests" / test).read_text(), f"tests/{test} never says {wording!r}"


def test_a_reason_names_tests_that_exist() -> None:
    named = {
        name for reason in SHOWN_NOT_RUN.values() for name in re.findall(r"tests/(\w+\.py)", reason)
    }
    assert named and {name for name in named if not (ROOT / "tests" / name).is_file()} == set()


@pytest.mark.parametrize(
    "block", [b for b in SHOWN if SHOWN_NOT_RUN.get(block_key(b)) == LISTING], ids=where
)
def test_a_listing_names_files_that_exist(block: Block) -> None:
    listed = [line.split()[0] for line in block.text.splitlines() if line.strip()]
    assert [p for p in listed if not (block.page.parent / p).exists()] == []


@pytest.mark.parametrize(
    "block", [b for b in SHOWN if SHOWN_NOT_RUN.get(block_key(b)) == EXAMPLE_RUN], ids=where
)
def test_an_example_run_line_is_compared_by_test_examples(block: Block) -> None:
    # tests/test_examples.py runs each project and looks for the line its README shows
    assert block.page.parent in PROJECTS and block.text.startswith("apirec: ")
    assert len(block.text.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "block", [b for b in SHOWN if SHOWN_NOT_RUN.get(block_key(b)) == PICTURE], ids=where
)
def test_the_error_tree_is_the_code(block: Block) -> None:
    import apirec.errors

    parents: list[tuple[int, type]] = []
    for line in block.text.splitlines():
        match = re.match(r"^([ │├└─]*)(\w+)\s*(?:\((\w+)\))?", line)
        if not match or not match.group(2):
            continue
        depth, name, also = len(match.group(1)), match.group(2), match.group(3)
        cls = getattr(apirec.errors, name, None)
        assert isinstance(cls, type), f"{block.where}: {name} is not in apirec.errors"
        while parents and parents[-1][0] >= depth:
            parents.pop()
        if parents:
            assert parents[-1][1] in cls.__bases__, f"{name} is not a {parents[-1][1].__name__}"
        if also:
            assert issubclass(cls, getattr(builtins, also)), f"{name} is not a {also}"
        parents.append((depth, cls))
