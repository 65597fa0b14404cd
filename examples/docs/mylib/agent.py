"""Code under test that calls the library's search inside."""

from __future__ import annotations

from mylib import search


async def research(topic: str) -> list[str]:
    return search.web_search(f"{topic} facts", max_results=2)
