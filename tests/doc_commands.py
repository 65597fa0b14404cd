"""How the commands of a shell block are shown to work when pasted (see tests/doc_blocks.py).

Each command of a ``bash``/``sh``/``console``/``shell`` block (or a ``$ COMMAND`` line of a
session) is read as the shell would: continuations joined, ``&&``/``||``/``;``/``|`` chains
split, each redirection and its target dropped (the arguments after it stay), comments dropped,
a ``$ `` prompt taken off, ``VAR=value`` and ``env VAR=value`` prefixes and ``export VAR=value``
kept as the command's environment (``env -u X`` and ``-i`` dropped). The program is then found
behind ``uv run``, ``uvx``, ``pipx run``, ``time``, ``env`` and ``python``/``python3 -m``:
``apirec`` (``python -m apirec``, ``.venv/bin/apirec``) and ``pytest`` (``python -m pytest``,
``py.test``, any path ending ``/pytest``) are checked; ``python SCRIPT.py`` must name a script
that is where the commands run (a session's directory, else from the repository's root or the
page's directory when the path has a ``/``); any other program is not checked.

- ``apirec COMMAND ...``: the whole argv is parsed by apirec's own parser
  (``apirec.cli.parser.build``), so an unknown option, a bad value or choice and a missing
  argument fail.
- ``pytest ...``: every option is parsed by the parser the real pytest builds with the plugins
  installed (tests/doc_pytest_options.py): an unknown option, a missing value or a bad choice
  fails (not in a block marked ``Not run by apirec's CI: REASON.``: another project's commands,
  with its conftest's options); its paths must exist where a session runs (not checked when
  the page does not say where its commands run). Then every ``--apirec-*`` option and every
  ini key given with ``-o`` / ``--override-ini`` must be the plugin's (as ``pytest --help``
  lists them); then those options, those ``-o apirec_*`` keys and the command's ``APIREC_*``
  variables are given to the
  real pytest (with ``--strict-config``) beside a test that uses the ``apirec`` fixture, so a
  value the plugin refuses (``--apirec-mode=record-if-mising``, ``-o apirec_repeats=x``,
  ``APIREC_MODE=x``) fails with the plugin's own message.
- ``APIREC_*`` variables (in front of any command, or exported) must be ones apirec's code
  names: the ``"APIREC_..."`` string literals of the apirec package.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests import doc_pytest_options as pytest_options
from tests.doc_blocks import ROOT, Block

ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.S)
# options of uv run and pipx run that take a value (which may be "apirec" itself)
LAUNCHER_VALUES = {"--spec", "--with", "--from", "--python", "--project", "--directory"}
PYTHON = re.compile(r"^(?:.*/)?python(?:3(?:\.\d+)?)?$")
# apirec and pytest by any path, and pytest's older name
PROGRAM = re.compile(r"^(?:.*/)?(apirec|pytest|py\.test)$")
# a redirection: an operator alone (its target is the next word) or joined to its target
REDIRECT = re.compile(r"^(\d*|&)(>>?|<)(&?\S*)$")
# a test whose recording opens: APIREC_* variables are read when one does
USES_THE_FIXTURE = "def test_nothing(apirec):\n    pass\n"
# what the check does not need: their start-up is most of a run's (hypothesis' import, a second)
OTHER_PLUGINS = ("cacheprovider", "xdist", "hypothesispytest", "anyio", "asyncio")
OTHER_PLUGINS_OFF = [arg for name in OTHER_PLUGINS for arg in ("-p", f"no:{name}")]


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]  # the program first: "apirec", "pytest" or what the line runs
    env: tuple[tuple[str, str], ...] = field(default=())  # its VAR=value and the exports before

    @property
    def text(self) -> str:
        return " ".join([*(f"{k}={v}" for k, v in self.env), *self.argv])


def _program(argv: list[str]) -> list[str]:
    """The argv with its launcher taken off (``uv run``, ``uvx``, ``pipx run``, ``python -m``,
    ``time``, ``env`` and its options), and ``apirec``/``pytest`` named as such when run by a
    path (``.venv/bin/apirec``) or as ``py.test``."""
    while argv:
        if argv[0] in ("time", "nohup", "exec", "command"):
            argv = argv[1:]
        elif argv[0] == "env":
            argv = argv[1:]
            while argv and argv[0].startswith("-"):  # -i, -u NAME, --unset=NAME
                argv = argv[2:] if argv[0] in ("-u", "--unset", "-C", "--chdir") else argv[1:]
            while argv and ASSIGNMENT.match(argv[0]):
                argv = argv[1:]
        elif PROGRAM.match(argv[0]):
            name = PROGRAM.match(argv[0]).group(1)  # type: ignore[union-attr]
            return ["pytest" if name == "py.test" else name, *argv[1:]]
        elif argv[:2] in (["uv", "run"], ["pipx", "run"]) or argv[:1] == ["uvx"]:
            rest = argv[1:] if argv[0] == "uvx" else argv[2:]
            # the launcher's own options (--with X, --spec X) until the program
            while rest and rest[0] not in ("apirec", "pytest") and not PYTHON.match(rest[0]):
                rest = rest[2:] if rest[0] in LAUNCHER_VALUES else rest[1:]
            argv = rest
        elif PYTHON.match(argv[0]) and "-m" in argv[1:]:
            at = argv.index("-m")
            if any(not a.startswith("-") for a in argv[1:at]):  # a script runs, not a module
                return argv
            argv = argv[at + 1 :]
        else:
            return argv
    return argv


def _unredirected(argv: list[str]) -> list[str]:
    """The words without their redirections (``> out.txt``, ``2>&1``, ``>>log``): the rest of
    the arguments stay."""
    kept: list[str] = []
    while argv:
        word = argv.pop(0)
        redirect = REDIRECT.match(word)
        if redirect and word not in ("-", "--"):
            if not redirect.group(3) and argv:  # the operator alone: its target follows
                argv.pop(0)
            continue
        kept.append(word)
    return kept


def commands(block: Block) -> list[Command]:
    """Each command of a shell block, as the module docstring says."""
    text = re.sub(r"\\\n", " ", block.text)
    prompts = any(line.startswith("$ ") for line in text.splitlines())
    exported: dict[str, str] = {}
    found: list[Command] = []
    for line in text.splitlines():
        line = line.strip()
        if prompts or block.lang in ("console", ""):  # commands after a prompt, output below
            if not line.startswith("$ "):
                continue
            line = line.removeprefix("$ ")
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;|\|", line.split(" #")[0]):
            argv = _unredirected(shlex.split(re.sub(r"\s&\s*$", "", part), comments=True))
            env = dict(exported)
            if argv and argv[0] == "env":
                argv.pop(0)
                while argv and argv[0].startswith("-"):  # -i, -u NAME
                    argv = argv[2:] if argv[0] in ("-u", "--unset") else argv[1:]
            while argv and ASSIGNMENT.match(argv[0]):
                name, value = ASSIGNMENT.match(argv.pop(0)).groups()  # type: ignore[union-attr]
                env[name] = value
            if argv and argv[0] == "export":
                for arg in argv[1:]:
                    if found_assignment := ASSIGNMENT.match(arg):
                        exported[found_assignment.group(1)] = found_assignment.group(2)
                env = dict(exported)
                argv = []
            argv = _program(argv)
            if argv or env:
                found.append(Command(tuple(argv), tuple(env.items())))
    return found


@cache
def apirec_variables() -> frozenset[str]:
    """The ``APIREC_*`` names apirec's code reads or sets: its string literals of that form."""
    names: set[str] = set()
    for path in (ROOT / "apirec").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"APIREC_[A-Z0-9_]*[A-Z0-9]", value):
                names.add(value)
    return frozenset(names)


