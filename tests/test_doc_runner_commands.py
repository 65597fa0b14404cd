"""Review of issue 20 (second adversarial pass, /work/rv/adv20b): ways a doc block was wrong and
tests/test_docs.py still passed it: sessions, commands, values, tied files."""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path

import pytest

from tests.doc_blocks import ROOT, blocks, files_the_suite_runs, inline_commands, missing_lines
from tests.doc_commands import command_problems, inline_problems
from tests.doc_sessions import is_session, session_problems, shows_output
from tests.test_docs import NO_KEYS, RUN_BY_THE_SUITE, never_run, syntax_error

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


@pytest.mark.parametrize(
    ("command", "refused"),
    [
        # other ways to start apirec and pytest were read as some other program, never checked
        ("uvx apirec ls tests/recordings --no-such-option", "--no-such-option"),
        ("time apirec ls tests/recordings --no-such-option", "--no-such-option"),
        (".venv/bin/apirec ls tests/recordings --no-such-option", "--no-such-option"),
        ("env -u OPENAI_API_KEY apirec ls --no-such-option", "--no-such-option"),
        ("py.test --apirec-no-such-option", "unknown option --apirec-no-such-option"),
        ("./venv/bin/pytest -x --no-such", "unrecognized arguments: --no-such"),
        # a redirection cut the arguments after it
        ("apirec ls tests/recordings > out.txt --no-such-option", "--no-such-option"),
        ("apirec ls tests/recordings 2>&1 --no-such-option", "--no-such-option"),
        # a script that is not where the commands run
        ("python examples/docs/no_such_script.py", "no script examples/docs/no_such_script.py"),
        # pytest's own options (and its plugins') are checked by its parser
        ("pytest --no-such-pytest-option tests", "unrecognized arguments: --no-such-pytest-option"),
        ("pytest --tb=verbose", "invalid choice: 'verbose'"),
        ("pytest -n", "expected one argument"),
    ],
)
def test_a_command_in_another_form_is_checked(tmp_path: Path, command: str, refused: str) -> None:
    (block,) = blocks(_page(tmp_path, f"```bash\n{command}\n```\n"))
    problems = command_problems(block, NO_KEYS)
    assert len(problems) == 1 and refused in problems[0], problems


def test_commands_in_those_forms_that_work_pass(tmp_path: Path) -> None:
    shell = """\
        uvx apirec ls tests/recordings > out.txt 2>&1
        time .venv/bin/pytest -x -rA -n 2 --tb=short -p no:cacheprovider -k week tests
        env -u OPENAI_API_KEY -i HOME=/h py.test -q --apirec-mode=replay
        python examples/docs/openai_calls.py &
        python app.py
        """
    (block,) = blocks(_page(tmp_path, f"```bash\n{textwrap.dedent(shell)}```\n"))
    assert command_problems(block, NO_KEYS) == []


def test_pytest_paths_are_checked_where_the_page_runs_its_commands(tmp_path: Path) -> None:
    weather = ROOT / "examples" / "weather"
    marker = f"<sub>Output checked: run in a copy of [weather]({weather}).</sub>"
    shown = "$ pytest tests/no_such_dir tests/test_weather.py::test_week -q\n...\n"
    (block,) = blocks(_page(tmp_path, f"```\n{shown}```\n{marker}\n"))
    (problem,) = command_problems(block, NO_KEYS)
    assert f"no tests/no_such_dir in {weather}" in problem
    # a page that does not say where its commands run is not checked for paths
    (unmarked,) = blocks(_page(tmp_path, "```bash\npytest tests/no_such_dir\n```\n"))
    assert command_problems(unmarked, NO_KEYS) == []


SOURCE = """\
import apirec
from apirec import integrations


def main():
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "openai")
        reply = client.chat.completions.create(model="gpt-4o", messages=messages)
    return reply
"""


