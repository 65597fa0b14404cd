"""Credentials in URLs: ``user:password@`` and query parameters with secret names.

A userinfo part (``https://user:pass@host``, ``https://TOKEN@host``) is replaced whole: it
runs to the *last* ``@`` before the host (a password may hold ``@``), however long. A bare
user name with no password (``ssh://git@github.com``, ``https://alice@mirror``: lower case
letters, digits, ``._-``, up to 32 characters) is no credential and stays. A
query parameter (after ``?`` or ``&``, in a full URL or in a function name such as
``openai GET /models?api_key=...``) keeps its name and loses its value when the name is a
secret by the query rule of :mod:`apirec.gate.names` (``api_key``, ``token``, ``key``,
``sig``...). ``<`` ends a value, so a placeholder is never matched again.
"""

from __future__ import annotations

import re

from apirec.gate.names import QUERY, is_secret_name, is_secret_value

_PARAM_NAME = re.compile(r"[?&]([A-Za-z0-9_.%-]{1,64})\Z")
_VALUE = re.compile(r"[^&#\s\"'<>]+")
# after ``://``: everything up to the last ``@`` before the path, query or fragment
_USERINFO_AFTER = re.compile(r"([^/\s?#\"'<>]+)@")
# ``user:password@`` whose password holds ``/``: a user (no ``/``) and ``:``, then up to the
# last ``@`` that a host follows; not a port (``host:8080/a@b.test`` is a path with a ``@``)
_USERINFO_SLASH = re.compile(
    r"([^/\s?#\"'<>:@]+:(?![0-9]*(?:[/?#]|\Z))[^\s\"'<>]*)@"
    r"(?=[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#\s\"'<>]|\Z))"
)
_USERINFO_ESCAPED = re.compile(r"([^/\\\s?#\"'<>]+)@")
_SCHEME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")
# a bare user name: words of letters (capitalised or not), a few digits after each, joined
# by ``._-`` (``git``, ``alice``, ``Contoso``, ``john.doe2``); not a 32-hex key (Sentry's DSN),
# nor ``TOKEN123``
_USER_NAME = re.compile(
    r"(?=.{1,32}\Z)[A-Za-z][a-z]*[0-9]{0,4}(?:[._-](?:[A-Za-z][a-z]*[0-9]{0,4}|[0-9]{1,4}))*"
)


# what ends a URL's scheme: ``://``, or ``:\/\/`` in JSON that escapes its slashes (PHP's
# ``json_encode``, many APIs): ``"https:\/\/admin:pw@db.test\/x"``
SCHEME_ENDS = ("://", ":\\/\\/")


def userinfo_spans(text: str) -> list[tuple[int, int]]:
    """The spans of every URL userinfo in ``text`` that holds a credential: one forward pass
    over the ``://`` (and the ``:\\/\\/``) in it."""
    spans = []
    for end in SCHEME_ENDS:
        at = text.find(end)
        while at >= 0:
            scheme = at
            while scheme > 0 and text[scheme - 1] in _SCHEME_CHARS:
                scheme -= 1
            if scheme < at and text[scheme].isalpha():
                after = at + len(end)
                if end == "://":
                    m = _USERINFO_AFTER.match(text, after) or _USERINFO_SLASH.match(text, after)
                else:  # escaped: up to a ``\``, which no userinfo holds unescaped in JSON
                    m = _USERINFO_ESCAPED.match(text, after)
                if m is not None and not _USER_NAME.fullmatch(m[1]):
                    spans.append((m.start(1), m.end(1)))
            at = text.find(end, at + len(end))
    if len(spans) > 1:
        spans.sort()
    return spans


def secret_name_before(text: str, equals: int) -> bool:
    """Whether the ``=`` at ``equals`` ends a query parameter's name that is a secret."""
    m = _PARAM_NAME.search(text, max(0, equals - 65), equals)
    return m is not None and is_secret_name(m[1], QUERY)


def query_value_at(text: str, equals: int) -> tuple[str, int, int] | None:
    """``(name, start, end)`` of the value after the ``=`` at ``equals`` when it is a query
    parameter with a secret name."""
    m = _PARAM_NAME.search(text, max(0, equals - 65), equals)
    if m is None or not is_secret_name(m[1], QUERY):
        return None
    value = _VALUE.match(text, equals + 1)
    if value is None or not is_secret_value(m[1], value[0]):
        return None
    return m[1], value.start(), value.end()
