"""llama-stack's recorder format: its keys, file names, request shape and id rewriting.

A recordings directory written by llama-stack's test recorder replays in place: the key of a
call is the SHA-256 hex digest of ``json.dumps({"method", "endpoint", "body", "test_id"},
sort_keys=True)`` where ``endpoint`` is the path of the recorded URL (the client's base URL
followed by the endpoint, e.g. ``/v1/v1/chat/completions``), ``body`` the keyword arguments as
sent, normalised by the recorder's current rules, and ``test_id`` the current test id or
``null``. Answers are ``<key>.json``; model lists ``models-<key>-<8 hex digits of the model
ids' SHA-256>.json``. On record, response ``id``s become ``rec-<key[:12]>``, ``created`` 0 and
ollama's timestamps and durations constants, as llama-stack did. On a miss the keys of the
recorder's older formulas are tried, newest first (:mod:`apirec.integrations.llama_stack_rules`).

Nothing here imports an SDK: the openai integration passes in how to read a client's base URL
and how to rebuild its errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from apirec.errors import UnhashableArgument, called
from apirec.gate.names import is_secret_name
from apirec.integrations import llama_stack_rules as rules
from apirec.integrations.llama_stack_rules import MODEL_LIST_ENDPOINTS
from apirec.keys.marks import REDACTED
from apirec.keys.sentinels import is_not_given
from apirec.keys.spec import KeySpec

Entry = dict[str, Any]
ErrorBuilder = Callable[[Mapping[str, Any], str], BaseException | None]


def request_hash(method: str, url: str, body: Mapping[str, Any], test_id: str | None) -> str:
    """The key llama-stack's current recorder gives a request (and the file name it writes)."""
    return rules.inference_key(method, url, body, test_id)


def model_ids_digest(ids: list[str]) -> str:
    """The 8 hex digits naming a model-list file: SHA-256 of the sorted unique ids, ``|``-joined."""
    return hashlib.sha256("|".join(sorted(set(ids))).encode()).hexdigest()[:8]


def plain(value: Any, where: str) -> Any:
    """A request argument as JSON data, exactly (no rounding: the key must match llama-stack's)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):  # the SDK sends no entry for its not-given sentinels
        return {str(k): plain(v, f"{where}.{k}") for k, v in value.items() if not is_not_given(v)}
    if isinstance(value, list | tuple):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    raise UnhashableArgument(
        f"argument {where!r} of type {kind} is not JSON data, so no llama-stack key can be "
        f"computed for this call; pass a list or dict instead",
        parameter=where,
        type_name=kind,
    )


def plain_body(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The body upstream hashed for an openai or ollama call: the keyword arguments as sent."""
    return {k: plain(v, k) for k, v in kwargs.items() if not is_not_given(v)}


