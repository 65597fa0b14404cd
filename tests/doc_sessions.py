"""How a block that shows commands and their output is shown true (see tests/doc_blocks.py).

A session is a plain, ``console`` or shell (``bash``, ``sh``, ``shell``) block with lines
``$ COMMAND``, each followed by what it prints; one that shows output must be checked or
listed with why, whatever its language. One marked ``<sub>Output checked: run in a copy of
[DIR](...).</sub>`` runs in a fresh copy of DIR; one marked ``<sub>Output checked: run from the
repository's root.</sub>`` runs in the repository itself (its commands must only read there).
The commands run in order in one ``bash`` with ``set -o pipefail`` (so ``cd`` and ``echo $?``
work, and ``apirec show x | cat`` fails when apirec does), in a 132-column pseudo-terminal
(stdout and stderr both, so tables fit as a user sees them; what a progress line leaves after
its last carriage return, and no colour codes, is kept), with this interpreter's ``apirec``,
``pytest`` and ``python`` first on the PATH, no API keys, and ``/tmp`` standing for a fresh
temporary directory (named ``/tmp`` again in what they print) and ``/home/me`` for a fresh
home directory (so the default cache, ``~/.cache/apirec``, starts empty). A marker that ends
``, with s3://BUCKET on a local S3 server (moto).`` has that bucket served on 127.0.0.1 while
the commands run, the standard AWS variables pointing at it (as a CI's MinIO would be).

The page and what the commands printed are then compared after normalising what varies from
run to run and machine to machine:

- widths: runs of spaces and tabs are one space, ends of lines are stripped (a column is as
  wide as its longest value), and a rule of four or more ``-``, ``=`` or ``─`` is four (pytest's
  section lines span the terminal);
- times and dates: a duration (``2s``, ``62.3s``, ``41d 2h``, ``14m 02s``, ``150ms``) is
  ``<time>``; a UTC time (``2026-12-06T09:12:40Z``, ``20261207T022316Z``) is ``<date>``;
- paths: the temporary directory is ``/tmp``, the home directory ``/home/me``, and the copy
  of DIR is ``/home/me/DIR``'s last part (``/home/me/weather``);
- ``...`` on the page stands for any text, on one line or across lines (doctest's ELLIPSIS):
  a page may leave out the output it does not discuss.

Everything else must be the same, line for line. Each command's exit status is kept apart from
what it prints and compared too (``status_problems``), as ``...`` could hide a failure: a
command that exits non-zero must be followed on the page by ``$ echo $?`` and the status it
prints; a command not so followed must exit 0.
"""

from __future__ import annotations

import difflib
import fcntl
import os
import pty
import re
import shlex
import shutil
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

from tests.doc_blocks import SHELL, Block

PROMPT = "$ "
STATUSES = "exit-statuses"  # in the session's temporary directory: each command's, a line each
ECHO_STATUS = "echo $?"
HOME = "/home/me"  # what the session's home directory is called in what it prints
RULE = re.compile(r"([-=─])\1{3,}")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DATE = re.compile(r"\b\d{4}-?\d{2}-?\d{2}T\d{2}:?\d{2}:?\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b")
DURATION = re.compile(r"\b\d+(?:\.\d+)?(?:ms|s|m|h|d|w)(?: \d+(?:\.\d+)?(?:ms|s|m|h|d|w))*\b")


def is_session(block: Block) -> bool:
    """Whether the block shows commands at a ``$`` prompt (with their output or not), in a plain,
    ``console`` or shell block."""
    return block.lang in ("", "console", *SHELL) and any(
        line.startswith(PROMPT) for line in block.text.splitlines()
    )


def shows_output(block: Block) -> bool:
    """Whether some command of the session is followed by a line of what it printed."""
    lines = block.text.splitlines()
    # a line after one that ends with ``\`` continues that command: it is not output
    return any(
        line.strip() and not line.startswith(PROMPT) and not lines[n].endswith("\\")
        for n, line in enumerate(lines[1:])
    )


