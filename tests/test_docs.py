"""Every code block of README.md, docs/ and examples/ is shown true (see tests/doc_blocks.py)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.doc_blocks import (
    ROOT,
    SHELL,
    Block,
    blocks,
    files_the_suite_runs,
    inline_commands,
    missing_lines,
    pages,
)
from tests.doc_commands import command_problems, inline_problems, plugin_options
from tests.doc_config import config_problem
from tests.doc_sessions import is_session, session_problems, shows_output

BLOCKS = [block for page in pages() for block in blocks(page)]
PYTHON = [block for block in BLOCKS if block.lang == "python" and block.not_run is None]
# blocks marked "Not run by apirec's CI: REASON." (software CI cannot install): only compiled.
# Each is listed here by its page and first line, so that marking one more is a visible change.
NOT_RUN = [block for block in BLOCKS if block.not_run is not None]
NOT_RUN_EXPECTED = {
    ("docs/integrations.md", "# tests/integration/conftest.py, after what is there"),
    ("docs/integrations.md", "# tests/integration/apirec_app.py"),
    ("docs/integrations.md", "env -u OGX_TEST_INFERENCE_MODE OGX_CONFIG=ci-tests \\"),
}
# blocks that show commands with their output: run and compared (tests/doc_sessions.py), or
# listed here with the state they need that no committed directory holds, so that one more is a
# visible change (the remote store's sessions run against a local S3 server: none is left)
SESSIONS = [block for block in BLOCKS if is_session(block) and shows_output(block)]
OUTPUT_NOT_CHECKED: dict[tuple[str, str], str] = {}
CONFIG = [block for block in BLOCKS if block.lang in ("toml", "ini")]
# shell blocks, and plain blocks that show a command at a prompt with its output
SHELL_BLOCKS = [
    block
    for block in BLOCKS
    if block.lang in SHELL or (not block.lang and block.text.lstrip().startswith("$ "))
]
SCRIPTS = sorted(p for p in (ROOT / "examples" / "docs").glob("*.py") if not p.name.startswith("_"))
PROJECTS = {p.parent for p in (ROOT / "examples").glob("*/pytest.ini")}
# the example files the suite runs (tests/doc_blocks.py): those a block may be tied to
RUN_BY_THE_SUITE = files_the_suite_runs(SCRIPTS, PROJECTS)
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


def never_run(source: str) -> set[str]:
    """The functions a block run as a script defines when it neither calls nor uses any of
    them (an ``async def main()`` never run, a fixture no test asks for): their bodies would
    never run, so nothing shows they work; empty when one is used or none is defined."""
    tree = ast.parse(source)
    defined = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return set() if defined & used else defined


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


@pytest.mark.parametrize("block", [b for b in PYTHON if b.links], ids=where)
def test_block_comes_from_files_that_run(block: Block) -> None:
    for link in block.links:
        assert link.is_file(), f"{block.where}: links {link}, which does not exist"
        assert link in RUN_BY_THE_SUITE, f"{block.where}: {link} is not run by the test suite"
    assert missing_lines(block) == [], f"{block.where}: lines not in {block.links}"
    # its `...` lines are elisions: as Ellipsis, the block compiles as the files it comes from
    assert syntax_error(block) is None, f"{block.where}: {syntax_error(block)}"


@pytest.mark.parametrize("block", [b for b in PYTHON if not b.links], ids=where)
def test_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    if not defines_tests(block) and syntax_error(block) is None:
        unused = never_run(block.text)
        assert not unused, f"{block.where}: defines {sorted(unused)}, and never runs them"
    done = run_as_written(block, tmp_path)
    assert done.returncode == 0, f"{block.where}:\n{block.text}\n{done.stderr}"


def test_the_blocks_not_run_are_these() -> None:
    found = {(str(b.page.relative_to(ROOT)), b.text.splitlines()[0]) for b in NOT_RUN}
    assert found == NOT_RUN_EXPECTED


@pytest.mark.parametrize("block", NOT_RUN, ids=where)
def test_block_not_run_says_why_and_compiles(block: Block) -> None:
    # a json block so marked is only parsed (tests/test_docs_data.py)
    # a shell block so marked runs in another project: its pytest options are that project's
    shell = ("bash", "sh")
    assert block.lang in ("python", "json", *shell), f"{block.where}: only Python, JSON, shell"
    assert block.not_run, f"{block.where}: 'Not run by apirec's CI:' gives no reason"
    if block.lang == "python":
        assert syntax_error(block) is None, f"{block.where}: {syntax_error(block)}"


@pytest.mark.parametrize("block", [b for b in SESSIONS if b.run_in], ids=where)
def test_shown_output_is_what_the_commands_print(block: Block, tmp_path: Path) -> None:
    differences = session_problems(block, tmp_path, NO_KEYS)
    assert differences is None, f"{block.where}:\n{differences}"


def test_the_outputs_not_checked_are_these() -> None:
    found = {
        (str(b.page.relative_to(ROOT)), b.text.splitlines()[0])
        for b in SESSIONS
        if b.run_in is None
    }
    assert found == set(OUTPUT_NOT_CHECKED)


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
def test_shell_block_commands_work_when_pasted(block: Block) -> None:
    assert plugin_options().takes_value, "pytest --help showed no apirec option"
    assert command_problems(block, NO_KEYS) == []


INLINE = [span for page in pages() for span in inline_commands(page)]


@pytest.mark.parametrize("span", INLINE, ids=where)
def test_inline_command_of_the_prose_works_when_pasted(span: Block) -> None:
    assert inline_problems(span, NO_KEYS) == []


def test_the_checks_catch_broken_examples(tmp_path: Path) -> None:
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
    assert command_problems(shell, NO_KEYS) == [
        "apirec ls recordings/ --no-such-option: apirec: error: unrecognized arguments: "
        "--no-such-option",
        "pytest --apirec-no-such-option: unknown option --apirec-no-such-option",
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
