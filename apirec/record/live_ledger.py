"""The ledger of a live answer, made the same way by every mode that makes one (record,
compare): what the call took, when its chunks came, what the provider reported
(:func:`apirec.stores.ledger.ledger_of`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from apirec.stores.ledger import ledger_of
from apirec.streams.completeness import caller_chunks


def live_ledger(
    response: Mapping[str, Any], began: float, chunk_times: list[float] | None
) -> dict[str, Any]:
    """``response`` (as stored) of a call begun at ``began`` (perf_counter), its chunks come at
    ``chunk_times``: the first chunk is the first one its caller gets, not apirec's own head."""
    seconds = time.perf_counter() - began
    if chunk_times is None:
        return ledger_of(response, seconds)
    body = response.get("body")
    chunks = body if isinstance(body, list) else []
    heads = len(chunks) - caller_chunks(chunks) if len(chunks) == len(chunk_times) else 0
    return ledger_of(response, seconds, [t - began for t in chunk_times], heads)
