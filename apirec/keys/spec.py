"""Keys: when two calls are "the same" (DESIGN §3).

Pure code: no filesystem, no SDK. A :class:`KeySpec` is built once per recorded function; it
binds a call's arguments to parameter names (:mod:`apirec.keys.binding`), turns the values into
plain data (:mod:`apirec.keys.canonical`) and hashes them with xxh3_128 over msgpack bytes.

:class:`Keying` is the seam for other recorders' formats: a keying passed to ``wrap()`` (or
``Patch``/``rec.patch(..., keying=...)``) replaces apirec's key and stored request for one
function, may rewrite the response before it is written and choose its file name, names other
keys the call may be stored under, picks the answer among files found under other names, and
may rebuild recorded exceptions in its own format. Compatibility code lives under
``apirec/integrations/``; the recorder only calls these methods.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import msgpack
import xxhash

from apirec.errors import called
from apirec.gate.detect import might_hold_token
from apirec.gate.names import context_of, is_secret_value
from apirec.gate.rules import NO_RULES, Rules, Scrub, compile_rules
from apirec.gate.walk import scrub_call
from apirec.keys.binding import Binding
from apirec.keys.canonical import Canonicalizer, _norm_name, _Slow
from apirec.keys.marks import (
    _OMITTED,
    _REDACTED,
    SURROGATES_EXT,
    _contains_marks,
    with_placeholders,
    without_redacted,
)
from apirec.keys.sentinels import is_not_given

Normalizer = Callable[[dict[str, Any]], Mapping[str, Any]]
_Packer = msgpack.Packer


def compute_key(name: str, arguments: Mapping[str, Any], scope: str | None) -> str:
    """xxh3_128 over msgpack bytes of ``[name, arguments, scope]``: 32 hex digits."""
    return xxhash.xxh3_128_hexdigest(_packed(name, arguments, scope))


def _packed(name: str, arguments: Mapping[str, Any], scope: str | None) -> bytes:
    # msgpack.packb makes the same Packer, through a Python frame taking **kwargs (~0.25 µs)
    try:
        packed: bytes = _Packer(use_bin_type=True).pack([name, arguments, scope or ""])
    except (OverflowError, UnicodeEncodeError):  # rare values: see _packable
        packed = _Packer(use_bin_type=True).pack([name, _packable(arguments), scope or ""])
    return packed


@functools.lru_cache(maxsize=1024)  # per test id: the same one call after call
def _str_size(text: str) -> int:
    """Bytes msgpack packs ``text`` into (its head and its UTF-8)."""
    n = len(text.encode("utf-8", "surrogatepass"))
    return n + (1 if n < 32 else 2 if n < 256 else 3 if n < 65536 else 5)


def _packable(value: Any) -> Any:
    """Values msgpack refuses, in forms no canonical value takes (keys made before stay)."""
    t = type(value)
    if t is int and not -(2**63) <= value < 2**64:
        return f"int:{value}"  # within Python's text limit: bigger ones are marked HugeInt
    if t is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (text cut mid-emoji): its exact code units
            return msgpack.ExtType(SURROGATES_EXT, value.encode("utf-8", "surrogatepass"))
        return value
    if t is dict:
        return {_packable(k): _packable(v) for k, v in value.items()}
    if t is list:
        return [_packable(v) for v in value]
    return value


class KeySpec(Binding):
    """Everything needed to turn one function's calls into canonical arguments and a key."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str,
        ignore: Iterable[str] = (),
        redact: Iterable[str] = (),
        normalize: Normalizer | None = None,
        shared: bool = False,
        float_digits: int = 6,
        keying: Keying | None = None,
        store_errors: str | Callable[[BaseException], bool] | None = None,
        repeats: str | None = None,
        own_kind: bool | str = False,
        service_errors: tuple[type[BaseException], ...] | None = None,
        scrub: Iterable[Scrub] | Rules = (),
    ) -> None:
        super().__init__(func, name=name)
        # what a call past the end of its recorded sequence gets (None: the recording's
        # choice); checked and applied by the recorder (apirec.record.sequences)
        self.repeats = repeats
        # an SDK's error classes that come from its service: only those (and errors with an
        # HTTP status, or of the connection) are stored (apirec.record.error_policy); None:
        # every error is the function's answer (@record)
        self.service_errors = service_errors
        # the stream kind (sync or async) of its answers is the function's own (@record):
        # replaying one stored as the other kind is an error; else it follows the caller.
        # "generator" for a (async) generator function, whose answer is always a stream
        self.own_kind = own_kind
        # the function's scrub= rules, applied by the write gate with the recording's
        self.scrub = compile_rules(scrub)
        # where the arguments start in a call's packed bytes (after the array head and the
        # name), and whether the name itself may hold a token (``GET /x?api_key=...``)
        self._args_at = 1 + len(msgpack.packb(name))
        self._name_suspect = might_hold_token(name.encode("utf-8", "surrogatepass"))
        self._contexts: dict[str, str | None] = {}  # parameter -> headers/query/None
        self._fast: dict[str, bool] = {}  # parameter -> tried on the fast path first
        # which errors of this function are stored (None: the recording's choice); checked and
        # applied by the recorder (apirec.record.error_policy), carried here with the function
        self.store_errors = store_errors
        self.normalize = normalize
        self.shared = shared
        # another format's keys and file names instead of apirec's (see Keying below)
        self.keying = keying
        ignore = list(ignore)
        self._ignored_params = frozenset(i for i in ignore if "." not in i)
        self._canon = Canonicalizer(
            float_digits=float_digits, ignore=[i for i in ignore if "." in i], redact=redact
        )

    def canonical(self, bound: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return ``(for_key, for_store)`` views of the canonical arguments."""
        canon = self._canon
        ignored = self._ignored_params
        items: dict[str, Any] = {}
        redacted = False
        paths = canon.ignore or canon.redact_paths
        plain, fast = canon.plain, self._fast
        for name in sorted(bound):
            is_fast = fast.get(name)
            if is_fast is None:
                is_fast = self._is_fast(name)
            if is_fast:  # most arguments: JSON-like data under an ordinary name
                value = bound[name]
                t = type(value)
                if t is str or t is bool or value is None:
                    items[name] = value
                    continue
                try:
                    items[name] = plain(value)
                    continue
                except (_Slow, TypeError):
                    pass
                value = canon.value(value, name, None, None, None)  # what the full path does
                if value is not _OMITTED:  # an SDK's "not given": the call without it
                    items[name] = value
                    redacted = redacted or _contains_marks(value)
                continue
            if name in ignored:
                continue
            if canon._secret(name) and is_secret_value(name, bound[name]):
                if not is_not_given(bound[name]):
                    items[name] = _REDACTED
                    redacted = True
                continue
            low = _norm_name(name) if paths else ""
            sub_ignore = canon.ignore.get(low) if paths else None
            sub_redact = canon.redact_paths.get(low) if paths else None
            if sub_redact is not None and not sub_redact:
                items[name] = _REDACTED
                redacted = True
                continue
            try:
                context = self._contexts[name]
            except KeyError:
                context = self._contexts.setdefault(name, context_of(name))
            if sub_ignore is None and sub_redact is None and context is None:
                try:
                    items[name] = canon.plain(bound[name])
                    continue
                except (_Slow, TypeError):
                    pass
            value = canon.value(bound[name], name, sub_ignore, sub_redact, context)
            if value is _OMITTED:  # an SDK's "not given": the call without it
                continue
            items[name] = value
            redacted = redacted or _contains_marks(value)
        if redacted:
            for_key: dict[str, Any] = without_redacted(items)
            for_store: dict[str, Any] = with_placeholders(items)
        else:
            for_key = for_store = items
        if self.normalize is not None:
            for_key = self._normalized(for_key)
            for_store = for_key if for_store is items else self._normalized(for_store)
        return for_key, for_store

    def _is_fast(self, name: str) -> bool:
        """Whether argument ``name`` is tried on the fast path first (:meth:`canonical`):
        not ignored, no secret's name, no path of ``ignore=``/``redact=`` under it, and
        holding neither headers nor query parameters."""
        canon = self._canon
        low = _norm_name(name)
        fast = (
            name not in self._ignored_params
            and not canon._secret(name)
            and canon.ignore.get(low) is None
            and canon.redact_paths.get(low) is None
            and context_of(name) is None
        )
        if len(self._fast) < 1024:  # a function's parameters, or the names of its **kwargs
            self._fast[name] = fast
        return fast

    def _normalized(self, arguments: dict[str, Any]) -> dict[str, Any]:
        assert self.normalize is not None
        result: object = self.normalize(dict(arguments))  # user code: checked, not trusted
        if not isinstance(result, Mapping):
            got = "None" if result is None else type(result).__name__
            raise TypeError(
                f"normalize= of {called(self.name)} returned {got}; "
                "it must return a mapping of the arguments to hash and store"
            )
        return dict(result)

    def key(self, arguments: Mapping[str, Any], scope: str | None) -> str:
        return compute_key(self.name, arguments, None if self.shared else scope)

    def call_key(
        self, bound: Mapping[str, Any], scope: str | None, rules: Rules | None = None
    ) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        """``(name, key, for_key, for_store)`` of a call, through the write gate: the key is
        computed from what is stored (a token in an argument is keyed as ``<redacted>``, so
        the call keys the same after it rotates). The gate's walk runs only when the packed
        call may hold a token (one fast pre-check) or ``scrub=`` rules are set. ``rules``:
        the call's ``scrub=`` rules, this function's own among them (None: its own only)."""
        for_key, for_store = self.canonical(bound)
        name = self.name
        scope = None if self.shared else scope
        packed = _packed(name, for_key, scope)
        if rules is None:  # else the caller's, this function's own among them
            rules = self.scrub
        # the arguments' bytes only: the name is checked once (here), a test id is code
        if (
            rules is not NO_RULES
            or self._name_suspect
            or might_hold_token(packed, self._args_at, len(packed) - _str_size(scope or ""))
        ):
            name, for_key, for_store = scrub_call(name, for_key, for_store, rules)
            packed = _packed(name, for_key, scope)
        return name, xxhash.xxh3_128_hexdigest(packed), for_key, for_store


Entry = dict[str, Any]


class Keying(Protocol):
    """How the calls of one wrapped function are keyed, stored and found.

    A keying may also define ``replayed(response) -> response``: a stored response in its
    format as the wrapped function returns it (a status kept beside the body, say)."""

    def key(
        self,
        spec: KeySpec,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        test_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        """``(key, request)``: the call's key and the JSON-ready request stored with it."""
        ...

    def stored(
        self, key: str, request: Mapping[str, Any], response: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """The response as written, and the file name to write it under (None: the default)."""
        ...

    def aliases(self, request: Mapping[str, Any], test_id: str | None) -> list[str]:
        """Other keys the same call may be stored under (another version's formula), in order."""
        ...

    def choose(self, request: Mapping[str, Any], entries: list[Entry]) -> Entry | None:
        """The answer among the files found for a key under other names, or None."""
        ...

    def error(self, request: Mapping[str, Any], data: Mapping[str, Any]) -> BaseException | None:
        """A recorded exception in this format rebuilt, or None to use apirec's own rules."""
        ...
