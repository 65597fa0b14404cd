"""The scrub walk: every value of an entry through the names rule, the detector and the
user's rules; the same walk for keys (:func:`scrub_call`) and for ``apirec scan``.

What is replaced takes a fixed placeholder of its own type, so a replayed answer still
decodes: text ``"<redacted>"`` (only the token inside a longer text), bytes
``b"<redacted>"``; numbers, booleans and None stay (no credential apirec records is a
number, while counts named like secrets are common: a token index).
A list or dict under a secret name keeps its shape, each value inside replaced. Typed
envelopes (``{"__type__", "__data__", "__state__"}``) keep their type: bytes are scrubbed as
bytes, a UUID the nil UUID, a Decimal ``0``; under a secret name, every part of an envelope
but its type (``__data__``, a pydantic model's ``__state__``: excluded fields, private
attributes) is replaced, keeping field names. Dict keys are read by the detector and the
user's rules like any string; under a secret name a key that does not read as a name
(letters, digits, ``_.-``, up to 40 characters, a few digits) is replaced. Two keys of one
dict replaced alike are numbered, ``<redacted>``, ``<redacted:2>``..., so no entry is lost.
Nothing is changed in place; unchanged parts are shared with the input.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from typing import Any

from apirec.gate.detect import scrub_bytes, scrub_text
from apirec.gate.joined import scrub_chunks
from apirec.gate.names import context_of, is_secret_name, is_secret_value
from apirec.gate.placeholders import BYTES_TYPES, DATA, STATE, TYPE, placeholder, rekeyed_dict
from apirec.gate.rules import NO_RULES, Rules

_NAME_SECRET = "secret_name"
# the parts of an entry the gate reads: what was asked, what came back, and whose test
ENTRY_PARTS = ("test_id", "request", "response")
# the only fields of an entry it leaves unread: when and by which versions it was recorded
UNREAD = frozenset({"recorded_at", "versions"})

Finding = tuple[str, str]  # (where, kind)


class _Walk:
    def __init__(self, rules: Rules, found: list[Finding] | None) -> None:
        self.rules = rules
        self.found = found

    def note(self, path: str, kinds: list[str]) -> None:
        if self.found is not None:
            self.found.extend((path, kind) for kind in kinds)

    def text(self, text: str, path: str) -> str:
        kinds: list[str] | None = [] if self.found is not None else None
        out = scrub_text(text, kinds)
        if self.rules:
            ruled = self.rules.apply(out)
            if kinds is not None and ruled != out:
                kinds.append("scrub_rule")
            out = ruled
        if kinds:
            self.note(path, kinds)
        return out

    def data(self, data: bytes, path: str) -> bytes:
        kinds: list[str] | None = [] if self.found is not None else None
        out = scrub_bytes(data, kinds)
        if self.rules:
            try:
                text = out.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None:
                ruled = self.rules.apply(text)
                if ruled != text:
                    out = ruled.encode("utf-8")
                    if kinds is not None:
                        kinds.append("scrub_rule")
            else:  # binary: the patterns on its bytes, replaced as the built-in shapes are
                latin = out.decode("latin-1")
                ruled = self.rules.apply_patterns(latin)
                if ruled != latin:
                    out = ruled.encode("latin-1")
                    if kinds is not None:
                        kinds.append("scrub_rule")
        if kinds:
            self.note(path, kinds)
        return out

    def value(self, value: Any, context: str | None, path: str) -> Any:
        t = type(value)
        if t is str:
            return self.text(value, path)
        if t is dict:
            if TYPE in value:
                return self.envelope(value, context, path)
            if context is not None:
                return self.named_mapping(value, context, path)
            return self.mapping(value, path)
        if t is list:
            return self.sequence(value, context, path)
        if t is bytes:
            return self.data(value, path)
        return value

    def _child(self, path: str, name: Any) -> str:
        return f"{path}.{name}" if self.found is not None else path

    def key(self, name: str, scrubbed: str, path: str) -> str:
        """A dict key (``scrubbed``: the detector's verdict, cached) through the user's rules."""
        new = self.rules.apply(scrubbed) if self.rules else scrubbed
        if new != name:
            self.note(f"{path}<key>", ["token_in_name"])
        return new

    def mapping(self, value: dict[Any, Any], path: str) -> dict[Any, Any]:
        out: list[tuple[Any, Any, Any]] | None = None
        rekeyed = False
        for k, v in value.items():
            new_k = k
            if type(k) is str:
                secret, context, scrubbed = _key_info(k)  # names recur: one cached lookup
                if secret and is_secret_value(k, v) and not _text_token(k, v, value):
                    new_v = self.secret(v, self._child(path, k))
                else:
                    new_v = self.value(v, context, self._child(path, k))
                if scrubbed is not k or self.rules:
                    new_k = self.key(k, scrubbed, path)
                    if new_k == k:
                        new_k = k
                    else:
                        rekeyed = True
            else:
                new_v = self.value(v, None, self._child(path, k))
            if out is None and (new_v is not v or new_k is not k):
                out = []
                for k0, v0 in value.items():  # the entries before this one, unchanged
                    if k0 is k:
                        break
                    out.append((k0, k0, v0))
            if out is not None:
                out.append((k, new_k, new_v))
        if out is None:
            return value
        return rekeyed_dict(out) if rekeyed else {new_k: new_v for _, new_k, new_v in out}

    def named_mapping(self, value: dict[Any, Any], context: str, path: str) -> dict[Any, Any]:
        """A dict of headers or query parameters: names judged in their context."""
        out = []
        changed = rekeyed = False
        for k, v in value.items():
            where = self._child(path, k)
            new_k = k
            if type(k) is str:
                scrubbed = _key_info(k)[2]
                if scrubbed is not k or self.rules:
                    new_k = self.key(k, scrubbed, path)  # a token as a header's name
                    rekeyed = rekeyed or new_k != k
            if type(k) is str and is_secret_name(k, context) and is_secret_value(k, v):
                new_v = self.secret(v, where)
            else:
                new_v = self.value(v, None, where)
            changed = changed or new_v is not v
            out.append((k, new_k if new_k != k else k, new_v))
        if rekeyed:
            return rekeyed_dict(out)
        return {k: new_v for k, _, new_v in out} if changed else value

    def sequence(self, value: list[Any], context: str | None, path: str) -> list[Any]:
        if value and _pair(value[0]) is not None and all(_pair(v) is not None for v in value):
            return self.pairs(value, context, path)
        out = None
        for i, v in enumerate(value):
            new_v = self.value(v, context, f"{path}[{i}]" if self.found is not None else path)
            if new_v is not v and out is None:
                out = list(value[:i])
            if out is not None:
                out.append(new_v)
        return value if out is None else out

    def pairs(self, value: list[Any], context: str | None, path: str) -> list[Any]:
        """``[[name, value], ...]``: header pairs (lists, tuples, names as bytes), a dict with
        other keys than strings (the codec's list of pairs): read by their string names."""
        out = []
        changed = False
        for item in value:
            parts = _pair(item)
            assert parts is not None
            name, v = parts
            first = item[DATA][0] if type(item) is dict else item[0]
            new_first = first
            if name is None:  # a key that is no name (a number): only its value is read
                new_v = self.value(v, None, path)
            elif is_secret_name(name, context) and is_secret_value(name, v):
                new_v = self.secret(v, self._child(path, name))
            else:
                new_v = self.value(v, context_of(name), self._child(path, name))
            if type(first) is str:
                new_first = self.key(first, _key_info(first)[2], path)
            elif name is None:
                new_first = self.value(first, None, path)
            if new_v is v and new_first == first:
                out.append(item)
                continue
            changed = True
            if type(item) is dict:
                out.append({**item, DATA: [new_first, new_v]})
            else:
                out.append([new_first, new_v])
        return out if changed else value

    def envelope(self, value: dict[str, Any], context: str | None, path: str) -> Any:
        kind = value[TYPE]
        data = value.get(DATA)
        if kind in BYTES_TYPES and type(data) is str:
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                return value
            scrubbed = self.data(raw, path)
            if scrubbed is raw:
                return value
            return {**value, DATA: base64.b64encode(scrubbed).decode("ascii")}
        if (
            kind == "builtins.dict"
            and type(data) is list
            and all(_pair(v) is not None for v in data)
        ):
            pairs = self.pairs(data, context, self._child(path, DATA))
            return value if pairs is data else {**value, DATA: pairs}
        if kind == "builtins.tuple" and type(data) is list:
            pair = self.tuple_pair(data, context, path)
            if pair is not None:
                return value if pair is data else {**value, DATA: pair}
        out = dict(value)
        changed = False
        for part in (DATA, STATE):
            if part in value:
                where = self._child(path, part)
                if context is not None and type(value[part]) is dict and part == DATA:
                    new = self.named_mapping(value[part], context, where)
                else:
                    new = self.value(value[part], context, where)
                changed = changed or new is not value[part]
                out[part] = new
        return out if changed else value

    def tuple_pair(self, data: list[Any], context: str | None, path: str) -> list[Any] | None:
        """A tuple ``(name, value)`` whose name is a secret's, as the key side reads one
        (:mod:`apirec.keys.canonical`): its value replaced; None for any other tuple."""
        if len(data) != 2 or type(data[0]) is not str:
            return None
        name, v = data
        if not (is_secret_name(name, context) and is_secret_value(name, v)):
            return None
        new_name = self.key(name, _key_info(name)[2], path)
        new_v = self.secret(v, self._child(path, name))
        return data if new_v is v and new_name == name else [new_name, new_v]

    def secret(self, value: Any, path: str) -> Any:
        """The placeholder of ``value``'s type, for a value under a secret name."""
        new = placeholder(value)
        if self.found is not None and new != value:
            self.found.append((path, _NAME_SECRET))
        return new


@functools.lru_cache(maxsize=8192)
def _key_info(name: str) -> tuple[bool, str | None, str]:
    """A dict key's verdict: secret by name, the context of its entries, itself scrubbed."""
    return is_secret_name(name, None), context_of(name), scrub_text(name)


def _text_token(name: str, value: Any, siblings: dict[Any, Any]) -> bool:
    """A ``token`` text beside a ``logprob`` (OpenAI's logprobs): a piece of text."""
    return type(value) is str and name.lower() == "token" and "logprob" in siblings


def _pair(value: Any) -> tuple[str | None, Any] | None:
    """``(name, value)`` of a pair: ``[name, value]`` or a tuple's envelope, its name text or
    bytes (None for a name of another type: a dict's number key), or None if no pair."""
    if type(value) is dict and value.get(TYPE) == "builtins.tuple":
        value = value.get(DATA)
    if type(value) is not list or len(value) != 2:
        return None
    name = value[0]
    if type(name) is str:
        return name, value[1]
    if type(name) is bytes:
        return name.decode("latin-1"), value[1]
    if type(name) is dict and name.get(TYPE) in BYTES_TYPES and type(name.get(DATA)) is str:
        try:
            return base64.b64decode(name[DATA], validate=True).decode("latin-1"), value[1]
        except (binascii.Error, ValueError):
            return None, value[1]
    if type(name) in (int, float, bool) or name is None:
        return None, value[1]
    return None


def scrub_entry(entry: Mapping[str, Any], rules: Rules = NO_RULES) -> dict[str, Any]:
    """The entry as the gate lets it reach a store."""
    walk = _Walk(rules, None)
    out = dict(entry)
    for k, v in entry.items():  # every field but two: an old or hand-written file's too
        if k not in UNREAD:
            out[k] = walk.value(v, None if k in ENTRY_PARTS else context_of(k), k)
    chunks = _chunks(out.get("response"))
    if chunks is not None:
        body = scrub_chunks(chunks, rules)
        if body is not chunks:
            out["response"] = {**out["response"], "body": body}
    return out


def _chunks(response: Any) -> list[Any] | None:
    """A stored stream's chunks (a secret may be split across them: :mod:`.joined`)."""
    if type(response) is dict and response.get("is_streaming") is True:
        body = response.get("body")
        if type(body) is list:
            return body
    return None


def findings(entry: Any, rules: Rules = NO_RULES) -> list[Finding]:
    """``(where, kind)`` of every value the gate would replace in ``entry`` (any JSON data:
    a recording of apirec, or of another recorder)."""
    found: list[Finding] = []
    walk = _Walk(rules, found)
    if type(entry) is dict and any(part in entry for part in ENTRY_PARTS):
        for k, v in entry.items():
            if k in ENTRY_PARTS:
                scrubbed = walk.value(v, None, k)
                chunks = _chunks(scrubbed) if k == "response" else None
                if chunks is not None:  # the pieces the walk left
                    scrub_chunks(chunks, rules, found, "response.body")
            elif k not in UNREAD:
                walk.value(v, context_of(k), k)
    else:
        walk.value(entry, None, "")
    return found


def scrub_call(
    name: str, for_key: dict[str, Any], for_store: dict[str, Any], rules: Rules = NO_RULES
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A call's function name and its canonical arguments (the key's view and the stored
    view) as the gate lets them through: the key is computed from these."""
    walk = _Walk(rules, None)
    new_name = walk.text(name, "")
    new_key = walk.mapping(for_key, "")
    new_store = new_key if for_store is for_key else walk.mapping(for_store, "")
    return new_name, new_key, new_store