@dataclass(frozen=True)
class PluginOptions:
    takes_value: dict[str, bool]  # --apirec-NAME -> whether it takes a value
    ini_keys: frozenset[str]  # apirec_NAME


@cache
def plugin_options() -> PluginOptions:
    """The plugin's options and ini keys, as ``pytest --help`` lists them."""
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    found = re.finditer(r"(--apirec[\w-]+)(=)?", shown)
    options = {m.group(1): m.group(2) is not None for m in found}
    ini = frozenset(re.findall(r"^\s+(apirec_\w+) \(", shown, re.M))
    return PluginOptions(options, ini)


def _pytest_settings(argv: tuple[str, ...], known: PluginOptions) -> tuple[list[str], list[str]]:
    """The apirec options and ``-o apirec_*`` keys of a pytest argv, as ``--name=value`` and
    ``-o key=value`` arguments; and what is not the plugin's."""
    given: list[str] = []
    wrong: list[str] = []
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        if arg.startswith("--apirec"):
            name, eq, _ = arg.partition("=")
            if name not in known.takes_value:
                wrong.append(f"unknown option {name}")
            elif known.takes_value[name] and not eq and args and not args[0].startswith("-"):
                given.append(f"{name}={args.pop(0)}")
            else:
                given.append(arg)
        elif arg in ("-o", "--override-ini") or arg.startswith(("-o", "--override-ini=")):
            pair = args.pop(0) if arg in ("-o", "--override-ini") and args else arg
            pair = pair.removeprefix("--override-ini=").removeprefix("-o")
            key = pair.split("=")[0]
            if key.startswith("apirec") and key not in known.ini_keys:
                wrong.append(f"unknown ini key {key} (-o)")
            elif key.startswith("apirec"):
                given += ["-o", pair]
    return given, wrong


