"""Baseline: what the seeds' recorder (llama-stack's test recorder) does per replayed call.

Re-implemented here, step for step, so both sides are measured in the same run. On every
replay hit it:

1. normalises the request ``{"method", "endpoint", "body", "test_id"}``: every float rounded
   to 5 places, and every string scrubbed of volatile values with regular expressions
   (ISO timestamps, UUIDs, ``call_...`` / ``chatcmpl-...`` / ``rec-...`` ids, unix times);
2. serialises it with ``json.dumps(..., sort_keys=True)``;
3. hashes that with SHA-256; the hex digest is the file name;
4. opens ``<digest>.json`` in the recordings directory and parses it with ``json.load``;
5. rebuilds the response: resolves each ``__type__`` with ``__import__`` + ``getattr`` and
   calls ``model_validate`` on every object; a stream is validated chunk by chunk up front
   (all of it) and handed out by an async generator over the list.

Nothing is cached between calls, as in the seeds. ``write`` stores a recording the same way,
so the baseline replays the very payloads apirec replays.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

_VOLATILE = [
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"),
        "<ts>",
    ),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I), "<uuid>"),
    (re.compile(r"\bcall_[A-Za-z0-9]{8,}\b"), "call_<id>"),
    (re.compile(r"\bchatcmpl-[A-Za-z0-9]{8,}\b"), "chatcmpl-<id>"),
    (re.compile(r"\brec-[0-9a-f]{12}\b"), "rec-<id>"),
    (re.compile(r"\b1[6-9]\d{8}\b"), "<unix-time>"),
]


def _normalize(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, str):
        for pattern, replacement in _VOLATILE:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def request_hash(method: str, url: str, body: dict[str, Any], test_id: str | None) -> str:
    """Steps 1-3: normalise, sorted-key JSON, SHA-256."""
    normalized = {
        "method": method.upper(),
        "endpoint": urlparse(url).path,
        "body": _normalize(body),
        "test_id": test_id,
    }
    text = json.dumps(normalized, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _deserialize(data: Any) -> Any:
    if isinstance(data, dict) and "__type__" in data:
        module_name, class_name = data["__type__"].rsplit(".", 1)
        module = __import__(module_name, fromlist=[class_name])
        cls = getattr(module, class_name)
        return cls.model_validate(data["__data__"])
    return data


class SeedsRecorder:
    """A recordings directory replayed the seeds' way: see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(
        self, method: str, url: str, body: dict[str, Any], test_id: str | None, entry: Any
    ) -> Path:
        path = self.root / f"{request_hash(method, url, body, test_id)}.json"
        path.write_text(json.dumps(entry, indent=2) + "\n")
        return path

    def _load(self, method: str, url: str, body: dict[str, Any], test_id: str | None) -> Any:
        path = self.root / f"{request_hash(method, url, body, test_id)}.json"  # steps 1-3
        with open(path) as f:  # step 4
            return json.load(f)

    async def replay(self, method: str, url: str, body: dict[str, Any], test_id: str | None) -> Any:
        """A non-streamed answer, rebuilt (step 5)."""
        recording = self._load(method, url, body, test_id)
        return _deserialize(recording["response"]["body"])

    async def replay_stream(
        self, method: str, url: str, body: dict[str, Any], test_id: str | None
    ) -> AsyncIterator[Any]:
        """A streamed answer: every chunk validated first, then yielded (step 5)."""
        recording = self._load(method, url, body, test_id)
        chunks = [_deserialize(chunk) for chunk in recording["response"]["body"]]

        async def stream() -> AsyncIterator[Any]:
            for chunk in chunks:
                yield chunk

        return stream()
