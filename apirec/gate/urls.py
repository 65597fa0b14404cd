"""Credentials in URLs: ``user:password@`` and query parameters with secret names.

A userinfo part (``https://user:pass@host``, ``https://TOKEN@host``) is replaced whole; a
query parameter (after ``?`` or ``&``, in a full URL or in a function name such as
``openai GET /models?api_key=...``) keeps its name and loses its value when the name is a
secret by the query rule of :mod:`apirec.gate.names` (``api_key``, ``token``, ``key``,
``sig``...). ``<`` ends a value, so a placeholder is never matched again.
"""

from __future__ import annotations

import re

from apirec.gate.names import QUERY, is_secret_name

_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/\s?#@\"'<>]+)@")
_PARAM_NAME = re.compile(r"[?&]([A-Za-z0-9_.%-]{1,64})\Z")
_VALUE = re.compile(r"[^&#\s\"'<>]+")
_LOOK_BACK = 256


def userinfo_at(text: str, at: int) -> tuple[int, int] | None:
    """The span of the userinfo ending at the ``@`` at ``at``, if it is one."""
    start = text.rfind("://", max(0, at - _LOOK_BACK), at)
    if start < 0:
        return None
    scheme = start
    while scheme > 0 and (text[scheme - 1].isalnum() or text[scheme - 1] in "+.-"):
        scheme -= 1
    m = _USERINFO.match(text, scheme)
    if m is None or m.end() != at + 1:
        return None
    return m.start(1), m.end(1)


def query_value_at(text: str, equals: int) -> tuple[str, int, int] | None:
    """``(name, start, end)`` of the value after the ``=`` at ``equals`` when it is a query
    parameter with a secret name."""
    m = _PARAM_NAME.search(text, max(0, equals - 65), equals)
    if m is None or not is_secret_name(m[1], QUERY):
        return None
    value = _VALUE.match(text, equals + 1)
    if value is None:
        return None
    return m[1], value.start(), value.end()
