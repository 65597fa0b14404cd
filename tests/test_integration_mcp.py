"""integrations.patch(rec, "mcp"): a real MCP server over stdio (tests/mcp_server.py) recorded
with the real mcp SDK, then replayed with no server at all (its command does not exist, its
request log stays empty)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp_types import CallToolResult, GetPromptResult, ListToolsResult, ReadResourceResult

import apirec
from apirec import integrations
from tests.mcp_helpers import (
    SERVER,
    launch,
    offline_server,
    protocol_error,
    received,
    run_client,
    same_error,
)


@pytest.fixture
def offline(tmp_path: Path) -> tuple[StdioServerParameters, Path]:
    return offline_server(tmp_path)


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


async def test_live_mode_calls_the_server_and_stores_nothing(store_dir, tmp_path):
    log = tmp_path / "server.log"
    live = await run_client(store_dir, "live", launch(SERVER, log))
    assert live["add"].structured_content == {"result": 3}
    assert "tools/call" in received(log)
    assert not list(store_dir.iterdir())


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


def test_the_mcp_sdk_1_is_refused_clearly(store_dir, monkeypatch):
    monkeypatch.setattr("apirec.integrations.mcp.sdk_version", lambda: "1.26.0")
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(integrations.UnknownIntegration, match=r"mcp 1\.26\.0 is installed"),
    ):
        integrations.patch(rec, "mcp")
