"""The hosts a store's answers were recorded against, for the network guard.

Read only when the guard asks (a loopback connection under replay), and kept per store
location until the store changes (its directory's or file's modification time), so a suite
whose tests share one directory reads it once, not once per test.
"""

from __future__ import annotations

import os
import threading

from apirec.errors import StoreError
from apirec.guard.hosts import RecordedHosts
from apirec.guard.origins import origin_in
from apirec.stores.json_store import Store

_KEEP = 256  # store locations remembered
_cache: dict[str, tuple[int, RecordedHosts]] = {}
_lock = threading.Lock()


def recorded_hosts(store: Store) -> RecordedHosts:
    location = store.location
    try:
        stamp = os.stat(location).st_mtime_ns
    except OSError:
        return RecordedHosts()  # nothing stored yet
    with _lock:
        cached = _cache.get(location)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    origins = set()
    for key, index, _ in store.entries():
        try:
            entry = store.read(key, index, resolve_blobs=False)  # its origin, not payloads
        except StoreError:
            continue  # replaying it says what is wrong with it
        origin = origin_in(entry) if entry is not None else None
        if origin is not None:
            origins.add(origin)
    hosts = RecordedHosts.of(origins)
    with _lock:
        if len(_cache) >= _KEEP:
            _cache.clear()
        _cache[location] = (stamp, hosts)
    return hosts
