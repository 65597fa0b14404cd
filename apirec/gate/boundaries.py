"""What stands just before a token and still ends the word before it (the detector's fence,
:mod:`apirec.gate.tokens`): an escape that stands for a separator, an ANSI colour code, and,
in binary data, a string's length, which also says where the token must end.
"""

from __future__ import annotations

_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")
_DIGITS = frozenset("0123456789")
_ESCAPES = frozenset("nrtbf")  # the letter of a JSON or Python escape: ``\n`` ends a word
# what starts an ANSI escape sequence: the ESC character, or ESC written as an escape in a
# string's source or ``repr`` (``\x1b[1m``, ``\u001b[1m``, ``\033[1m``, ``\e[1m``)
_ESC = ("\x1b", "\\x1b", "\\x1B", "\\u001b", "\\u001B", "\\033", "\\e")


def _stands_for(code: int, fence: frozenset[str]) -> bool:
    """Whether the character of an escape's ``code`` separates words (is not in ``fence``)."""
    return code > 0x10FFFF or chr(code) not in fence


def escaped_boundary(text: str, start: int, fence: frozenset[str]) -> bool:
    r"""Whether the fence character just before ``start`` belongs to an escape that stands for
    a separator: ``\n`` (``\t``, ...), ``\u000a``, ``\U0001F600``, ``\xa9`` or ``\040`` in
    JSON or Python text held in a string (a tool call's arguments, a ``repr`` of bytes),
    ``%20``, ``%2D`` or ``%3D`` in URL-encoded text, ``&#233`` (an HTML character reference
    without its ``;``), and an ANSI colour code (``ESC[1m``: terminal output). Not for an
    escaped character that is itself in the ``fence`` (``%41``, ``\x41`` and ``\101`` are
    ``A``)."""
    if start >= 2 and text[start - 1] in _ESCAPES and text[start - 2] == "\\":
        return True  # ``\\\\n``: a ``\\n`` escaped again (JSON in a JSON string), or a backslash
    if start >= 3 and _HEX.issuperset(text[start - 2 : start]):
        # ``%3D``, and ``%253D`` (``%`` encoded again, ``%25``): the character it stands for
        at = start - 2
        while at >= 3 and text[at - 1] != "%" and text[at - 2 : at] == "25":
            at -= 2
        if text[at - 1] == "%":
            return _stands_for(int(text[start - 2 : start], 16), fence)
        if text[start - 4 : start - 2] == "\\x":
            return _stands_for(int(text[start - 2 : start], 16), fence)
    if (
        start >= 6
        and text[start - 6 : start - 4] == "\\u"
        and _HEX.issuperset(text[start - 4 : start])
    ):
        return _stands_for(int(text[start - 4 : start], 16), fence)
    if (
        start >= 10
        and text[start - 10 : start - 8] == "\\U"
        and _HEX.issuperset(text[start - 8 : start])
    ):
        return _stands_for(int(text[start - 8 : start], 16), fence)
    if start >= 4 and text[start - 4] == "\\" and _OCTAL.issuperset(text[start - 3 : start]):
        return _stands_for(int(text[start - 3 : start], 8), fence)
    return _html_reference(text, start, fence) or _ansi_code(text, start)


def _html_reference(text: str, start: int, fence: frozenset[str]) -> bool:
    """``&#233`` or ``&#xE9`` (up to 7 digits) right before ``start``, standing for a
    separator."""
    at = start
    while at > start - 7 and at > 2 and text[at - 1] in _HEX:
        at -= 1
    if at == start:
        return False
    digits = text[at:start]
    if text[at - 2 : at] == "&#" and _DIGITS.issuperset(digits):
        return _stands_for(int(digits), fence)
    if text[at - 3 : at] in ("&#x", "&#X"):
        return _stands_for(int(digits, 16), fence)
    return False


def _ansi_code(text: str, start: int) -> bool:
    """An ANSI escape sequence (``ESC[`` then numbers and ``;``, then a final letter) ending
    right before ``start``: terminal output, as in a command's captured output."""
    if not "@" <= text[start - 1] <= "~":
        return False
    at = start - 1
    while at > start - 20 and at > 1 and (text[at - 1] in _DIGITS or text[at - 1] == ";"):
        at -= 1
    if text[at - 1] != "[":
        return False
    return text.endswith(_ESC, max(0, at - 7), at - 1)


_STR16, _STR32 = frozenset("\xda\xc5"), frozenset("\xdb\xc6")  # msgpack str and bin types


def length_bounds(text: str, start: int) -> list[int]:
    """Where the string ends that a length just before ``start`` declares, in binary data
    (read one character per byte), for every way the bytes there read as one, largest
    first. msgpack's ``fixstr`` holds its length in its type byte (``0xa0``-``0xbf``);
    ``str8``/``bin8`` and protobuf's length-delimited fields put one length byte (``0x33``,
    a ``3``, for 51) right before the string, after a type or tag byte that is not printable;
    ``str16``/``bin16`` and ``str32``/``bin32`` put 2 or 4 big-endian bytes after their type
    byte (``0xda``/``0xc5``, ``0xdb``/``0xc6``), protobuf a 2-byte varint for 128 bytes or
    more. A length longer than the data is none (but a 1-byte one, of data cut short).
    The byte after the string is the next value's (a small int ``100`` reads ``d``): a
    token is matched up to the string's end, not into it."""
    room = len(text) - start
    ends = []
    if start >= 1:
        last = ord(text[start - 1])
        if start < 2 or not " " <= text[start - 2] <= "~":
            ends.append(start + min(last, room))
        if 0xA0 <= last <= 0xBF and last & 0x1F <= room:
            ends.append(start + (last & 0x1F))
    if start >= 3:
        if text[start - 3] in _STR16:
            length = ord(text[start - 2]) << 8 | ord(text[start - 1])
            if length <= room:
                ends.append(start + length)
        elif ord(text[start - 2]) >= 0x80 and not " " <= text[start - 3] <= "~":
            length = (ord(text[start - 2]) & 0x7F) | ord(text[start - 1]) << 7
            if 128 <= length <= room:
                ends.append(start + length)
    if start >= 5 and text[start - 5] in _STR32:
        length = int.from_bytes(text[start - 4 : start].encode("latin-1"), "big")
        if length <= room:
            ends.append(start + length)
    return sorted(ends, reverse=True) if len(ends) > 1 else ends
