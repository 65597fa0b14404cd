"""integrations.patch(rec, "mcp"), the ways to a server: several stdio servers at once, a
remote server over streamable HTTP with credentials, the legacy SSE transport,
ClientSessionGroup; and the names connections are keyed by."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import time

import httpx2
import pytest
import uvicorn
from mcp import Client, ClientSessionGroup, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ListToolsResult

import apirec
from apirec import integrations
from apirec.integrations.mcp_servers import program_name, stdio_label, url_label
from tests.mcp_helpers import (
    SERVER,
    launch,
    offline_server,
    received,
    same_error,
    use_client,
)
from tests.mcp_server import LOG_VARIABLE, NAME_VARIABLE, make_server


async def test_servers_connected_at_once_each_get_their_own_answers(tmp_path):
    # two servers, two scripts: the handshakes are told apart by the command, the requests
    # by the server's name; connected concurrently, in whatever order they come up
    other = tmp_path / "scripts" / "other_server.py"
    other.parent.mkdir()
    shutil.copy(SERVER, other)
    store = tmp_path / "recordings"

    async def use(params: StdioServerParameters) -> tuple[str, ListToolsResult]:
        async with Client(params) as client:
            return client.server_info.name, await client.list_tools()

    async def both(mode: str, first, second) -> list:
        async with apirec.recording(store, mode=mode) as rec:
            integrations.patch(rec, "mcp")
            return await asyncio.gather(use(first), use(second))

    live = await both(
        "record",
        launch(SERVER, tmp_path / "a.log", **{NAME_VARIABLE: "alpha"}),
        launch(other, tmp_path / "b.log", **{NAME_VARIABLE: "beta"}),
    )
    assert [name for name, _ in live] == ["alpha", "beta"]
    missing = tmp_path / "missing"
    replayed = await both(
        "replay",
        launch(missing / SERVER.name, tmp_path / "c.log", command=str(missing / "python")),
        launch(missing / other.name, tmp_path / "d.log", command=str(missing / "python")),
    )
    assert replayed == live
    assert not (tmp_path / "c.log").exists()
    assert not (tmp_path / "d.log").exists()


@pytest.mark.parametrize(
    ("command", "args", "label"),
    [
        ("/usr/bin/python3.12", ["/a/mcp_server.py", "--token", "s3"], "python mcp_server.py"),
        ("C:\\Python311\\python.exe", ["C:\\srv\\server.py"], "python server.py"),
        ("npx", ["-y", "@modelcontextprotocol/server-github"], "npx server-github"),
        ("npx", ["-y", "@modelcontextprotocol/server-github@0.6.2"], "npx server-github"),
        ("uvx", ["mcp-server-fetch==2025.4.7"], "uvx mcp-server-fetch"),
        ("npx", ["@scope/server"], "npx server"),
        ("uvx", ["mcp-server-fetch"], "uvx mcp-server-fetch"),
        ("/opt/bin/node18", ["-e", "x"], "node x"),
        ("my-server", [], "my-server"),
    ],
)
def test_stdio_labels_keep_only_base_names(command, args, label):
    assert stdio_label(command, args) == label


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://user:pw@mcp.example.com:8443/mcp?key=abc#x", "https://mcp.example.com/mcp"),
        ("http://127.0.0.1:53211/mcp", "http://127.0.0.1/mcp"),
    ],
)
def test_url_labels_leave_out_credentials_ports_and_queries(url, label):
    assert url_label(url) == label


def test_program_names_leave_out_versions():
    assert program_name("python3") == program_name(os.path.basename(sys.executable)) == "python"


REMOTE = "https://mcp.example.com/mcp"


async def test_a_remote_server_with_credentials_replays_offline(store_dir, tmp_path, monkeypatch):
    # recorded from the server's HTTP app served in-process as if it were a remote host that
    # wants a bearer token; replayed with a plain Client(url) and the network blocked
    log = tmp_path / "server.log"
    monkeypatch.setenv(LOG_VARIABLE, str(log))
    server = make_server()
    app = server.streamable_http_app(
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app), headers={"Authorization": "Bearer s3cret"}
    )
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mcp")
        remote = streamable_http_client(REMOTE, http_client=http)
        async with server.session_manager.run(), http, Client(remote) as client:
            live = await use_client(client)
    assert "tools/call" in received(log)
    log.unlink()

    with apirec.recording(store_dir, mode="replay", block_network=True) as rec:
        integrations.patch(rec, "mcp")
        async with Client(REMOTE) as client:
            replayed = await use_client(client)
    assert not log.exists()
    assert rec.blocked == []
    same_error(replayed.pop("unknown resource"), live.pop("unknown resource"))
    assert replayed == live
    stored = " ".join(file.read_text() for file in store_dir.glob("*.json"))
    assert "s3cret" not in stored
    assert "https://mcp.example.com/mcp" in stored  # the handshake names the server by URL


@pytest.fixture
def sse_server(tmp_path, monkeypatch):
    """make_server() served over the legacy SSE transport on 127.0.0.1 by uvicorn in a
    thread; yields its URL and request log; stopped after the test."""
    log = tmp_path / "sse.log"
    monkeypatch.setenv(LOG_VARIABLE, str(log))
    config = uvicorn.Config(make_server().sse_app(), host="127.0.0.1", port=0, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the SSE server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/sse", log, server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def test_a_server_over_sse_replays_offline(store_dir, sse_server):
    url, log, server = sse_server
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mcp")
        async with Client(sse_client(url)) as client:
            live = await use_client(client)
    assert "tools/call" in received(log)
    server.should_exit = True  # nothing listens any more
    log.unlink()

    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mcp")
        async with Client(sse_client(url)) as client:
            replayed = await use_client(client)
    assert not log.exists()
    assert rec.blocked == []
    same_error(replayed.pop("unknown resource"), live.pop("unknown resource"))
    assert replayed == live


async def test_a_client_session_group_replays_without_its_servers(store_dir, tmp_path):
    async def use(params: StdioServerParameters, mode: str) -> tuple[list[str], object]:
        with apirec.recording(store_dir, mode=mode) as rec:
            integrations.patch(rec, "mcp")
            async with ClientSessionGroup() as group:
                await group.connect_to_server(params)
                return sorted(group.tools), await group.call_tool("add", {"a": 20, "b": 22})

    log = tmp_path / "server.log"
    tools, live = await use(launch(SERVER, log), "record")
    assert tools == ["add", "divide"]
    assert "tools/call" in received(log)
    params, offline_log = offline_server(tmp_path)
    assert await use(params, "replay") == (tools, live)
    assert not offline_log.exists()
