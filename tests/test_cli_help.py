"""The command line explains itself: ``--version``, a line and an example in every command's
``--help`` (an example that parses), and counts in the singular when there is one."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main
from apirec.cli.parser import ABOUT, build

COMMANDS = [
    "demo",
    "ls",
    "show",
    "diff",
    "verify",
    "repair",
    "drift",
    "prune",
    "convert",
    "scan",
    "stats",
    "push",
    "pull",
    "gc",
    "run",
]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"apirec {apirec.__version__}\n"


def test_every_command_is_in_the_list() -> None:
    parser = build()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    assert sorted(commands.choices) == sorted(COMMANDS)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_says_what_it_does_and_shows_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    paragraphs = text.split("\n\n")
    # after the usage: one line saying what the command does
    what = paragraphs[1]
    assert "\n" not in what and what[0].isupper() and what.endswith("."), text
    assert not what.startswith(("positional", "options")), text
    # last: an example to copy, which parses
    lines = paragraphs[-1].strip().splitlines()
    assert lines[0] == "example:", text
    argv = shlex.split(lines[1])
    assert argv[:2] == ["apirec", command]
    args = build().parse_args(argv[1:])  # exits (SystemExit) if the example does not parse
    assert args.command == command


@apirec.record(name="app.answer")
def answer(n: int) -> dict[str, str]:
    return {"text": f"answer {n}"}


def test_one_is_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "recordings"
    with apirec.recording(store, mode="record", test_id="tests/test_a.py::test_one"):
        answer(1)
    assert main(["ls", str(store)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("1 recording, ")
    assert main(["convert", str(store), str(tmp_path / "packed"), "--to", "msgpack"]) == 0
    assert capsys.readouterr().out.startswith("converted 1 recording from ")
    assert main(["prune", str(store), "--test", "test_one", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "would delete 1 recording"
    assert main(["repair", str(tmp_path / "packed")]) == 0
    assert "(1 recording, no damage)" in capsys.readouterr().out
    leaked = tmp_path / "leaked.json"  # written by hand: the gate never let this through
    leaked.write_text(json.dumps({"token": "sk-proj-Q7xW2mN9pL4kR8vT1yB6cZ3hJ5gF0dSaE"}))
    assert main(["scan", str(leaked)]) == 1
    out = capsys.readouterr().out  # the result, on stdout with the findings (newuser 20)
    assert out.splitlines()[-1] == "apirec scan: 1 secret-shaped value in 1 file"


OPENAI_RECORDINGS = Path(__file__).parent.parent / "examples/openai_agent/tests/recordings"


def _function_patterns() -> list[str]:
    """The ``--function`` patterns the help shows: in ``ls``'s example and in the option's
    help text (quoted or bare, inside its parentheses)."""
    parser = build()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    ls_parser = commands.choices["ls"]  # type: ignore[index]
    (option,) = [a for a in ls_parser._actions if a.dest == "function"]
    patterns = []
    for group in re.findall(r"\(([^)]*)\)", option.help or ""):
        patterns += [p.strip(" '") for p in group.split(",") if "." in p or "*" in p]
    argv = shlex.split(ABOUT["ls"][1])
    patterns.append(argv[argv.index("--function") + 1])
    return patterns


def test_the_function_patterns_of_the_help_match_the_openai_integrations_recordings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The help's example `--function Completions.create` matched nothing: the openai
    # integration names its recordings `openai.chat.completions.create`. These recordings
    # are the example project's, made by that integration.
    patterns = _function_patterns()
    assert len(patterns) >= 3, patterns
    for pattern in patterns:
        assert main(["ls", str(OPENAI_RECORDINGS), "--function", pattern]) == 0
        out = capsys.readouterr().out
        assert "openai.chat.completions.create" in out, (pattern, out)
        assert not out.splitlines()[-1].startswith("0 recordings"), (pattern, out)


def test_the_readme_lists_every_command() -> None:
    # The README's CLI section named 8 of the 12 commands (no stats, drift, scan, repair, run).
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### CLI", 1)[1].split("\n### ", 1)[0]
    listed = re.findall(r"^- `apirec (\w+)`", section, re.M)
    assert sorted(listed) == sorted(COMMANDS)
