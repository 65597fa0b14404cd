"""Review of issue 20 point 1: "a doc example that breaks must fail CI". Ways a doc block is
wrong and tests/test_docs.py still passes it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.doc_blocks import ROOT, blocks, missing_lines
from tests.doc_commands import command_problems, commands
from tests.doc_config import config_problem
from tests.doc_sessions import output_differences, run_session, session_problems
from tests.test_docs import NO_KEYS, SCRIPTS, run_as_written, uncalled_tests
from tests.test_docs_shown import shown_unaccounted


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(text))
    return page


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
    assert "NameError: name 'no_such_function' is not defined" in done.stderr


def test_a_test_a_complete_file_defines_but_never_runs_is_caught() -> None:
    # a block linked to examples/docs/NAME.py is true when the script runs; a test function
    # there that the script never calls (nor hands to pytest) would be one more body never run
    script = "async def test_weather():\n    assert False\n\nif __name__ == '__main__':\n    pass\n"
    assert uncalled_tests(script) == {"test_weather"}
    called = script.replace("    pass", "    asyncio.run(test_weather())")
    assert uncalled_tests(called) == set()
    itself = script.replace(
        "    pass", '    subprocess.run([sys.executable, "-m", "pytest", __file__])'
    )
    assert uncalled_tests(itself) == set()


def test_a_test_in_a_block_records_against_the_stand_in_then_replays(tmp_path: Path) -> None:
    # the runner's other half: a test that calls an API passes, recorded first against the
    # stand-in, then replayed with no key and no stand-in (a miss would fail the replay)
    (block,) = blocks(
        _page(
            tmp_path,
            """\
            ```python
            import openai
            import apirec
            from apirec import integrations

            def test_capital():
                with apirec.recording("tests/recordings") as rec:
                    integrations.patch(rec, "openai")
                    reply = openai.OpenAI().chat.completions.create(
                        model="gpt-4o",
                        messages=[{"role": "user", "content": "The capital of France?"}],
                    )
                assert reply.choices[0].message.content == "Paris."
            ```
            """,
        )
    )
    done = run_as_written(block, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "apirec: 1 replayed, 0 recorded, 0 live, 0 missed" in done.stdout
    assert len(list((tmp_path / "tests" / "recordings").glob("*.json"))) == 1


def test_the_mcp_example_of_integrations_md_runs() -> None:
    # docs/integrations.md's MCP block passed test_block_runs_as_written, yet calling the test
    # it shows failed at once: apirec and integrations were never imported, and
    # servers/notes.py and its recordings did not exist. It now comes from a complete file that
    # runs as a script in the suite (test_docs_example_runs), calling the test twice: recording
    # while the server runs, then replaying with the server's file gone.
    (block,) = [
        b
        for b in blocks(ROOT / "docs" / "integrations.md")
        if "async def test_agent_reads_notes" in b.text
    ]
    script = ROOT / "examples" / "docs" / "mcp_notes.py"
    assert block.links == (script,)
    assert script in SCRIPTS
    assert missing_lines(block) == []
    main = script.read_text().split('if __name__ == "__main__":')[1]
    assert main.count("asyncio.run(test_agent_reads_notes())") == 2
    assert (script.parent / "servers" / "notes.py").is_file()


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


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        (
            '[tool.pytest.ini_options]\napirec_no_such_key = "x"',
            "Unknown config option: apirec_no_such_key",
        ),
        ('[tool.pytest.ini_options]\napirec_mode = "bogus"', "'bogus' is not a valid record mode"),
        ("[pytest]\naddopts = --apirec-no-such-option", "unrecognized arguments: --apirec-no-such"),
        ("[tool:pytest]\napirec_max_age = 30 days", "ini apirec_max_age: '30 days' is not an age"),
        ('# prices.toml\n[gpt-4o]\ninput = "cheap"', "prices.toml"),
        ("[tool.pytest.ini_options\napirec_mode = 1", "not valid TOML"),
        ("apirec_mode = record", "not valid ini"),
        # newuser 20: the README's pytest-asyncio block warned on every run of the user's suite
        ('[tool.pytest.ini_options]\nasyncio_mode = "auto"', "asyncio_default_fixture_loop_scope"),
    ],
)
def test_a_config_block_pytest_would_refuse_is_caught(
    tmp_path: Path, config: str, refused: str
) -> None:
    # review 20: toml and ini blocks were not checked at all
    lang = "toml" if "tool.pytest" in config or "prices" in config else "ini"
    (block,) = blocks(_page(tmp_path, f"```{lang}\n{config}\n```\n"))
    problem = config_problem(block, tmp_path, NO_KEYS)
    assert problem is not None and refused in problem, problem


def test_a_config_block_pytest_accepts_passes(tmp_path: Path) -> None:
    config = (
        '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'
        'asyncio_default_fixture_loop_scope = "function"\napirec_mode = "replay"'
    )
    (block,) = blocks(_page(tmp_path, f"```toml\n{config}\n```\n"))
    assert config_problem(block, tmp_path, NO_KEYS) is None


WEATHER = ROOT / "examples" / "weather"
# what the page shows, in the widths and ages of another day, another machine
SESSION = """\
$ apirec ls tests/recordings --function forecast
FUNCTION  TEST  KEY  STREAMED  ERROR  TOKENS  TOOK  AGE  SIZE
weather.forecast   test_weather.py::test_forecast  5d86152f3a2b   0.2s   41d 2h   535
weather.forecast   test_weather.py::test_week      dd8c0bb6f3ee   0.20s  3m       591
2 recordings, 1.1 KB
$ apirec prune tests/recordings --test test_week
deleted tests/recordings/dd8c0bb6f3ee55570396fc26db63a362.json
deleted 1 recording
$ apirec ls tests/recordings/no-such-dir
...
$ echo $?
2
$ mkdir /tmp/made && cd /tmp/made && pwd && echo 2026-01-02T03:04:05Z
/tmp/made
2024-05-06T00:00:00Z
"""


def _session(tmp_path: Path, shown: str) -> tuple[str, str | None]:
    (block,) = blocks(
        _page(
            tmp_path,
            f"```\n{shown}```\n<sub>Output checked: run in a copy of [weather]({WEATHER}).</sub>\n",
        )
    )
    assert block.run_in == WEATHER and block.in_a_copy
    printed = run_session(block, tmp_path / "run", NO_KEYS)
    return printed, output_differences(block.text, printed)


def test_a_session_is_run_in_a_copy_and_compared_as_normalised(tmp_path: Path) -> None:
    # review 20: shown output was never compared. Widths, durations, dates, the temporary
    # directory and `...` elisions vary; all else must be what the commands print.
    (tmp_path / "run").mkdir()
    printed, differences = _session(tmp_path, SESSION)
    assert differences is None, printed
    assert (WEATHER / "tests" / "recordings" / "dd8c0bb6f3ee55570396fc26db63a362.json").is_file()


def test_pytest_section_rules_span_any_width_but_their_words_count() -> None:
    shown = "$ pytest -v\n...\n------ apirec ------\napirec: 3 replayed\n"
    assert (
        output_differences(
            shown, "$ pytest -v\nx\n" + "-" * 60 + " apirec " + "-" * 60 + "\napirec: 3 replayed"
        )
        is None
    )
    assert (
        output_differences(shown, "$ pytest -v\n------ apirec ------\napirec: 4 replayed")
        is not None
    )


def test_a_session_whose_output_is_wrong_fails_with_a_diff(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    _, differences = _session(tmp_path, SESSION.replace("591", "592").replace("\n2\n", "\n0\n"))
    assert differences is not None
    changed = [line for line in differences.splitlines() if line[:1] in "+-"]
    assert "-weather.forecast test_weather.py::test_week dd8c0bb6f3ee <time> 592" in changed
    assert "+weather.forecast test_weather.py::test_week dd8c0bb6f3ee <time> 591" in changed
    assert "-0" in changed and "+2" in changed


def test_a_session_without_a_marker_is_not_run(tmp_path: Path) -> None:
    # it must then be listed in test_docs.OUTPUT_NOT_CHECKED, with why
    (block,) = blocks(_page(tmp_path, "```\n$ apirec ls tests/recordings\nnothing\n```\n"))
    assert block.run_in is None


def test_output_shown_with_no_command_must_be_run_or_listed_with_why(tmp_path: Path) -> None:
    # review of issue 20 A.1: a block of output without `$` was compared with nothing: an error
    # message a page shows could say anything
    page = _page(
        tmp_path,
        """\
        ```
        apirec: 3 replayed, 0 recorded, 0 live, 0 missed
        ```

        ```
        $ apirec ls tests/recordings
        nothing
        ```
        """,
    )
    from tests.doc_sessions import is_session

    shown = [b for b in blocks(page) if not b.lang and not is_session(b)]
    assert [b.line for b in shown] == [1]  # the session is another check's
    key = (str(page), "apirec: 3 replayed, 0 recorded, 0 live, 0 missed")
    (unlisted,) = shown_unaccounted(shown, {})
    assert unlisted.startswith(f"{page}:1: output with no command")
    assert shown_unaccounted(shown, {key: "  "}) == [unlisted]  # a reason, not a blank
    assert shown_unaccounted(shown, {key: "needs a suite of its own"}) == []
    gone = (str(page), "apirec: 4 replayed")
    assert shown_unaccounted(shown, {key: "why", gone: "why"}) == [
        f"{gone}: listed, but no page shows it"
    ]


def test_a_session_against_the_local_s3_server_is_compared(tmp_path: Path) -> None:
    # the remote store's sessions (push, pull, gc) were listed as not checked: they needed a
    # bucket. The marker's bucket is served by moto while the commands run.
    docs = ROOT / "examples" / "docs"
    shown = (
        "$ python speech.py tests/recordings hello\n"
        "$ apirec push tests/recordings --remote s3://my-bucket/apirec\n"
        "uploaded 1 object (97.7 KB) to s3://my-bucket/apirec; 0 were there already "
        "(1 recording read)\n"
    )
    marker = (
        f"<sub>Output checked: run in a copy of [docs]({docs}), with s3://my-bucket on a local "
        "S3 server (moto).</sub>"
    )
    (block,) = blocks(_page(tmp_path, f"```\n{shown}```\n{marker}\n"))
    assert block.s3_bucket == "my-bucket" and block.in_a_copy
    (tmp_path / "run").mkdir()
    printed = run_session(block, tmp_path / "run", NO_KEYS)
    assert output_differences(block.text, printed) is None, printed
    wrong = shown.replace("0 were there", "1 were there")
    differences = output_differences(wrong, printed)
    assert differences is not None and "+uploaded 1 object" in differences


@pytest.mark.parametrize(
    ("command", "refused"),
    [
        # a value the plugin refuses, given to the real pytest
        ("pytest --apirec-mode=record-if-mising", "'record-if-mising' is not a valid record mode"),
        ("pytest --apirec-max-age 30days -q", "'30days' is not an age"),
        ("pytest --apirec-repeats=first", "invalid choice: 'first'"),
        # apirec's own parser: a bad choice, a bad value, a missing argument
        ("apirec stats tests/recordings --by colour", "invalid choice: 'colour'"),
        ("apirec pull tests/recordings --jobs many", "'many' is not a whole number"),
        ("apirec diff tests/recordings/a.json", "the following arguments are required: B"),
        # the other forms of the same commands
        ("uv run pytest --apirec-mode=recrd", "'recrd' is not a valid record mode"),
        ("python3 -m pytest --apirec-no-such", "unknown option --apirec-no-such"),
        ("python -m apirec ls --no-such", "unrecognized arguments: --no-such"),
        ("python3 -m apirec verify", "required"),
        ("$ apirec ls tests/recordings --no-such\nno output compared here", "--no-such"),
        ("pipx run apirec scan x --no-such", "unrecognized arguments: --no-such"),
        ("env APIREC_MODE=bogus pytest -q", "'bogus' is not a valid record mode"),
        ("APIREC_MODE=record pytest --apirec-expired=never", "'never'"),
        ("pytest -o apirec_typo=1", "unknown ini key apirec_typo (-o)"),
        ("pytest -o apirec_repeats=first", "apirec_repeats"),
        ("pytest --override-ini=apirec_mode=bogus", "'bogus' is not a valid record mode"),
        ("APIREC_MOD=replay pytest", "apirec reads no APIREC_MOD"),
        ("export APIREC_REMOTE_URL=s3://b/p\napirec pull tests/recordings", "no APIREC_REMOTE_URL"),
        ("export APIREC_MODE=bogus\npytest -q", "'bogus' is not a valid record mode"),
    ],
)
def test_a_shell_command_that_would_not_work_when_pasted_is_caught(
    tmp_path: Path, command: str, refused: str
) -> None:
    # review 20: only option names were checked, and only of `apirec` and `pytest` as written
    (block,) = blocks(_page(tmp_path, f"```bash\n{command}\n```\n"))
    problems = command_problems(block, NO_KEYS)
    assert len(problems) == 1 and refused in problems[0], problems


def test_shell_commands_that_work_when_pasted_pass(tmp_path: Path) -> None:
    shell = """\
        uv run pytest --apirec-mode=record-if-missing --apirec-max-age 30d -k week
        python3 -m pytest -o apirec_repeats=last --override-ini=apirec_mode=replay -n 2
        env APIREC_MODE=replay pipx run --spec apirec apirec ls tests/recordings --older-than 30d
        export APIREC_REMOTE=s3://my-bucket/apirec
        python -m apirec pull tests/recordings --jobs 16 && pytest --apirec-strict
        """
    (block,) = blocks(_page(tmp_path, f"```sh\n{textwrap.dedent(shell)}```\n"))
    programs = [c.argv[:1] for c in commands(block)]
    assert programs == [("pytest",), ("pytest",), ("apirec",), (), ("apirec",), ("pytest",)]
    assert command_problems(block, NO_KEYS) == []


@pytest.mark.parametrize(
    ("shown", "wrong"),
    [
        # review 20: a failed command hid behind `...`
        ("$ apirec ls tests/recordings/no-such-dir\n...\n", "exited 2; show it with"),
        ("$ apirec ls tests/recordings/no-such-dir\n...\n$ echo $?\n1\n", "echo $? shows '1'"),
        ("$ apirec --version\n...\n$ echo $?\n1\n", "exited 0, the page's echo $?"),
        ("$ apirec ls tests/recordings/no-such-dir\n...\n$ echo $?\n2\n", None),
    ],
)
def test_a_session_shows_each_commands_exit_status(
    tmp_path: Path, shown: str, wrong: str | None
) -> None:
    (block,) = blocks(
        _page(
            tmp_path,
            f"```\n{shown}```\n<sub>Output checked: run from the repository's root.</sub>\n",
        )
    )
    problems = session_problems(block, tmp_path, NO_KEYS)
    assert (problems is None) if wrong is None else (problems and wrong in problems), problems
