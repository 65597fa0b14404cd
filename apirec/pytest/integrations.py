"""The plugin's side of the SDK integrations: which SDKs each test's recording patches.

``--apirec-integrations=openai,anthropic`` (repeatable), the ini key ``apirec_integrations``
(comma- or line-separated) and the marker option ``integrations=[...]``; the marker replaces
the command line, which replaces the ini file (pytest's rule), but a name written ``+name``
(``--apirec-integrations=+mcp``) is added to the list it would replace; an empty value
(``--apirec-integrations=``) replaces it with none. The names are those of
:func:`apirec.integrations.patch`, checked when the run starts (a usage error naming the
known ones), and patched into each test's recording for as long as it is open. In a run
that replays, the SDKs' API key variables that are not set hold placeholders for the whole
run (clients built in session fixtures need them too; :mod:`apirec.integrations.credentials`):
those known without importing the SDK from the start, those found in its own classes
(``AZURE_OPENAI_API_KEY``...) from the moment the run imports it, so a run that never does
never pays for its import.
An SDK patched only in a test's body (``integrations.patch(apirec, "openai")``) gets its
placeholder then, after the test's fixtures built their clients: a test of a replaying run that
errors with the SDK's refusal to build a client without a key gets a note saying to name the
SDK in ``apirec_integrations`` (:func:`explain_missing_key`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import pytest

from apirec.errors import InvalidMode
from apirec.integrations import credentials
from apirec.integrations.registry import UnknownIntegration, module_for, patch
from apirec.pytest import run_keys
from apirec.record.error_policy import client_of
from apirec.record.modes import Mode, resolve_mode
from apirec.record.recording import Recording
from apirec.record.settings import split_hosts as split_names

MARKER_OPTIONS = ("integrations",)
NAMES = pytest.StashKey[tuple[str, ...]]()
REPLAYS = pytest.StashKey[bool]()  # the run's mode (command line, ini, environment) is replay


def _checked(names: Iterable[str], where: str) -> tuple[str, ...]:
    checked: list[str] = []
    for name in names:
        try:
            module_for(name)
        except UnknownIntegration as e:
            raise pytest.UsageError(f"{where}: {e}") from None
        if name not in checked:
            checked.append(name)
    return tuple(checked)


def _combined(base: Iterable[str], given: Iterable[str], where: str) -> tuple[str, ...]:
    """``given`` replaces ``base`` (pytest's rule: the command line overrides the ini file),
    but names written ``+name`` are added to it; both may be given (``openai,+mcp``)."""
    given = list(given)
    added = [n[1:].strip() for n in given if n.startswith("+")]
    replacing = [n for n in given if not n.startswith("+")]
    if any(not n for n in added):
        raise pytest.UsageError(f"{where}: '+' must be followed by an SDK import name")
    return _checked([*(replacing if replacing else base), *added], where)


def configure(config: pytest.Config) -> None:
    ini = [n for line in config.getini("apirec_integrations") for n in split_names(line)]
    values = config.getoption("apirec_integrations") or ()
    cli = [n for value in values for n in split_names(value)]
    cleared = any(not value.strip() for value in values)  # --apirec-integrations= : none
    if cleared or (cli and not all(n.startswith("+") for n in cli)):  # the ini list: unread
        config.stash[NAMES] = _combined((), cli, "--apirec-integrations")
        return
    names = _checked(ini, "ini apirec_integrations")
    config.stash[NAMES] = _combined(names, cli, "--apirec-integrations") if cli else names


def names_for(item: pytest.Item, marker: dict[str, Any], where: str) -> tuple[str, ...]:
    """The SDKs this test's recording patches: the marker's (``+name`` adds to the run's),
    else the run's."""
    if "integrations" not in marker:
        return item.config.stash[NAMES]
    given = marker["integrations"]
    if isinstance(given, str):
        given = split_names(given)
    if not isinstance(given, list | tuple) or not all(isinstance(n, str) for n in given):
        raise pytest.UsageError(f"{where}: integrations= takes a list of SDK import names")
    if not any(n.startswith("+") for n in given):
        return _checked(given, where)
    run: tuple[str, ...] = item.config.stash[NAMES]
    return _combined(run, given, where)


def patch_into(rec: Recording, names: tuple[str, ...]) -> None:
    if names:
        patch(rec, *names)


def hold_credentials(config: pytest.Config, mode: Mode | None) -> None:
    """A run that replays (``mode``: the command line's or ini file's, else the environment's)
    builds the run's SDKs' clients without keys, even before any test's recording opens
    (:mod:`apirec.pytest.run_keys`: held once, also if the start-up held them already)."""
    try:
        replays = resolve_mode(mode) is Mode.REPLAY
    except InvalidMode:  # a bad APIREC_MODE: each test's recording says so
        return
    config.stash[REPLAYS] = replays
    if replays:
        run_keys.hold(config, config.stash[NAMES])


def unconfigure(config: pytest.Config) -> None:
    run_keys.release(config)


def explain_missing_key(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """A note on the error of a test's setup or call, in a run that replays, when an SDK the
    run does not patch refused to build its client for want of its API key (no key of the
    user's set): the placeholder key came too late, with a patch in the test's body."""
    error = call.excinfo.value if call.excinfo is not None else None
    if error is None or call.when not in ("setup", "call"):
        return
    if not item.config.stash.get(REPLAYS, False):
        return
    sdk = client_of(error)
    if sdk is None or sdk in item.config.stash[NAMES]:
        return
    try:
        variables = [v for group in credentials.groups(module_for(sdk), sdk) for v in group]
    except (UnknownIntegration, ImportError):
        return  # an SDK apirec does not patch: no placeholder to set earlier
    if not variables or any(
        os.environ.get(v) not in (None, "", credentials.PLACEHOLDER) for v in variables
    ):
        return  # the user's own key is set: the client refused something else
    if any(note.startswith("apirec: name ") for note in getattr(error, "__notes__", ())):
        return  # a session fixture's error, reported again for each test
    usual = f"{sdk.split('.')[0].upper()}_API_KEY"  # AZURE_OPENAI_API_KEY is openai's too
    key = usual if usual in variables else variables[0]
    error.add_note(
        f"apirec: name {sdk} in the ini key apirec_integrations (or --apirec-integrations="
        f"{sdk}): this replay run has no {key}, and apirec sets a placeholder key "
        f"only while {sdk} is patched; integrations.patch(apirec, {sdk!r}) in a test's body "
        f"comes after the clients its fixtures (or modules, at import) built"
    )
