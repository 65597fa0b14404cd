"""A small MCP server run over stdio, for tests with the real ``mcp`` SDK.

Run as ``python mcp_server.py`` (or serve ``make_server()`` over HTTP). It offers:

- tools ``add(a, b)`` (the sum, also as structured content) and ``divide(a, b)``, whose
  division by zero is a tool error (a result with ``isError``, not a protocol error);
- the resource ``notes://today`` (a short text) and the template ``notes://{day}``;
- the prompt ``review(code)`` (one user message quoting the code).

As the SDK's server does, it answers an unknown tool or arguments of the wrong type with a
tool error result, and an unknown resource with a protocol error (``INVALID_PARAMS``). When
the environment variable ``MCP_TEST_SERVER_LOG`` names a file, the server appends a line
``started`` when it starts, then one JSON line per message it receives (method and params),
so tests can show that replay never started it or never reached it.
``MCP_TEST_SERVER_NAME`` changes the name it gives in the handshake (default ``notes-demo``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

LOG_VARIABLE = "MCP_TEST_SERVER_LOG"
NAME_VARIABLE = "MCP_TEST_SERVER_NAME"


def _log(line: str) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")


async def _log_requests(ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
    _log(json.dumps({"method": ctx.method, "params": ctx.params}, default=str))
    return await call_next(ctx)


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def divide(a: float, b: float) -> float:
    """Divide a by b."""
    if b == 0:
        raise ToolError("division by zero")
    return a / b


def today() -> str:
    """Today's notes."""
    return "buy milk"


def notes(day: str) -> str:
    """The notes of a day."""
    return f"notes of {day}"


def review(code: str) -> str:
    """Ask for a code review."""
    return f"Please review this code:\n{code}"


def make_server(name: str = "notes-demo") -> MCPServer:
    """The server, new each time (tests serve it in-process over HTTP too)."""
    # CRITICAL: the SDK logs failed tool calls with tracebacks, noise in the tests' output
    server = MCPServer(name, version="1.0", log_level="CRITICAL")
    server.middleware.append(_log_requests)
    server.tool()(add)
    server.tool()(divide)
    server.resource("notes://today")(today)
    server.resource("notes://{day}")(notes)
    server.prompt()(review)
    return server


if __name__ == "__main__":
    _log("started")
    make_server(os.environ.get(NAME_VARIABLE, "notes-demo")).run("stdio")