def redacted(value: Any) -> Any:
    """The body as stored: secret-looking keys (``api_key``, ``authorization``...) redacted."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_name(k) else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


# 3f36bfaea (v0.2.24): the fields the recorder rewrote before storing (ollama's included)
_OLLAMA_DURATIONS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def _stable_ids(envelope: Any, key: str) -> Any:
    data = envelope.get("__data__") if isinstance(envelope, dict) else None
    if not isinstance(data, dict):
        return envelope
    data = dict(data)
    if data.get("object") != "model":  # a model's id is its name, not a volatile id
        if "id" in data:
            data["id"] = f"rec-{key[:12]}"
        if "created" in data:
            data["created"] = 0
    # upstream rewrites these in any answer; here only in ollama's, where they are a
    # timestamp string and durations (an openai Response's created_at is a number)
    if str(envelope.get("__type__", "")).startswith("ollama."):
        if "created_at" in data:
            data["created_at"] = "1970-01-01T00:00:00.000000Z"
        for name in _OLLAMA_DURATIONS:
            if data.get(name) is not None:
                data[name] = 0
    return {**envelope, "__data__": data}


def _model_ids(body: Any) -> list[str]:
    items = body if isinstance(body, list) else []
    ids = []
    for item in items:
        data = item.get("__data__", item) if isinstance(item, dict) else None
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            ids.append(data["id"])
    return ids


def provider_error(data: dict[str, Any], provider: str) -> dict[str, Any]:
    """apirec's record of an HTTP status error in llama-stack's ``provider_sdk`` form."""
    attributes = data.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else data
    status = attributes.get("status_code")
    if not isinstance(status, int):
        return data  # not an HTTP status error: apirec's own form, replayed by apirec's rules
    return {
        "category": "provider_sdk",
        "provider": provider,
        "type": str(data.get("type", "")).rsplit(".", 1)[-1],
        "message": data.get("message", ""),
        "status_code": status,
        "body": attributes.get("body"),
    }


class LlamaStackKeys:
    """Keys one SDK method's calls as llama-stack did (see the module docstring).

    ``base_url(instance)`` gives the client's base URL; ``build_error(data, url)`` rebuilds a
    recorded ``exception_data`` as the SDK's exception (None: leave it to apirec).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        base_url: Callable[[Any], str],
        build_error: ErrorBuilder | None = None,
        provider: str = "openai",
        body: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.base_url = base_url
        self.body = body or plain_body
        self.build_error = build_error
        self.provider = provider
        self.lists_models = endpoint in MODEL_LIST_ENDPOINTS

    def key(
        self,
        spec: KeySpec,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        test_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        if args:
            raise TypeError(f"{called(spec.name)} takes keyword arguments only")
        body = self.body(kwargs)
        url = rules.recorded_url(self.base_url(instance).rstrip("/") + self.endpoint)
        key = request_hash("POST", url, body, test_id)
        request = {
            "method": "POST",
            "url": url,
            "headers": {},
            "body": redacted(body),
            "endpoint": self.endpoint,
            "model": body.get("model", ""),
        }
        return key, request

    def stored(
        self, key: str, request: Mapping[str, Any], response: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        body = response.get("body")
        if isinstance(body, list):
            body = [_stable_ids(item, key) for item in body]
        else:
            body = _stable_ids(body, key)
        response = {**response, "body": body}
        if response.get("is_exception") and isinstance(response.get("exception_data"), dict):
            response["exception_data"] = provider_error(response["exception_data"], self.provider)
        if self.lists_models and not response.get("is_exception"):
            return response, f"models-{key}-{model_ids_digest(_model_ids(body))}.json"
        return response, None

    def aliases(self, request: Mapping[str, Any], test_id: str | None) -> list[str]:
        """The keys of llama-stack's older formulas, newest first, tried when the current one
        finds nothing (:data:`apirec.integrations.llama_stack_rules.FORMULAS`)."""
        url, body = request.get("url"), request.get("body")
        if not isinstance(url, str) or not isinstance(body, dict):
            return []
        return rules.inference_keys("POST", url, body, test_id)[1:]

    def choose(self, request: Mapping[str, Any], entries: list[Entry]) -> Entry | None:
        """Model lists: the files recorded from this URL, else all; several are merged."""
        if not self.lists_models:
            return None
        url = request.get("url")
        same = [e for e in entries if e.get("request", {}).get("url") == url]
        chosen = same or entries
        if len(chosen) == 1:
            return chosen[0]
        # llama-stack's rule for several lists under one key: their union, sorted by id
        by_id: dict[str, Any] = {}
        for entry in chosen:
            for item in entry["response"].get("body") or []:
                ids = _model_ids([item])
                if ids:
                    by_id[ids[0]] = item
        merged = {**chosen[0]["response"], "body": [by_id[k] for k in sorted(by_id)]}
        return {**chosen[0], "response": merged}

    def error(self, request: Mapping[str, Any], data: Mapping[str, Any]) -> BaseException | None:
        if self.build_error is None or data.get("category") != "provider_sdk":
            return None
        url = request.get("url")
        return self.build_error(data, url if isinstance(url, str) else self.endpoint)
