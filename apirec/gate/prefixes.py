"""Whether a text holds the prefix of any token shape at all, in one compiled search.

The detector finds shapes with one ``re`` pass over the text per anchor character
(:mod:`apirec.gate.detect`): about 1 µs per pass over a 3 KB request, paid by every call
replayed or recorded, although almost no request holds a token. pydantic-core, which apirec
depends on already, matches a ``pattern`` with Rust's ``regex`` crate, whose literal
prefilter searches a set of strings in one vectorised pass (0.5 µs over the same 3 KB
instead of 7). A text that holds none of the prefixes cannot hold a shape (each shape starts
with one), so only a text that holds one pays the detector's passes.

pydantic-core is imported on the first search, not with the gate: ``apirec ls`` and
``apirec --help`` never load it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from apirec.gate.tokens import SHAPES

_search: Callable[[str], object] | None = None
# Below this, the detector's passes cost as little as the compiled search; and a function's
# name (checked when it is decorated) never makes a program import pydantic-core (~18 ms).
SEARCHED_FROM = 128


def _compiled() -> Callable[[str], object]:
    """``text -> text or None``: the text when it holds a prefix, None when it holds none (a
    failed ``pattern`` gives the default instead of raising: no exception per call)."""
    from pydantic_core import SchemaValidator, core_schema

    # shortest first: the order of the alternatives steers the crate's choice of prefilter;
    # this one keeps prose, JSON and base64 at ~0.5 µs per 3 KB (alphabetical order, once
    # ``basic`` joined ``bearer``, cost 1.4 µs on English prose)
    prefixes = sorted(
        {prefix for shape in SHAPES for prefix in shape.prefixes}, key=lambda p: (len(p), p)
    )
    pattern = "|".join(map(re.escape, prefixes))
    schema = core_schema.with_default_schema(
        core_schema.str_schema(pattern=pattern, strict=True), default=None, on_error="default"
    )
    validator = SchemaValidator(schema, core_schema.CoreConfig(regex_engine="rust-regex"))
    return validator.validate_python


def holds_a_prefix(text: str) -> bool:
    """Whether ``text`` may hold the prefix of some token shape (``sk-``, ``Bearer``,
    ``eyJ``...): False only when it holds none; always True for short text.

    ``text`` must be one whose characters UTF-8 can carry (no lone surrogates: text read one
    character per byte, ASCII text): pydantic-core would refuse another, which would read as
    "no prefix". Callers that cannot vouch for their text do not call this."""
    if len(text) < SEARCHED_FROM:
        return True  # the detector's passes decide
    global _search
    search = _search
    if search is None:
        search = _search = _compiled()
    return search(text) is not None
