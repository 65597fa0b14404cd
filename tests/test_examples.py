"""The projects in examples/ replay as their READMEs say: offline, no API keys, nothing written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROJECTS = sorted(p.parent.name for p in EXAMPLES.glob("*/pytest.ini"))
# what a fork's pull request lacks: keys, and the stand-in's addresses
UNSET = re.compile(r"(API_KEY|BASE_URL|APIREC_)")


def _recordings(project: Path) -> dict[str, bytes]:
    """The project's recordings: those in any recordings/ directory under tests/ (beside the
    test files, as llama-stack's recorder keeps them, or one for the whole suite)."""
    tests = project / "tests"
    found = tests.rglob("recordings/**/*.json")
    return {str(p.relative_to(tests)): p.read_bytes() for p in found}


def test_there_are_three_examples_with_readmes_and_recordings():
    assert len(PROJECTS) >= 3
    for name in PROJECTS:
        assert (EXAMPLES / name / "README.md").is_file()
        assert _recordings(EXAMPLES / name)


@pytest.mark.parametrize("name", PROJECTS)
def test_example_replays_offline_with_no_keys(name: str) -> None:
    project = EXAMPLES / name
    before = _recordings(project)
    env = {k: v for k, v in os.environ.items() if not UNSET.search(k)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(r"apirec: (\d+) replayed, 0 recorded, 0 live, 0 missed", done.stdout)
    assert summary and int(summary.group(1)) == len(before), done.stdout
    # the README shows this summary line: it must stay true
    readme = (project / "README.md").read_text()
    assert summary.group(0) in readme
    assert _recordings(project) == before


def test_the_miss_docs_pytest_md_shows_is_the_one_the_weather_example_gives(tmp_path: Path) -> None:
    project = tmp_path / "weather"
    shutil.copytree(EXAMPLES / "weather", project, ignore=shutil.ignore_patterns("__pycache__"))
    test_file = project / "tests" / "test_weather.py"
    changed = 'weather.forecast("Lima", days=2, units="imperial")'
    test_file.write_text(test_file.read_text().replace('weather.forecast("Lima", days=2)', changed))
    env = {k: v for k, v in os.environ.items() if not UNSET.search(k)}
    # as the page's `pytest -q`: the printed command carries the options typed, not these
    env["PYTEST_ADDOPTS"] = "-p no:cacheprovider -p no:xdist"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_weather.py::test_forecast"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = [line for line in done.stdout.splitlines() if line.startswith("E ")]
    page = (EXAMPLES.parent / "docs" / "pytest.md").read_text()
    block = next(b for b in page.split("```") if "\nE       apirec.errors" in b)
    expected = [
        line.replace("/home/me/weather", str(project))
        for line in block.strip().splitlines()
        if line.startswith("E ")
    ]
    assert shown == expected


def _timeless(text: str) -> str:
    """``text`` with the durations of live calls left out: a re-recorded call takes as long as
    it takes (0.41s on a quiet machine, 0.42s on a busy one)."""
    return re.sub(r"\b\d+\.\d+s\b", "<seconds>", text)


def _run(
    project: Path, argv: list[str], extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not UNSET.search(k)} | (extra or {})
    return subprocess.run(
        [sys.executable, *argv, "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_weather_walkthrough_works_as_written_in_a_copy(tmp_path: Path) -> None:
    # It changed the call but not the assert (the re-recorded test failed), and left the old
    # recording behind without a word.
    project = tmp_path / "weather"
    shutil.copytree(EXAMPLES / "weather", project, ignore=shutil.ignore_patterns("__pycache__"))
    readme = (project / "README.md").read_text()
    section = readme.split("## Change a call", 1)[1]
    blocks = section.split("```")[1::2]  # the fenced blocks, in order
    edit = blocks[0].removeprefix("diff\n").splitlines()
    removed = [line[1:] for line in edit if line.startswith("-")]
    added = [line[1:] for line in edit if line.startswith("+")]
    test_file = project / "tests" / "test_weather.py"
    text = test_file.read_text()
    assert "\n".join(removed) in text
    test_file.write_text(text.replace("\n".join(removed), "\n".join(added)))
    assert _run(project, ["-m", "pytest", "-q"]).returncode == 1  # the miss
    commands = [b.removeprefix("bash\n").strip() for b in blocks if b.startswith("bash\n")]
    outputs = [b.strip() for b in blocks if b.startswith("\napirec:")]
    assert len(commands) == len(outputs) == 2
    for command, output in zip(commands, outputs, strict=True):
        argv = shlex.split(command)
        assert argv[:3] == ["python", "-m", "pytest"]
        done = _run(project, argv[1:])
        assert done.returncode == 0, done.stdout + done.stderr
        assert _timeless(output) in _timeless(done.stdout), (command, done.stdout)
    done = _run(project, ["-m", "pytest", "-q"])
    assert (
        "3 replayed, 0 recorded, 0 live, 0 missed; saved <seconds> of live calls and 53 tokens; "
        "0 stored recordings no test used" in _timeless(done.stdout)
    )


@pytest.mark.parametrize("name", PROJECTS)
def test_example_readmes_work_from_a_copy(name: str) -> None:
    # `pip install -e '../..[dev]'` and `python ../stand_ins/api.py` pointed nowhere once the
    # project was copied elsewhere: a command to paste names nothing outside the project.
    readme = (EXAMPLES / name / "README.md").read_text()
    commands = "\n".join(b for b in readme.split("```")[1::2] if b.startswith("bash\n"))
    assert "../" not in commands, commands
    assert "pip install path/to/apirec " in commands  # apirec is not on PyPI: the clone


def _served_url(line: str) -> str:
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert found and found[1] != "0", line
    return found[0]


@contextmanager
def _stand_in() -> Iterator[str]:
    """The stand-in API on a port of its own choosing (0), and the URL it says it serves.

    A port probed free here could be taken by a parallel test before the stand-in bound it,
    and the agent's calls then went to nothing: a flaky CI failure."""
    stand_in = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "stand_ins" / "api.py"), "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stand_in.stdout is not None
        yield _served_url(stand_in.stdout.readline())
    finally:
        stand_in.terminate()
        stand_in.communicate(timeout=10)  # and closes its pipe


def test_the_stand_in_listens_on_the_port_it_names_before_it_names_it() -> None:
    # It printed the port it was given, before binding it; given 0 it printed ":0".
    with _stand_in() as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:  # no retry
            client.sendall(
                b"GET /v1/forecast?city=Oslo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            assert b"Sunny" in client.makefile("rb").read()


@pytest.mark.parametrize("mode", ["compare", "live"])
@pytest.mark.parametrize("name", ["openai_agent", "mcp_agent"])
def test_the_agent_examples_pass_in_compare_and_live_mode(
    name: str, mode: str, tmp_path: Path
) -> None:
    # They asserted on apirec.journal, which lists the calls a recording keys: none in compare
    # and live mode, the mode "Recordings that stay true" recommends.
    project = tmp_path / name
    shutil.copytree(EXAMPLES / name, project, ignore=shutil.ignore_patterns("__pycache__"))
    with _stand_in() as url:
        env = {
            "OPENAI_API_KEY": "sk-example",
            "OPENAI_BASE_URL": f"{url}/v1",
            "TAVILY_API_KEY": "tvly-example",
            "TAVILY_BASE_URL": url,
        }
        done = _run(project, ["-m", "pytest", f"--apirec-mode={mode}"], env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _recordings(project) == _recordings(EXAMPLES / name)  # nothing written
