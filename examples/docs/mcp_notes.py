"""docs/integrations.md's MCP example, complete: the test records the MCP server's answers
(the handshake and the tool call) while the server runs, then replays them with the server's
file gone, so no process could have been started."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from mcp import Client, StdioServerParameters

import apirec
from apirec import integrations

SERVER = Path(__file__).resolve().parent / "servers" / "notes.py"


async def test_agent_reads_notes():
    server = StdioServerParameters(command="python", args=["servers/notes.py"])
    async with apirec.recording("tests/recordings") as rec:  # replay by default
        integrations.patch(rec, "mcp")
        async with Client(server) as client:  # no process started on replay
            result = await client.call_tool("search_notes", {"query": "when do deploys go out"})
    assert result.structured_content == {"result": ["deploys: on Tuesdays and Thursdays"]}


if __name__ == "__main__":
    # "python" in the block is the interpreter running this file, which has mcp installed
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        Path("servers").mkdir()
        shutil.copy(SERVER, "servers/notes.py")
        os.environ["APIREC_MODE"] = "record"  # as `pytest --apirec-mode=record` sets it
        asyncio.run(test_agent_reads_notes())
        del os.environ["APIREC_MODE"]
        Path("servers/notes.py").unlink()  # replay needs no server
        asyncio.run(test_agent_reads_notes())
        recorded = sorted(p.name for p in Path("tests/recordings").iterdir())
    print(f"mcp: recorded {len(recorded)} answers of the notes server, then replayed them")