@pytest.mark.parametrize(
    ("shown", "missing"),
    [
        # a line left out with no `...` where it was
        (
            'with apirec.recording("tests/recordings") as rec:\n'
            '    reply = client.chat.completions.create(model="gpt-4o", messages=messages)\n',
            'reply = client.chat.completions.create(model="gpt-4o", messages=messages)',
        ),
        # the lines all there, but indented otherwise
        (
            'with apirec.recording("tests/recordings") as rec:\n'
            'integrations.patch(rec, "openai")\n',
            'integrations.patch(rec, "openai")',
        ),
        # marked omissions, any common indentation, blank lines: all as the file is
        (
            "import apirec\n...\n\n"
            '    with apirec.recording("tests/recordings") as rec:\n'
            '        integrations.patch(rec, "openai")\n        ...\n    return reply\n',
            None,
        ),
        ("def main():\n    ...\n    return reply\n", None),
        # a dedented excerpt: the same indentation relative to its first line
        ('with apirec.recording("tests/recordings") as rec:\n    ...\nreturn reply\n', None),
    ],
)
def test_a_tied_block_shows_its_files_lines_together_and_indented_as_there(
    tmp_path: Path, shown: str, missing: str | None
) -> None:
    (tmp_path / "example.py").write_text(SOURCE)
    (block,) = blocks(
        _page(tmp_path, f"```python\n{shown}```\n<sub>[example.py](example.py)</sub>\n")
    )
    assert missing_lines(block) == ([missing] if missing else [])


def test_a_tied_block_must_compile_and_its_file_must_run(tmp_path: Path) -> None:
    (block,) = blocks(
        _page(tmp_path, "```python\nwith x:\ny = 1\n```\n<sub>[example.py](example.py)</sub>\n")
    )
    assert syntax_error(block) is not None
    # a file of an example project that no test imports is not run by the suite
    weather = ROOT / "examples" / "weather"
    assert weather / "weather.py" in RUN_BY_THE_SUITE  # its tests import it
    assert weather / "tests" / "test_weather.py" in RUN_BY_THE_SUITE
    snippets = tmp_path / "examples" / "weather" / "snippets"
    snippets.mkdir(parents=True)
    (snippets / "setup_client.py").write_text("import apirec\n")
    assert snippets / "setup_client.py" not in files_the_suite_runs([], {snippets.parent})


@pytest.mark.parametrize(
    ("source", "unused"),
    [
        # review 20b: a main never run, a fixture no test asks for: their bodies never ran
        ("import apirec\n\nasync def main():\n    await apirec.no_such()\n", {"main"}),
        (
            "import pytest\n\n@pytest.fixture\ndef rec():\n    yield no_such()\n",
            {"rec"},
        ),
        ("async def main():\n    pass\n\nawait main()\n", set()),
        ("def a():\n    pass\n\ndef b():\n    a()\n", set()),
        ("x = 1\n", set()),
    ],
)
def test_a_block_that_never_runs_the_functions_it_defines_is_caught(
    source: str, unused: set[str]
) -> None:
    assert never_run(source) == unused


def test_an_inline_command_of_the_prose_is_checked(tmp_path: Path) -> None:
    # review 20b: inline `apirec ...` spans were never looked at
    page = _page(
        tmp_path,
        """\
        List the old ones with `apirec ls tests/recordings --older-than 30days`, or run
        `pytest --no-such-pytest-option -q`; `apirec gc --min-age` keeps young objects, and
        `apirec COMMAND --help` says more; `apirec ls` alone lists them.

        ```bash
        apirec ls tests/recordings --not-a-span
        ```
        """,
    )
    spans = inline_commands(page)
    assert [span.text for span in spans] == [
        "apirec ls tests/recordings --older-than 30days",
        "pytest --no-such-pytest-option -q",
        "apirec gc --min-age",
    ]
    problems = [inline_problems(span, NO_KEYS) for span in spans]
    assert "'30days' is not an age" in problems[0][0]
    assert "unrecognized arguments: --no-such-pytest-option" in problems[1][0]
    assert problems[2] == []  # a mention of an option, not a command to paste


def test_another_projects_commands_are_marked_and_keep_only_apirecs_checks(tmp_path: Path) -> None:
    # its conftest adds the options (OGX's --stack-config): pytest's parser here does not know
    shell = "pytest tests --stack-config=ci --apirec-mode=replay\napirec ls x --no-such\n"
    marker = "<sub>Not run by apirec's CI: it runs in OGX's repository.</sub>"
    (unmarked,) = blocks(_page(tmp_path, f"```bash\n{shell}```\n"))
    assert len(command_problems(unmarked, NO_KEYS)) == 2
    (marked,) = blocks(_page(tmp_path, f"```bash\n{shell}```\n{marker}\n"))
    (problem,) = command_problems(marked, NO_KEYS)
    assert "apirec ls x --no-such" in problem
