"""Record against a local fake, then replay with the fake unreachable: shared by the SDK tests."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apirec
from apirec.integrations import patch

SECRETS = (b"cookie-secret", b"org-secret", b"proj-secret", b"sk-test")


async def _run(run: Callable[[str], Any], base_url: str) -> Any:
    result = run(base_url)
    return await result if inspect.isawaitable(result) else result


async def record_then_replay(
    store_dir: Path, server: Any, closed_url: str, run: Callable[[str], Any], sdk: str, **options
) -> tuple[Any, Any]:
    """``run(base_url)`` recorded against ``server``, then replayed with nothing listening:
    (live result, replayed result). The server must receive nothing during replay."""
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, sdk, **options)
        live = await _run(run, server.base_url)
    assert rec.stats.recorded >= 1
    served = server.requests
    assert served >= 1
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, sdk, **options)
        replayed = await _run(run, closed_url)
    assert server.requests == served, "replay reached the server"
    assert rec.stats.replayed >= 1
    assert rec.stats.missed == 0
    return live, replayed


def stored_bytes(store_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(store_dir.rglob("*")) if p.is_file())
