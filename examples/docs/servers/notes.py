"""The MCP server of docs/integrations.md's example (examples/docs/mcp_notes.py): the team's
notes over stdio, with one tool. The example starts it while recording, never on replay."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

NOTES = {"deploys": "on Tuesdays and Thursdays", "releases": "tagged from main"}

server = MCPServer("notes", version="1.0", log_level="CRITICAL")


@server.tool()
def search_notes(query: str) -> list[str]:
    """The notes whose topic is a word of the query."""
    return [f"{topic}: {text}" for topic, text in NOTES.items() if topic in query.split()]


if __name__ == "__main__":
    server.run("stdio")
