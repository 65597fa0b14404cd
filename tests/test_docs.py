"""Every code block of README.md, docs/ and examples/ is shown true (see tests/doc_blocks.py)."""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from apirec.cli.parser import build as _parser
from tests.doc_blocks import ROOT, SHELL, Block, blocks, missing_lines, pages, shell_commands
from tests.doc_config import config_problem
from tests.doc_sessions import is_session, output_differences, run_session, shows_output

BLOCKS = [block for page in pages() for block in blocks(page)]
PYTHON = [block for block in BLOCKS if block.lang == "python" and block.not_run is None]
# blocks marked "Not run by apirec's CI: REASON." (software CI cannot install): only compiled.
# Each is listed here by its page and first line, so that marking one more is a visible change.
NOT_RUN = [block for block in BLOCKS if block.not_run is not None]
NOT_RUN_EXPECTED = {
    ("docs/integrations.md", "# tests/integration/conftest.py, after what is there"),
    ("docs/integrations.md", "# tests/integration/apirec_app.py"),
}
# blocks that show commands with their output: run and compared (tests/doc_sessions.py), or
# listed here with the state they need that no committed directory holds, so that one more is a
# visible change (the remote store's sessions run against a local S3 server: none is left)
SESSIONS = [block for block in BLOCKS if is_session(block) and shows_output(block)]
OUTPUT_NOT_CHECKED: dict[tuple[str, str], str] = {}
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
CONFIG = [block for block in BLOCKS if block.lang in ("toml", "ini")]
# shell blocks, and plain blocks that show a command at a prompt with its output
SHELL_BLOCKS = [
    block
    for block in BLOCKS
    if block.lang in SHELL or (not block.lang and block.text.lstrip().startswith("$ "))
]
SCRIPTS = sorted(p for p in (ROOT / "examples" / "docs").glob("*.py") if not p.name.startswith("_"))
PROJECTS = {p.parent for p in (ROOT / "examples").glob("*/pytest.ini")}
# a fork's pull request has no keys: the docs' code must run without them (nor as an xdist
# worker of this run: a doc's own pytest is a run of its own)
NO_KEYS = {
    k: v for k, v in os.environ.items() if not re.search(r"API_KEY|BASE_URL|APIREC_|^PYTEST_", k)
}
RUN_AS_WRITTEN = """
import ast, asyncio, inspect, sys
code = compile(sys.stdin.read(), sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if inspect.iscoroutine(result):
    asyncio.run(result)
"""


# a block that defines tests is a test module: recorded against the stand-in API, then replayed
RECORD_AGAINST_THE_STAND_IN = """
import sys
sys.path.insert(0, sys.argv[1])
import pytest
from _services import stand_in
with stand_in():
    sys.exit(pytest.main(sys.argv[2:]))
"""
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist"]


def where(block: Block) -> str:
    return block.where


