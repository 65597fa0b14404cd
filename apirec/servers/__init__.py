"""Beyond one process: apirec in a server under test.

``asgi_middleware`` and ``wsgi_middleware`` serve each request in the context of the test
that sent it (``carriers``: the headers both ways; ``clients``: the test side's hooks on
httpx, requests and aiohttp, which the pytest plugin installs; ``misses``: the errors sent
back, raised, also by ``raise_for_miss`` for other clients).

``python -m apirec run -- COMMAND`` (``launcher``) runs a program with one process-wide
recording open in it and in every Python process it starts (``process``, through the
``sitecustomize`` in ``bootstrap/``); the settings travel in ``APIREC_RUN`` (``run_settings``).

Layer: above ``apirec.integrations``; it may import every layer below. Nothing here imports
pytest or an SDK. Loaded on first use, so the pytest plugin's start-up can read ``carriers``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apirec.record.lazy_module import lazy_attributes

if TYPE_CHECKING:
    from apirec.servers.asgi import asgi_middleware
    from apirec.servers.misses import raise_for_miss
    from apirec.servers.wsgi import wsgi_middleware

_LAZY = {
    "asgi_middleware": "apirec.servers.asgi",
    "wsgi_middleware": "apirec.servers.wsgi",
    "raise_for_miss": "apirec.servers.misses",
}


__getattr__ = lazy_attributes("apirec.servers", _LAZY, globals())

__all__ = ["asgi_middleware", "raise_for_miss", "wsgi_middleware"]
