"""Which MCP server a connection goes to, named the same on every machine; and the stand-ins
for what replay never opens: a stdio server's process, an SSE server's event stream.

A connection is named before its handshake from what the client was given: a stdio command by
its program and first non-option argument, base names only (``python mcp_server.py`` whether
the script lies in ``/home/a/x`` or ``/tmp/y``, run by ``/usr/bin/python3.12`` or
``python``); a URL by scheme, host and path (no credentials, port or query); an in-process
server by its name. The environment and working directory never take part. After the
handshake a session is named by the server's own name (``serverInfo.name``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

# The name of the connection being opened in this task: set where the client is given its
# server (a stdio launch, `Client.__aenter__`) and read by the handshake a few awaits later
# in the same task, when the session that makes it knows nothing of where it is connected.
connecting: ContextVar[str] = ContextVar("apirec_mcp_connecting", default="")

# "python3.12" and "python" are one interpreter; "node.exe" is "node"
_VERSIONED = re.compile(r"^(?P<stem>.*?[A-Za-z_-])[\d.]*(?:\.exe)?$", re.IGNORECASE)
# a package pinned to a version, as npx and uvx take it: "server-github@0.6.2", "x==1.0"
_PINNED = re.compile(r"(?<=[^@])(?:@|==)[^/@=]*$")


def _base_name(text: str) -> str:
    if "://" in text:
        return url_label(text)
    return PureWindowsPath(PurePosixPath(text).name).name or text


def program_name(command: str) -> str:
    """A command's base name without its version or ``.exe``: ``/usr/bin/python3.12`` ->
    ``python``."""
    base = _base_name(command)
    match = _VERSIONED.match(base)
    return match.group("stem") if match else base


def stdio_label(command: str, args: list[str] | tuple[str, ...]) -> str:
    """``program first-argument``: the program and the first argument that is not an option,
    by base names, without a package's pinned version (upgrading a server keeps its
    recordings). Later arguments are left out: they are often options whose values are
    paths or credentials (``--token abc``)."""
    program = program_name(command)
    first = next((a for a in args if not a.startswith("-")), None)
    return program if first is None else f"{program} {_PINNED.sub('', _base_name(first))}"


def url_label(url: str) -> str:
    """``scheme://host/path``: no user, password, port (tests serve on random ports), query
    or fragment, which may carry credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def server_label(server: Any) -> str:
    """The name of what ``mcp.Client(server)`` connects to."""
    if isinstance(server, str):
        return url_label(server)
    command = getattr(server, "command", None)
    if isinstance(command, str):  # StdioServerParameters
        return stdio_label(command, list(getattr(server, "args", None) or []))
    name = getattr(server, "name", None)  # an in-process Server / MCPServer
    if isinstance(name, str):
        return name
    return type(server).__name__  # a Transport


class _SilentOutput:
    """The stand-in's stdout: nothing to read until it is closed, then the end."""

    def __init__(self) -> None:
        import anyio

        self._closed = anyio.Event()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        import anyio

        await self._closed.wait()
        raise anyio.EndOfStream

    async def aclose(self) -> None:
        self._closed.set()


class _DiscardedInput:
    """The stand-in's stdin: takes what is written and drops it (replay answers every
    request before it reaches the transport, so only stray bytes would arrive here)."""

    def __init__(self, process: ReplayProcess) -> None:
        self._process = process

    async def send(self, item: bytes) -> None:
        return None

    async def aclose(self) -> None:
        self._process.returncode = 0  # the server "exits" when its stdin closes, as it should


class ReplayProcess:
    """What ``stdio_client`` gets instead of a server process on replay: never launched,
    silent, and done as soon as the transport closes its stdin."""

    pid = 0
    stderr = None

    def __init__(self) -> None:
        self.returncode: int | None = None
        self.stdin = _DiscardedInput(self)
        self.stdout = _SilentOutput()

    async def wait(self) -> int:
        self.returncode = 0
        return 0

    def terminate(self) -> None:
        self.returncode = 0

    def kill(self) -> None:
        self.returncode = 0

    def send_signal(self, signal: int) -> None:
        self.returncode = 0

    async def aclose(self) -> None:
        await self.stdout.aclose()
        self.returncode = 0


class _Connected:
    def raise_for_status(self) -> None:
        return None


class _ReplayEvents:
    """An SSE server's event stream as the SDK's SSE client reads it: the endpoint to post
    to (on the same origin, as the client checks), then nothing until the client leaves."""

    response = _Connected()

    def __init__(self, url: str) -> None:
        self._endpoint = urlsplit(url).path or "/"

    async def __aiter__(self) -> AsyncIterator[Any]:
        import anyio

        yield _Event("endpoint", self._endpoint)
        await anyio.sleep_forever()


class _Event:
    def __init__(self, event: str, data: str) -> None:
        self.event = event
        self.data = data


@asynccontextmanager
async def replay_events(url: str) -> AsyncIterator[_ReplayEvents]:
    """What ``sse_client`` gets instead of the GET of the server's event stream on replay."""
    yield _ReplayEvents(url)
