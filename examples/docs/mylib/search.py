"""A web search you do not own (it stands for any third-party function): slow, and online."""

from __future__ import annotations

import time

CALLS = {"n": 0}  # how often the real function ran: replay never runs it


def web_search(query: str, *, max_results: int = 3) -> list[str]:
    CALLS["n"] += 1
    time.sleep(0.05)
    return [f"https://example.org/{query}/{i}" for i in range(max_results)]
