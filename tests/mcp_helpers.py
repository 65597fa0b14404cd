"""What the MCP integration's tests share: launching tests/mcp_server.py, reading its request
log, and a client session that goes through every entry point."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

import apirec
from apirec import integrations
from tests.mcp_server import LOG_VARIABLE

SERVER = Path(__file__).resolve().parent / "mcp_server.py"


def launch(script: Path | str, log: Path, *, command: str = sys.executable, **env: str):
    return StdioServerParameters(
        command=command, args=[str(script)], env={LOG_VARIABLE: str(log), **env}
    )


def received(log: Path) -> list[str]:
    """What the server's log says: ``started``, then the method of each message received."""
    if not log.exists():
        return []
    lines = log.read_text().splitlines()
    return [line if line == "started" else json.loads(line)["method"] for line in lines]


def offline_server(tmp_path: Path) -> tuple[StdioServerParameters, Path]:
    """Stdio parameters of a server that cannot start (neither command nor script exist),
    and the log it would write."""
    log = tmp_path / "offline.log"
    missing = tmp_path / "no" / "such"
    return launch(missing / SERVER.name, log, command=str(missing / "python3")), log


async def protocol_error(call) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await call
    return caught.value


async def use_client(client: Client) -> dict:
    """What an agent does with an MCP server: every entry point, one error of each kind."""
    return {
        "server": (client.server_info, client.protocol_version),
        "tools": await client.list_tools(),
        "add": await client.call_tool("add", {"a": 1, "b": 2}),
        "divide by zero": await client.call_tool("divide", {"a": 1, "b": 0}),
        "resource": await client.read_resource("notes://today"),
        "template": await client.read_resource("notes://monday"),
        "prompt": await client.get_prompt("review", {"code": "x = 1"}),
        "prompts": await client.list_prompts(),
        "resources": await client.list_resources(),
        "unknown resource": await protocol_error(client.read_resource("missing://x")),
    }


async def run_client(
    store: Path, mode: str, params: StdioServerParameters, *, test_id=None, **options
) -> dict:
    async with apirec.recording(store, mode=mode, test_id=test_id) as rec:
        integrations.patch(rec, "mcp", **options)
        async with Client(params) as client:
            return await use_client(client)


def same_error(replayed: MCPError, live: MCPError) -> None:
    assert type(replayed) is type(live)
    assert (replayed.code, replayed.message, replayed.data) == (live.code, live.message, live.data)
    assert str(replayed) == str(live)