@cache
def _pytest_refuses(
    given: tuple[str, ...], env: tuple[tuple[str, str], ...], base: tuple[tuple[str, str], ...]
) -> str:
    """What the real pytest says when run with these settings beside a test that opens a
    recording, or "" when it passes."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_nothing.py").write_text(USES_THE_FIXTURE, encoding="utf-8")
        Path(tmp, "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        argv = ["-q", "--strict-config", *OTHER_PLUGINS_OFF, *given]
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *argv, "test_nothing.py"],
            cwd=tmp,
            env={**dict(base), **dict(env)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    if done.returncode == 0:
        return ""
    printed = (done.stdout + done.stderr).splitlines()
    # pytest's error lines (a usage error, or the test's ``E`` lines), else all it printed
    said = [line for line in printed if line.startswith("E ") or "error" in line.lower()]
    return "\n".join(said or printed)


def command_problems(block: Block, env: dict[str, str]) -> list[str]:
    """Why the block's commands would not work when pasted (apirec's and pytest's), with the
    command; [] when they all would."""
    known = plugin_options()
    wrong: list[str] = []
    told: set[str] = set()  # an exported name is said once, not at each command after it
    # where the commands run, when the page says (a session's marker); a `cd` leaves it
    run_in = block.run_in
    for command in commands(block):
        if command.argv[:1] == ("cd",):
            run_in = None
        script = command.argv[1] if len(command.argv) > 1 else ""
        if PYTHON.match(command.argv[0] if command.argv else "") and (
            missing := _missing_script(block, run_in, script)
        ):
            wrong.append(f"{command.text}: {missing}")
        names = {name for name, _ in command.env if name.startswith("APIREC_")}
        unread = sorted(names - apirec_variables() - told)
        told.update(unread)
        wrong += [f"{command.text}: apirec reads no {name}" for name in unread]
        if command.argv[:1] == ("apirec",):
            stderr = io.StringIO()
            try:
                with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                    _parser().parse_args(list(command.argv[1:]))
            except SystemExit as stopped:  # --help exits 0
                if stopped.code != 0:
                    wrong.append(f"{command.text}: {stderr.getvalue().strip().splitlines()[-1]}")
        elif command.argv[:1] == ("pytest",):
            given, unknown = _pytest_settings(command.argv, known)
            wrong += [f"{command.text}: {problem}" for problem in unknown]
            parsed, paths = pytest_options.parse(list(command.argv[1:]))
            # a block of another project's commands (marked not run, with why) may use the
            # options its conftest.py adds: only apirec's are checked then
            if parsed and not unknown and not block.not_run:
                wrong.append(f"{command.text}: pytest: {parsed}")
                continue
            if run_in is not None:
                gone = [p for p in paths if not (run_in / p.split("::")[0]).exists()]
                wrong += [f"{command.text}: no {path} in {run_in}" for path in gone]
            variables = tuple((k, v) for k, v in command.env if k.startswith("APIREC_"))
            if not unknown and (given or variables):
                base = tuple(sorted(env.items()))
                if refused := _pytest_refuses(tuple(given), variables, base):
                    wrong.append(f"{command.text}: pytest refuses it:\n{refused}")
    return wrong


# what an inline span may leave out: it names an option of a command, not all it needs
LEFT_OUT = ("the following arguments are required", "expected one argument")


def inline_problems(span: Block, env: dict[str, str]) -> list[str]:
    """Why an inline ``apirec ...``/``pytest ...`` span of prose (doc_blocks.inline_commands)
    names an option or value its program refuses: as a shell block's commands, but a span may
    mention an option (``apirec gc --min-age``) without the arguments a run needs."""
    return [p for p in command_problems(span, env) if not any(s in p for s in LEFT_OUT)]


def _missing_script(block: Block, run_in: Path | None, script: str) -> str | None:
    """Why ``python SCRIPT`` would find no script, or None: a ``.py`` path must exist where
    the page's commands run (its session's directory), else, when it names a directory, from
    the repository's root or the page's directory (``path/to/apirec/`` is the root); a bare
    name outside a session is the reader's own file."""
    if not script.endswith(".py"):
        return None
    script = script.replace("path/to/apirec/", "", 1)
    if run_in is not None:
        places = [run_in]
    elif "/" in script:
        places = [ROOT, block.page.parent]
    else:
        return None
    if any((place / script).is_file() for place in places):
        return None
    return f"no script {script} in {' or '.join(str(place) for place in places)}"


def _parser():  # type: ignore[no-untyped-def]
    from apirec.cli.parser import build

    return build()