def defines_tests(block: Block) -> bool:
    """Whether the block defines what pytest collects: ``test*`` functions, ``Test*`` classes."""
    try:
        tree = ast.parse(block.text)
    except SyntaxError:
        return False
    return any(
        (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"))
        or (isinstance(node, ast.ClassDef) and node.name.startswith("Test"))
        for node in tree.body
    )


def uncalled_tests(source: str) -> set[str]:
    """The test functions a doc script defines but neither calls nor gives to pytest (a script
    runs as ``python script.py``: nothing else would run them)."""
    tree = ast.parse(source)
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    runs_itself = re.search(r'"-m",\s*"pytest"', source) and "__file__" in source
    return set() if runs_itself else defined - called


def run_tests_as_written(block: Block, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the block as a pytest module in ``cwd``: first recording (``--apirec-mode=record``)
    against the stand-in API of examples/stand_ins/api.py, then replaying with no keys and no
    stand-in; the first run that fails is returned, else the replay."""
    (cwd / "test_block.py").write_text(block.text + "\n", encoding="utf-8")
    (cwd / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    docs = str(ROOT / "examples" / "docs")
    runs = [
        [
            sys.executable,
            "-c",
            RECORD_AGAINST_THE_STAND_IN,
            docs,
            *PYTEST_ARGS,
            "--apirec-mode=record",
        ],
        [sys.executable, "-m", "pytest", *PYTEST_ARGS, "--apirec-mode=replay"],
    ]
    for argv in runs:
        done = subprocess.run(
            [*argv, "test_block.py"],
            cwd=cwd,
            env=NO_KEYS,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            done.stderr = f"{block.where}: {argv[-1]}:\n{done.stdout}{done.stderr}"
            return done
    return done


def run_as_written(block: Block, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the block as a script, or as a test module when it defines tests (whose bodies a
    script would only define, never run)."""
    if defines_tests(block):
        return run_tests_as_written(block, cwd)
    return subprocess.run(
        [sys.executable, "-c", RUN_AS_WRITTEN, block.where],
        input=block.text,
        cwd=cwd,
        env=NO_KEYS,
        capture_output=True,
        text=True,
        timeout=60,
    )


def syntax_error(block: Block) -> str | None:
    """Why the block does not compile as Python (top-level ``await`` allowed), or None."""
    try:
        compile(block.text, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as error:
        return f"{error.msg} (line {error.lineno})"
    return None


def unknown_options(block: Block, known: set[str]) -> list[str]:
    """The commands of a shell block that apirec would refuse, with why."""
    wrong: list[str] = []
    for argv in shell_commands(block):
        if argv[:3] == ["python", "-m", "apirec"]:
            argv = ["apirec", *argv[3:]]
        if argv[0] == "apirec":
            try:
                _parser().parse_args(argv[1:])
            except SystemExit as stopped:  # --help exits 0
                if stopped.code != 0:
                    wrong.append(" ".join(argv))
        if argv[0] == "pytest" or argv[:3] == ["python", "-m", "pytest"]:
            options = {arg.split("=")[0] for arg in argv if arg.startswith("--apirec")}
            wrong += sorted(options - known)
    return wrong


@pytest.fixture(scope="module")
def pytest_options() -> set[str]:
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return set(re.findall(r"--apirec[\w-]+", shown))


@pytest.mark.parametrize("block", [b for b in PYTHON if b.links], ids=where)
def test_block_comes_from_files_that_run(block: Block) -> None:
    for link in block.links:
        assert link.is_file(), f"{block.where}: links {link}, which does not exist"
        runs = link in SCRIPTS or any(project in link.parents for project in PROJECTS)
        assert runs, f"{block.where}: {link} is neither in examples/docs nor in an example project"
    assert missing_lines(block) == [], f"{block.where}: lines not in {block.links}"


@pytest.mark.parametrize("block", [b for b in PYTHON if not b.links], ids=where)
def test_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    done = run_as_written(block, tmp_path)
    assert done.returncode == 0, f"{block.where}:\n{block.text}\n{done.stderr}"


def test_the_blocks_not_run_are_these() -> None:
    found = {(str(b.page.relative_to(ROOT)), b.text.splitlines()[0]) for b in NOT_RUN}
    assert found == NOT_RUN_EXPECTED


@pytest.mark.parametrize("block", NOT_RUN, ids=where)
def test_block_not_run_says_why_and_compiles(block: Block) -> None:
    assert block.lang == "python", f"{block.where}: only Python blocks may be left unrun"
    assert block.not_run, f"{block.where}: 'Not run by apirec's CI:' gives no reason"
    assert syntax_error(block) is None, f"{block.where}: {syntax_error(block)}"


@pytest.mark.parametrize("block", [b for b in SESSIONS if b.run_in], ids=where)
def test_shown_output_is_what_the_commands_print(block: Block, tmp_path: Path) -> None:
    differences = output_differences(block.text, run_session(block, tmp_path, NO_KEYS))
    assert differences is None, f"{block.where}:\n{differences}"


def test_the_outputs_not_checked_are_these() -> None:
    found = {
        (str(b.page.relative_to(ROOT)), b.text.splitlines()[0])
        for b in SESSIONS
        if b.run_in is None
    }
    assert found == set(OUTPUT_NOT_CHECKED)


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


@pytest.mark.parametrize("block", CONFIG, ids=where)
def test_config_block_is_accepted_by_pytest_and_the_plugin(block: Block, tmp_path: Path) -> None:
    assert config_problem(block, tmp_path, NO_KEYS) is None


def test_docs_examples_run_the_tests_they_define() -> None:
    never = {s.name: uncalled_tests(s.read_text("utf-8")) for s in SCRIPTS}
    assert {name: tests for name, tests in never.items() if tests} == {}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_docs_example_runs(script: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=NO_KEYS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=where)
def test_shell_block_commands_exist(block: Block, pytest_options: set[str]) -> None:
    assert pytest_options, "pytest --help showed no apirec option"
    assert unknown_options(block, pytest_options) == []


def test_the_checks_catch_broken_examples(tmp_path: Path, pytest_options: set[str]) -> None:
    source = tmp_path / "example.py"
    source.write_text("import apirec\nvalue = apirec.encode(1)\n")
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            ```python
            import apirec
            value = apirec.encode(2)
            ```
            <sub>Complete: [example.py](example.py)</sub>

            ```python
            import apirec
            apirec.no_such_function()
            ```

            ```bash
            apirec ls recordings/ --no-such-option
            pytest --apirec-no-such-option
            ```

            ```python
            async def main():
                await apirec.no_such_function()
            reply = await main(
            ```
            <sub>Not run by apirec's CI: it needs a stack.</sub>

            ```python
            import apirec
            ```
            <sub>Not run by apirec's CI: </sub>
            """
        )
    )
    linked, unlinked, shell, not_run, no_reason = blocks(page)
    assert missing_lines(linked) == ["value = apirec.encode(2)"]
    failed = run_as_written(unlinked, tmp_path)
    assert failed.returncode != 0 and "no_such_function" in failed.stderr
    assert unknown_options(shell, pytest_options) == [
        "apirec ls recordings/ --no-such-option",
        "--apirec-no-such-option",
    ]
    # a block marked not run is still compiled, and must say why
    assert not_run.not_run == "it needs a stack"
    assert syntax_error(not_run) == "'(' was never closed (line 3)"
    assert no_reason.not_run == "" and syntax_error(no_reason) is None


def test_the_stand_in_api_reports_a_streams_usage_when_asked(tmp_path: Path) -> None:
    """examples/stand_ins/api.py ignored stream_options.include_usage: the example that asks
    for a stream's usage recorded a ledger with none (apirec stats counted 0 tokens)."""
    docs = ROOT / "examples" / "docs"
    run = f"import sys; sys.path.insert(0, {str(docs)!r}); import openai_calls; openai_calls.main()"
    done = subprocess.run(
        [sys.executable, "-c", run], cwd=tmp_path, env=NO_KEYS, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    asked = []
    for path in (tmp_path / "tests" / "recordings").rglob("*.json"):
        entry = json.loads(path.read_text())
        body = entry["request"]["args"].get("stream_options")
        if entry["response"].get("is_streaming") and body:
            asked.append(entry["ledger"].get("usage"))
    assert asked and all(u == {"input_tokens": 41, "output_tokens": 12} for u in asked), asked
