"""Issue 19, found in review: the key side's pre-check (``might_hold_token``) must flag every call
whose arguments the gate's exact search would scrub, so that keys are never computed from an
unscrubbed form (docs/performance.md, "The verdict is exactly the unfenced exact search's").

It reads the packed call as bytes, one character per byte, while the exact search that scrubs
a call runs on the argument strings themselves. ``Bearer``, ``Token`` and ``Basic`` take
``\\s+`` after them, which on a ``str`` matches Unicode spaces (NBSP, EM SPACE, IDEOGRAPHIC
SPACE, NEL...); in the packed UTF-8 bytes read as latin-1 those start with ``\\xc2``/``\\xe2``
/``\\xe3``, which are not spaces, so the pre-check says "no token" and the key is computed from
the raw secret. A rotated credential then misses in replay (it replays with an ASCII space).
The same gap exists before this work (c140bdf): not a regression, but the promise is broken.
"""

from __future__ import annotations

import msgpack
import pytest

import apirec
from apirec.gate.detect import find_spans, might_hold_token

CASES = [
    "Authorization: Bearer\u00a0abc123DEF456ghi789",  # NBSP (a web page's copy-paste)
    "Authorization: bearer\u0085abc123DEF456ghi789",  # NEL
    "Token\u2003ab12cd34ef56gh78ij90kl12",  # EM SPACE
    "Authorization: Basic\u3000YWxpY2U6cHc=",  # IDEOGRAPHIC SPACE, base64 of alice:pw
    # a second way: ``?token=``/``?key=`` values are judged by str.isdigit()/isalpha(); a
    # non-ASCII digit (here ARABIC-INDIC ONE) counts on the str, but its UTF-8 bytes read as
    # latin-1 ("\xd9\xa1") are no digit, so the pre-check judges the value no credential
    "https://api.test/v1?token=abcdefghijklmnop\u0661",
]


@pytest.mark.parametrize("text", CASES)
def test_the_pre_check_flags_what_the_exact_search_scrubs(text):
    assert find_spans(text)  # the gate scrubs this string when it walks the call
    packed = msgpack.packb(["f", {"headers": text}, "t::x"])
    assert might_hold_token(packed), packed  # ...but the pre-check never lets it walk


@apirec.record(name="review19.lookup")
def lookup(header: str) -> str:
    return "answer"


@pytest.mark.parametrize("space", ["\u00a0", "\u2003"])
def test_a_rotated_bearer_token_after_a_unicode_space_replays(tmp_path, space):
    with apirec.recording(tmp_path, mode="record"):
        lookup(f"Authorization: Bearer{space}abc123DEF456ghi789")
    # the same call with the credential rotated must key the same (as it does after " ")
    with apirec.recording(tmp_path, mode="replay") as replay:
        assert lookup(f"Authorization: Bearer{space}zyx987WVU654tsr321") == "answer"
    assert replay.stats.replayed == 1


def test_a_rotated_query_token_with_a_non_ascii_digit_replays(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        lookup("https://api.test/v1?token=abcdefghijklmnop\u0661")
    with apirec.recording(tmp_path, mode="replay") as replay:
        assert lookup("https://api.test/v1?token=zyxwvutsrqponmlk\u0661") == "answer"
    assert replay.stats.replayed == 1
