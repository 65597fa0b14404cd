"""Replay errors a server sent back (``X-Apirec-Miss``) raised where the test can see them:
by the pytest plugin at a test's teardown, or by :func:`raise_for_miss` for a client the
plugin does not hook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from email.message import Message

from apirec.errors import NetworkBlocked, RecordingNotFound
from apirec.servers.carriers import MISS_HEADER, decode_errors


def raise_for_miss(
    headers: Mapping[str, str] | Message | Iterable[tuple[str, str]], where: str = "(a request)"
) -> None:
    """Raise the replay error a server sent back in a response's ``X-Apirec-Miss`` header.

    ``headers``: the response's headers, a mapping or ``http.client``'s message (urllib's
    ``response.headers``), names in any case, or (name, value) pairs; ``where``
    names the request in the message. Nothing is raised when the header is absent.
    Raises :class:`~apirec.errors.RecordingNotFound`, or
    :class:`~apirec.errors.NetworkBlocked` when the first error was a blocked connection.
    """
    pairs = headers.items() if isinstance(headers, Mapping | Message) else headers
    wanted = MISS_HEADER.lower()
    values = [str(value) for name, value in pairs if str(name).lower() == wanted]
    if values:
        raise carried_error([(value, where) for value in values])


def carried_error(
    carried: list[tuple[str, str]], record_command: str = ""
) -> RecordingNotFound | NetworkBlocked:
    """The error that fails a test whose requests a server answered with replay errors.

    ``record_command``: the test's own command that records (the advice the server gave is
    its own command line, which records nothing: its recording is opened by ``apirec run``)."""
    total = 0
    first: dict[str, str] | None = None
    first_where = ""
    for value, where in carried:
        count, errors = decode_errors(value)
        total += count
        if first is None and errors:
            first, first_where = errors[0], where
    if first is None:  # the header held a count only (the messages did not fit)
        first, first_where = {"type": "RecordingNotFound", "message": ""}, carried[0][1]
    more = f" (and {total - 1} more)" if total > 1 else ""
    message = (
        f"the server that served this test's request {first_where} met a replay error{more}; "
        f"the test fails:\n{first['message'] or '(see the server log)'}"
    )
    if first.get("type") == "NetworkBlocked":
        return NetworkBlocked(message)
    if record_command:
        message = _with_record_command(message, record_command)
    return RecordingNotFound(
        message, function=first.get("function", ""), test_id=first.get("test_id")
    )


_ADVICE = ("To record it, run:", "To record it as the next answer, run:")


def _with_record_command(message: str, record_command: str) -> str:
    """The server's "To record it" advice (and the command after it) replaced by the test's
    own command; appended when the header had no room for it."""
    lines = message.splitlines()
    kept: list[str] = []
    skip = False
    for line in lines:
        if skip:
            skip = False
            continue
        if line in _ADVICE:
            skip = True  # the server's command line follows
            continue
        kept.append(line)
    kept += [
        "To record it, run the test with the mode (the server must follow it):",
        "  " + record_command,
        "  (the server records only if a fixture starts it through `apirec run` and passes "
        "the mode on: --apirec-mode sets APIREC_MODE, which the server's environment must "
        "inherit; see docs/servers.md)",
    ]
    return "\n".join(kept)
