"""An MCP tool server over stdio: the team's notes, searchable by the agent.

It stands for any MCP server your agent uses (a database, a ticket system, a search index):
in replay the agent's MCP client gets the recorded answers and this process is never started.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

NOTES = {
    "deploys": "Deploys go out on Tuesdays and Thursdays, after the 10:00 stand-up.",
    "on-call": "The on-call rotation changes every Monday at 09:00; the handbook has the rota.",
    "releases": "Releases are tagged vX.Y.Z from main; the changelog is written first.",
}

server = MCPServer("team-notes", version="1.0", log_level="CRITICAL")


@server.tool()
def search_notes(query: str) -> list[str]:
    """The notes whose topic or text shares a word with the query."""
    words = {word.strip("?.,!").lower() for word in query.split()}
    return [
        f"{topic}: {text}"
        for topic, text in NOTES.items()
        if words & {word.strip(".,;:").lower() for word in f"{topic} {text}".split()}
    ]


if __name__ == "__main__":
    server.run("stdio")
