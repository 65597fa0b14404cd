"""The command this pytest run was started with: the one place every hint apirec prints
under pytest takes its options from, so that each works when pasted (issue 20).

A worker of pytest-xdist is started with the controller's arguments
(``config.invocation_params.args``), so a worker prints the command that was typed, not the
worker's own start-up line. What a rerun keeps is every option as given (``-c``,
``--rootdir``, ``-o``, ``-p``, ``-W``, ``--confcutdir``, apirec's own...): without
``-o pythonpath=src`` or ``-p plugin`` a pasted command does not even collect the test. What
it drops: the test selection (the positional arguments, which the hint replaces),
``--apirec-mode`` (the hint sets its own), ``--apirec-usage`` (a one-test rerun would
overwrite the run's report) and ``--basetemp`` (it would empty the run's temporary files).
"""

from __future__ import annotations

import pytest

from apirec.errors import command

# options a rerun leaves out, each with whether it takes the next word as its value
_DROPPED = {"--apirec-mode": True, "--apirec-usage": True, "--basetemp": True}


def _positional(config: pytest.Config) -> list[str]:
    """The test selection as typed (pytest's ``config.args`` when they came from the command
    line: testpaths and the current directory are no words of it)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    return [str(a) for a in config.args]


def rerun_options(config: pytest.Config) -> list[str]:
    """The run's options a rerun of some of its tests needs, as typed, in their order."""
    words = [str(a) for a in config.invocation_params.args]
    selection = _positional(config)
    # The positional words are taken from the end, where they are usually typed: an option's
    # value spelled like a test path (``--rootdir tests tests``) is the earlier word.
    kept_reversed: list[str] = []
    for word in reversed(words):
        if word in selection and not word.startswith("-"):
            selection.remove(word)
            continue
        kept_reversed.append(word)
    kept = kept_reversed[::-1]
    if "--" in kept:  # nothing typed after it is an option
        kept = kept[: kept.index("--")]
    options: list[str] = []
    skip_value = False
    for word in kept:
        if skip_value:
            skip_value = False
            continue
        name, equals, _ = word.partition("=")
        if name in _DROPPED:
            skip_value = not equals and _DROPPED[name]
            continue
        options.append(word)
    return options


def rerun(config: pytest.Config, selection: list[str], mode: str | None) -> str:
    """``pytest SELECTION [--apirec-mode=MODE] OPTIONS``, quoted for a shell."""
    mode_option = [f"--apirec-mode={mode}"] if mode else []
    return command("pytest", *selection, *mode_option, *rerun_options(config))


def whole_run(config: pytest.Config, mode: str | None) -> str:
    """The whole run again, with its own test selection (what a miss outside any test, in a
    conftest's session set-up, records)."""
    return rerun(config, _positional(config), mode)
