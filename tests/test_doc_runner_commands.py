"""Review of issue 20 (second adversarial pass, /work/rv/adv20b): ways a doc block was wrong and
tests/test_docs.py still passed it: sessions, commands, values, tied files."""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path

import pytest

from tests.doc_blocks import ROOT, blocks
from tests.doc_commands import command_problems
from tests.doc_sessions import is_session, session_problems, shows_output
from tests.test_docs import NO_KEYS

ROOT_MARKER = "<sub>Output checked: run from the repository's root.</sub>"


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(text))
    return page


def test_a_command_that_fails_inside_a_pipe_fails_the_session(tmp_path: Path) -> None:
    # `$ apirec show nope.json | cat` exited 0: cat's status was the line's
    shown = "$ apirec show tests/recordings/nope.json | cat\n...\n"
    (block,) = blocks(_page(tmp_path, f"```\n{shown}```\n{ROOT_MARKER}\n"))
    problems = session_problems(block, tmp_path, NO_KEYS)
    assert problems and "exited 2; show it with" in problems, problems


@pytest.mark.parametrize("lang", ["bash", "sh", "shell", "console", ""])
def test_a_shell_block_showing_a_prompt_and_output_is_a_session(tmp_path: Path, lang: str) -> None:
    # a bash block with `$ apirec ls` and a made-up count below it was compared with nothing
    shown = "$ apirec ls tests/recordings \\\n    --test x\n42 recordings, 99.9 MB\n"
    (block,) = blocks(_page(tmp_path, f"```{lang}\n{shown}```\n"))
    assert is_session(block) and shows_output(block)
    # test_docs then requires a marker (or a listed reason): without one it is not run
    assert block.run_in is None
    # a command continued over two lines shows no output
    (only,) = blocks(_page(tmp_path, f"```{lang}\n$ apirec ls \\\n    tests/recordings\n```\n"))
    assert is_session(only) and not shows_output(only)


def test_a_bash_session_with_a_marker_is_compared(tmp_path: Path) -> None:
    shown = "$ apirec ls tests/recordings/no-such-dir\n...\n$ echo $?\n0\n"
    (block,) = blocks(_page(tmp_path, f"```bash\n{shown}```\n{ROOT_MARKER}\n"))
    problems = session_problems(block, tmp_path, NO_KEYS)
    assert problems and "the page's echo $? shows '0'" in problems, problems


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["ls", "recordings", "--older-than", "30days"], "--older-than: '30days' is not an age"),
        (["ls", "recordings", "--newer-than", "2 weeks"], "--newer-than: '2 weeks' is not an"),
        (["gc", "s3://b", "recordings", "--min-age", "1week"], "--min-age: '1week' is not an age"),
        (["run", "--mode", "recrod", "--", "true"], "'recrod' is not a valid record mode"),
        (["run", "--store", "xml", "--", "true"], "'xml' is not a valid store (--store)"),
        (["run", "--integrations", "openai,opnai", "--", "true"], "'opnai'"),
    ],
)
def test_a_value_apirec_checks_is_a_usage_error_when_parsed(
    tmp_path: Path, argv: list[str], said: str
) -> None:
    # these were checked only when the command ran: the doc runner, which parses, passed them
    import subprocess
    import sys

    apirec = Path(sys.executable).parent / "apirec"
    done = subprocess.run(
        [str(apirec), *argv], cwd=tmp_path, env=NO_KEYS, capture_output=True, text=True
    )
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "error: argument --" in done.stderr
    (block,) = blocks(_page(tmp_path, "```bash\napirec " + shlex.join(argv) + "\n```\n"))
    (problem,) = command_problems(block, NO_KEYS)
    assert said in problem, problem


def test_values_apirec_accepts_still_parse(tmp_path: Path) -> None:
    shell = (
        "apirec ls recordings --older-than 30d --newer-than 1d12h\n"
        "apirec gc s3://b recordings --min-age 0\n"
        "apirec run --mode record-if-missing --store msgpack --integrations openai -- true\n"
    )
    (block,) = blocks(_page(tmp_path, f"```bash\n{shell}```\n"))
    assert command_problems(block, NO_KEYS) == []
