"""integrations.patch(rec, "mcp"): a real MCP server over stdio (tests/mcp_server.py) recorded
with the real mcp SDK, then replayed with no server at all (its command does not exist, its
request log stays empty)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

import httpx2
import pytest
import uvicorn
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, GetPromptResult, ListToolsResult, ReadResourceResult

import apirec
from apirec import integrations
from apirec.integrations.mcp_servers import program_name, stdio_label, url_label
from tests.mcp_server import LOG_VARIABLE, NAME_VARIABLE, make_server

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


@pytest.fixture
def offline(tmp_path: Path):
    """Stdio parameters of a server that cannot start: neither command nor script exist."""
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


SHARED = "recorded once for the module"


class Recorded(NamedTuple):
    store: Path
    live: dict
    received: list[str]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Recorded:
    """use_client against the real server, recorded once for the tests that replay it (each
    start of the server costs seconds)."""
    root = tmp_path_factory.mktemp("mcp")
    log = root / "server.log"
    store = root / "recordings"
    live = asyncio.run(run_client(store, "record", launch(SERVER, log), test_id=SHARED))
    return Recorded(store, live, received(log))


async def replay_client(recorded: Recorded, params: StdioServerParameters) -> dict:
    return await run_client(recorded.store, "replay", params, test_id=SHARED)


async def test_client_records_then_replays_without_a_server(recorded, offline):
    assert recorded.received[0] == "started"
    assert "tools/call" in recorded.received

    params, offline_log = offline
    replayed = await replay_client(recorded, params)

    assert not offline_log.exists()  # never started: its command does not even exist
    live = recorded.live
    assert replayed.keys() == live.keys()
    for what in live:
        if what == "unknown resource":
            same_error(replayed[what], live[what])
        else:
            assert replayed[what] == live[what], what
            assert type(replayed[what]) is type(live[what]), what
    assert replayed["server"][0].name == "notes-demo"


async def test_each_entry_point_returns_the_sdks_types_on_replay(recorded, offline):
    replayed = await replay_client(recorded, offline[0])
    assert isinstance(replayed["tools"], ListToolsResult)
    assert [tool.name for tool in replayed["tools"].tools] == ["add", "divide"]
    assert isinstance(replayed["add"], CallToolResult)
    assert replayed["add"].structured_content == {"result": 3}
    assert isinstance(replayed["resource"], ReadResourceResult)
    assert replayed["resource"].contents[0].text == "buy milk"
    assert replayed["template"].contents[0].text == "notes of monday"
    assert isinstance(replayed["prompt"], GetPromptResult)
    assert "x = 1" in replayed["prompt"].messages[0].content.text


async def test_a_tools_error_result_replays_as_a_result(recorded, offline):
    replayed = await replay_client(recorded, offline[0])
    failed = replayed["divide by zero"]
    assert isinstance(failed, CallToolResult)
    assert failed.is_error is True
    assert failed.content[0].text == recorded.live["divide by zero"].content[0].text
    assert "division by zero" in failed.content[0].text


async def test_a_protocol_error_replays_as_the_sdks_error(recorded, offline):
    live = recorded.live["unknown resource"]
    assert live.code == -32602  # INVALID_PARAMS, from the real server
    replayed = await replay_client(recorded, offline[0])
    same_error(replayed["unknown resource"], live)
    assert replayed["unknown resource"].data == {"uri": "missing://x"}


async def use_session(params: StdioServerParameters) -> dict:
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        return {
            "initialize": await session.initialize(),
            "add": await session.call_tool("add", {"a": 2, "b": 3}),
            "tools": await session.list_tools(),
            "resource": await session.read_resource("notes://today"),
            "prompt": await session.get_prompt("review", {"code": "y = 2"}),
            "unknown resource": await protocol_error(session.read_resource("missing://y")),
        }


async def test_client_session_over_stdio_client_replays_without_a_server(
    store_dir, tmp_path, offline
):
    log = tmp_path / "server.log"
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mcp")
        live = await use_session(launch(SERVER, log))
    assert received(log)[:3] == ["started", "initialize", "notifications/initialized"]

    params, offline_log = offline
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mcp")
        replayed = await use_session(params)
    assert not offline_log.exists()
    assert (rec.stats.replayed, rec.stats.live, rec.stats.missed) == (7, 0, 0)
    same_error(replayed.pop("unknown resource"), live.pop("unknown resource"))
    assert replayed == live
    assert replayed["initialize"].server_info.name == "notes-demo"


def recorded_calls(store: Path) -> list[tuple[str, str, str]]:
    calls = []
    for file in sorted(store.glob("*.json")):
        entry = json.loads(file.read_text())
        request = entry["request"]
        calls.append((file.name, request["function"], json.dumps(request["args"])))
    return sorted(calls)


async def test_keys_do_not_depend_on_where_the_server_lies(tmp_path):
    here = tmp_path / "here"
    await run_client(here, "record", launch(SERVER, tmp_path / "here.log"))

    # the same server copied elsewhere, started through another name of the interpreter,
    # from another directory, with another environment
    elsewhere = tmp_path / "somewhere" / "else" / "entirely"
    elsewhere.mkdir(parents=True)
    shutil.copy(SERVER, elsewhere / SERVER.name)
    python = tmp_path / "bin" / "python3.11"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    params = launch(
        elsewhere / SERVER.name, tmp_path / "there.log", command=str(python), OTHER="value"
    )
    params.cwd = elsewhere
    there = tmp_path / "there"
    await run_client(there, "record", params)

    assert received(tmp_path / "there.log")[0] == "started"  # the copy did run
    assert recorded_calls(here) == recorded_calls(there)
    assert len(recorded_calls(here)) >= 10


async def test_keys_leave_out_meta_and_progress(store_dir, tmp_path, offline):
    async def progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mcp")
        async with Client(launch(SERVER, tmp_path / "server.log")) as client:
            live = await client.call_tool(
                "add",
                {"a": 4, "b": 5},
                progress_callback=progress,
                meta={"trace": "run-1"},
                read_timeout_seconds=30,
            )
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mcp")
        async with Client(offline[0]) as client:
            replayed = await client.call_tool("add", {"a": 4, "b": 5}, meta={"trace": "run-2"})
    assert replayed == live


async def test_ignore_and_normalize_add_to_the_defaults(store_dir, tmp_path, offline):
    def no_b(arguments: dict) -> dict:
        params = dict(arguments["params"])
        if params.get("name") == "divide":
            params["arguments"] = {k: v for k, v in params["arguments"].items() if k != "b"}
        return {**arguments, "params": params}

    options = {"ignore": ["params.arguments.a"], "normalize": no_b}
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mcp", **options)
        async with Client(launch(SERVER, tmp_path / "server.log")) as client:
            added = await client.call_tool("add", {"a": 1, "b": 2})
            divided = await client.call_tool("divide", {"a": 1, "b": 4})
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mcp", **options)
        async with Client(offline[0]) as client:
            # a ignored, b normalized away for divide, _meta still left out by default
            assert await client.call_tool("add", {"a": 100, "b": 2}, meta={"x": 1}) == added
            assert await client.call_tool("divide", {"a": 1, "b": 9}) == divided
            with pytest.raises(apirec.RecordingNotFound):
                await client.call_tool("add", {"a": 1, "b": 3})


async def test_a_call_not_recorded_is_a_miss_naming_method_and_server(recorded, offline):
    with apirec.recording(recorded.store, mode="replay", test_id=SHARED) as rec:
        integrations.patch(rec, "mcp")
        async with Client(offline[0]) as client:
            with pytest.raises(apirec.RecordingNotFound) as missed:
                await client.call_tool("add", {"a": 40, "b": 2})
    message = str(missed.value)
    assert "mcp tools/call" in message
    assert "notes-demo" in message


async def test_a_connection_never_recorded_is_a_miss_on_replay(store_dir, offline):
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mcp")
        # raised inside the session's task group, which the SDK reports as a group
        with pytest.raises(ExceptionGroup) as raised:
            async with Client(offline[0]):
                pass
    assert raised.group_contains(apirec.RecordingNotFound, match="mcp server/discover")
    assert raised.group_contains(apirec.RecordingNotFound, match="python mcp_server.py")


def test_an_ignore_that_names_no_part_of_a_request_fails_when_patching(store_dir):
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(TypeError, match=r"'arguments'.*params\.arguments\.<name>"),
    ):
        integrations.patch(rec, "mcp", ignore=["arguments.a"])


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


async def test_live_mode_calls_the_server_and_stores_nothing(store_dir, tmp_path):
    log = tmp_path / "server.log"
    live = await run_client(store_dir, "live", launch(SERVER, log))
    assert live["add"].structured_content == {"result": 3}
    assert "tools/call" in received(log)
    assert not list(store_dir.iterdir())


@pytest.mark.parametrize(
    ("command", "args", "label"),
    [
        ("/usr/bin/python3.12", ["/a/mcp_server.py", "--token", "s3"], "python mcp_server.py"),
        ("C:\\Python311\\python.exe", ["C:\\srv\\server.py"], "python server.py"),
        ("npx", ["-y", "@modelcontextprotocol/server-github"], "npx server-github"),
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


async def test_record_if_missing_connects_the_live_server_for_the_calls_it_records(
    store_dir, tmp_path
):
    # the server is started for the calls not recorded yet, so it must get its handshake
    # even when the recording has one (a strict server refuses requests before it)
    async def session(mode: str, log: Path, b: int) -> CallToolResult:
        with apirec.recording(store_dir, mode=mode) as rec:
            integrations.patch(rec, "mcp")
            params = launch(SERVER, log)
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                return await s.call_tool("add", {"a": 1, "b": b})

    await session("record", tmp_path / "first.log", 2)
    log = tmp_path / "second.log"
    assert (await session("record-if-missing", log, 5)).structured_content == {"result": 6}
    assert received(log)[:4] == ["started", "initialize", "notifications/initialized", "tools/call"]
    assert (await session("replay", tmp_path / "third.log", 5)).structured_content == {"result": 6}


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
