"""Well-known token shapes, found inside any string whatever its name.

Each shape is the fixed prefix a provider gives its keys and the body that follows. A shape
must not be part of a longer word on its left (``ask-...`` is no OpenAI key: the *fence*,
letters and digits; a hyphen or underscore joins words into an id, and a key glued to a
prefix, ``acme-sk-proj-...``, is still a key) and, for shapes of fixed length, on its right.
Bodies are long enough, and where a prefix is short (``sk-``, ``Bearer``) must hold a digit,
so that ordinary text, ids (``chatcmpl-1``, ``req_...``, UUIDs, hex digests) and base64
payloads do not match; the look-alikes are tested in ``tests/test_gate_detector.py``.

Finding is anchored, for speed: every shape holds one of a few characters at a known offset
from its start (the ``-`` of ``sk-``, the ``J`` of ``eyJ``...), found with ``str.find``
(memchr); only there is the shape's pattern tried (:mod:`apirec.gate.detect`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass

ALNUM_FENCE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


@dataclass(frozen=True)
class Shape:
    """One kind of token: its prefixes, the anchor character found at ``offset`` in each,
    the pattern matched from the token's start, and the characters that may not precede it.
    ``keep`` names a group of the pattern left in place (``Bearer ``); ``check``, when
    given, must accept what follows it (what a pattern cannot say: what base64 decodes to)."""

    kind: str
    prefixes: tuple[str, ...]
    anchor: str
    offset: int
    pattern: re.Pattern[str]
    shortest: int
    fence: frozenset[str] = ALNUM_FENCE
    keep: str | None = None
    check: Callable[[str], bool] | None = None


def _shape(
    kind: str, prefixes: str, anchor: str, pattern: str, shortest: int, **more: object
) -> Shape:
    firsts = tuple(prefixes.split())
    offset = firsts[0].index(anchor)
    assert all(p.index(anchor) == offset for p in firsts)
    compiled = re.compile(pattern)
    return Shape(kind, firsts, anchor, offset, compiled, shortest, **more)  # type: ignore[arg-type]


def _user_colon_password(token: str) -> bool:
    """Whether base64 ``token`` decodes to printable text holding ``:`` (``user:password``):
    prose after "Basic" ("information") decodes to nothing of the kind."""
    try:
        text = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode()
    except (binascii.Error, ValueError):
        return False
    return ":" in text and text.isprintable()


_RUN = re.compile(r"[A-Za-z0-9]{10,}")


def _credential_run(token: str) -> bool:
    """Whether a value after ``Bearer``/``Token`` looks like a credential: letters and
    digits, and a run of 10 letters and digits or more, mixed unless the value is 16
    characters or more (``30-year-bonds``, ``gpt-4o-mini-2024-07-18`` are neither)."""
    if not (any(c.isdigit() for c in token) and any(c.isalpha() for c in token)):
        return False
    long = len(token) >= 16
    return any(
        long or (any(c.isdigit() for c in run) and any(c.isalpha() for c in run))
        for run in _RUN.findall(token)
    )


_NO_ALNUM_AFTER = r"(?![A-Za-z0-9])"
# what separates a scheme's name from its credential: spaces, or a space URL-encoded (``%20``,
# ``%2520`` encoded twice) or form-encoded (``+``), as in ``?h=Bearer%20...``
_SPACE = r"(?:\s+|%(?:25)*20|\+)"
# base64 to its end; its text holds a ``:`` only if it holds ``O``, ``6`` or one of ``D T j z``
# before one of ``o p q r`` (``:`` is 0x3a at any of the 3 places of a group): a word of
# prose (``basic steps``) fails here, before the check decodes it
_BASE64_TO_END = (
    r"(?=[A-Za-z0-9+/]*?(?:O|6|[DTjz][opqr]))[A-Za-z0-9+/]{4,}={0,2}(?![A-Za-z0-9+/=_-])"
)
_NO_ID_AFTER = r"(?![A-Za-z0-9_-])"
# a word prefix (Bearer, Basic) counts only where no letter comes right before it
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

SHAPES: tuple[Shape, ...] = (
    _shape("anthropic_key", "sk-", "-", r"sk-ant-[A-Za-z0-9_-]{20,}", 27),
    # an OpenAI key's body holds a run of 16 letters and digits (a hyphenated product code,
    # ``sk-2024-summer-collection-blue-xl``, does not) and a digit
    _shape(
        "openai_key",
        "sk-",
        "-",
        r"sk-(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*?[A-Za-z0-9]{16})[A-Za-z0-9_-]{20,}",
        23,
    ),
    _shape("stripe_key", "sk_ rk_", "_", r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", 24),
    _shape(
        "aws_access_key_id",
        "AKIA ASIA ABIA ACCA",
        "A",  # one anchor for all shapes starting with A
        r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}" + _NO_ALNUM_AFTER,
        20,
    ),
    _shape("github_token", "ghp_ gho_ ghu_ ghs_ ghr_", "_", r"gh[pousr]_[A-Za-z0-9]{36,}", 40),
    _shape("github_token", "github_", "_", r"github_pat_[A-Za-z0-9_]{22,}", 33),
    # Slack's real shape: a type letter, then numbers (``xoxb-2048-...``): not ``xoxo-gossip``
    _shape(
        "slack_token",
        "xoxa- xoxb- xoxp- xoxo- xoxs- xoxr-",
        "-",
        r"xox[abposr]-[0-9]{1,20}-[A-Za-z0-9-]{8,}",
        15,
    ),
    _shape("google_api_key", "AIza", "A", r"AIza[0-9A-Za-z_-]{35}" + _NO_ID_AFTER, 39),
    _shape("huggingface_token", "hf_", "_", r"hf_[A-Za-z0-9]{30,}", 33),
    _shape("gitlab_token", "glpat-", "-", r"glpat-[A-Za-z0-9_-]{20,}", 26),
    _shape("replicate_token", "r8_", "_", r"r8_[A-Za-z0-9]{30,}", 33),
    # ``Token <value>`` (Django REST framework, Replicate): only a value of 20 characters or
    # more holding a digit and a letter, so "Token limit exceeded" and "Token 42" stay
    _shape(
        "token_auth",
        "Token",
        "k",  # not the T: a capital T starts many sentences
        r"(?P<keep>Token" + _SPACE + r")(?=[A-Za-z0-9._~+/-]*[0-9])(?=[A-Za-z0-9._~+/-]*[A-Za-z])"
        r"[A-Za-z0-9._~+/-]{20,}=*",
        26,
        fence=_LETTERS,
        keep="keep",
        check=_credential_run,
    ),
    _shape("jwt", "eyJ", "J", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", 24),
    _shape(
        "private_key",
        "-----BEGIN",
        "-",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"  # PGP's ends in BLOCK
        r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)",
        31,
        fence=frozenset("-"),
    ),
    # ``Bearer <token>``: only the token goes; it must hold a run of 10 letters and digits
    # mixed (prose has "Bearer bonds", "Bearer 30-year-bonds").
    _shape(
        "bearer",
        "Bearer BEARER",
        "B",
        r"(?P<keep>(?:Bearer|BEARER)"
        + _SPACE
        + r")(?=[A-Za-z0-9._~+/-]*[0-9])[A-Za-z0-9._~+/-]{10,}=*",
        17,
        fence=_LETTERS,
        keep="keep",
        check=_credential_run,
    ),
    _shape(  # lower case, as in an error echoing a header: ``authorization: bearer ...``
        "bearer",
        "bearer",
        "b",
        r"(?P<keep>bearer" + _SPACE + r")(?=[A-Za-z0-9._~+/-]*[0-9])[A-Za-z0-9._~+/-]{10,}=*",
        17,
        fence=_LETTERS,
        keep="keep",
        check=_credential_run,
    ),
    # ``Basic <base64(user:password)>`` (HTTP basic auth, sent for a ``user:pass@`` URL):
    # only the base64 goes, and only when it decodes to printable text with a ``:``.
    _shape(
        "basic_credentials",
        "Basic BASIC",
        "B",
        r"(?P<keep>(?:Basic|BASIC)" + _SPACE + r")" + _BASE64_TO_END,
        10,
        fence=_LETTERS,
        keep="keep",
        check=_user_colon_password,
    ),
    _shape(  # lower case, as in an error echoing a header: ``authorization: basic ...``
        "basic_credentials",
        "basic",
        "b",
        r"(?P<keep>basic" + _SPACE + r")" + _BASE64_TO_END,
        10,
        fence=_LETTERS,
        keep="keep",
        check=_user_colon_password,
    ),
)
