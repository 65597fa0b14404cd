"""An agent that answers from MCP tools: the model picks a tool, the MCP server runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from openai import AsyncOpenAI

NOTES_SERVER = StdioServerParameters(
    command=sys.executable, args=[str(Path(__file__).with_name("notes_server.py"))]
)


def as_openai_tool(tool: Any) -> dict[str, Any]:
    """An MCP tool as the chat API's function tool."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description or "",
            "parameters": tool.input_schema,
        },
    }


async def ask(question: str, *, llm: AsyncOpenAI, model: str = "gpt-4o-mini") -> str:
    """Answer ``question`` with the tools of the notes server."""
    async with Client(NOTES_SERVER) as notes:
        tools = [as_openai_tool(tool) for tool in (await notes.list_tools()).tools]
        messages: list[Any] = [{"role": "user", "content": question}]
        for _ in range(4):
            reply = await llm.chat.completions.create(
                model=model, messages=messages, tools=tools, temperature=0
            )
            message = reply.choices[0].message
            if not message.tool_calls:
                return message.content or ""
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                result = await notes.call_tool(
                    call.function.name, json.loads(call.function.arguments)
                )
                text = "\n".join(block.text for block in result.content if block.type == "text")
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise RuntimeError("the model kept calling tools")
