"""Text measured in terminal columns, not characters: a CJK character or an emoji takes two
columns, a combining mark (the accent of ``é`` written as ``e`` + U+0301) and a zero-width
joiner none. Tables fit, cut and pad their cells by these widths, so names in any script
keep a table within the terminal (issue 20)."""

from __future__ import annotations

import unicodedata

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\ufe0e\ufe0f")


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or ch in _ZERO_WIDTH or unicodedata.category(ch) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """The columns ``text`` takes on a terminal."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


def _head(text: str, columns: int) -> str:
    """The longest start of ``text`` that takes at most ``columns`` columns, with the marks
    that combine with its last character."""
    used = 0
    for at, ch in enumerate(text):
        used += _char_width(ch)
        if used > columns:
            return text[:at]
    return text


def shorten(text: str, columns: int) -> str:
    """``text`` cut to ``columns`` columns, keeping its end (``…Completions.create``)."""
    if width(text) <= columns:
        return text
    tail = _head(text[::-1], columns - 1)[::-1]
    while tail and _char_width(tail[0]) == 0:  # no mark without the character it marks
        tail = tail[1:]
    return "…" + tail


def shorten_end(text: str, columns: int) -> str:
    """``text`` cut to ``columns`` columns, keeping its start."""
    if width(text) <= columns:
        return text
    return _head(text, columns - 1) + "…"


def ljust(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def rjust(text: str, columns: int) -> str:
    return " " * (columns - width(text)) + text


def pieces(text: str, columns: int) -> list[str]:
    """``text`` in lines of at most ``columns`` columns (a value carried over lines)."""
    lines: list[str] = []
    while text:
        line = _head(text, columns) or text[:1]
        lines.append(line)
        text = text[len(line) :]
    return lines