def run_session(block: Block, tmp: Path, env: dict[str, str]) -> str:
    """What the block's commands print, run as the module docstring says (its prompts
    included, as the page shows them)."""
    assert block.run_in is not None, f"{block.where}: no 'Output checked: run ...' marker"
    fake_tmp = tmp / "tmp"
    fake_tmp.mkdir()
    cwd = block.run_in
    if block.in_a_copy:
        cwd = tmp / "copy" / block.run_in.name
        shutil.copytree(block.run_in, cwd, ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp / "home"  # a fresh home: a default cache (~/.cache/apirec) that starts empty
    home.mkdir()
    statuses = shlex.quote(str(tmp / STATUSES))
    script = []
    for line in block.text.splitlines():
        if line.startswith(PROMPT):
            command = line.removeprefix(PROMPT).replace("/tmp", str(fake_tmp))
            # the prompt line is printed first; the command then sees the status before it
            # (each command's own is kept, apart from what it prints, to be compared)
            kept = f"echo $__s >> {statuses}; " if script else ""
            script.append(
                f"__s=$?; {kept}printf '%s\\n' {shlex.quote(line)}; (exit $__s); {command}"
            )
    script.append(f"echo $? >> {statuses}")
    # a failing command piped into another (``apirec show x | cat``) fails the line
    script.insert(0, "set -o pipefail")
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **{k: v for k, v in env.items() if not k.startswith("AWS_") and k != "XDG_CACHE_HOME"},
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
        "TZ": "UTC",
        "HOME": str(home),
    }
    server = None
    if block.s3_bucket is not None:
        from tests.s3_server import S3Server

        server = S3Server(bucket=block.s3_bucket).start()
        env.update(server.environment())
    try:
        printed = _in_a_terminal(["bash", "-c", "\n".join(script)], cwd, env)
    finally:
        if server is not None:
            server.stop()
    printed = printed.replace(str(home), HOME).replace(str(fake_tmp), "/tmp")
    if block.in_a_copy:  # as a project of the home directory, where the page puts it
        printed = printed.replace(str(cwd), f"{HOME}/{block.run_in.name}")
    return printed


def _in_a_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """What ``argv`` prints to a 132-column terminal, as the lines the terminal is left with."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 132, 0, 0))
    env = {**env, "COLUMNS": "132", "LINES": "24", "TERM": "dumb", "NO_COLOR": "1"}
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=terminal,
            timeout=120,
            check=False,
        )
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def normalise(text: str) -> str:
    """The text as compared: see the module docstring."""
    text = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
    text = RULE.sub(r"\1\1\1\1", text)
    return DURATION.sub("<time>", DATE.sub("<date>", text))


def exit_statuses(tmp: Path) -> list[int]:
    """The exit status of each command of the session run in ``tmp``, in order."""
    return [int(n) for n in (tmp / STATUSES).read_text().split()]


def status_problems(shown: str, statuses: list[int]) -> list[str]:
    """The commands whose exit status the page does not show as it was: a command that fails
    must be followed by ``$ echo $?`` and the status it printed; any other must exit 0."""
    lines = shown.splitlines()
    prompts = [n for n, line in enumerate(lines) if line.startswith(PROMPT)]
    wrong: list[str] = []
    for i, (at, status) in enumerate(zip(prompts, statuses, strict=True)):
        command = lines[at].removeprefix(PROMPT)
        echoed = i + 1 < len(prompts) and lines[prompts[i + 1]] == PROMPT + ECHO_STATUS
        if echoed:
            after = prompts[i + 1] + 1
            page = lines[after].strip() if after < len(lines) else ""
            if page != str(status):
                wrong.append(f"{command}: exited {status}, the page's echo $? shows {page!r}")
        elif status != 0:
            wrong.append(f"{command}: exited {status}; show it with a line '$ echo $?' after it")
    return wrong


def session_problems(block: Block, tmp: Path, env: dict[str, str]) -> str | None:
    """What the page shows wrongly of its session (output, exit statuses), or None."""
    printed = run_session(block, tmp, env)
    found = status_problems(block.text, exit_statuses(tmp))
    differences = output_differences(block.text, printed)
    return "\n".join([*found, differences or ""]).strip() or None


def output_differences(shown: str, printed: str) -> str | None:
    """A diff of what the page shows against what was printed (normalised), or None when the
    page is right."""
    expected, got = normalise(shown), normalise(printed)
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    if re.fullmatch(pattern, got, re.S):
        return None
    diff = difflib.unified_diff(
        expected.splitlines(), got.splitlines(), "shown on the page", "printed", lineterm=""
    )
    return "\n".join(diff)
