"""A streaming chat: print Claude's answer as it arrives, and keep what it cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from anthropic import AsyncAnthropic


@dataclass
class Reply:
    text: str
    pieces: int  # how many text deltas arrived
    output_tokens: int


async def stream_reply(
    client: AsyncAnthropic,
    question: str,
    *,
    show: Callable[[str], None] = lambda piece: print(piece, end="", flush=True),
    model: str = "claude-sonnet-4-5",
) -> Reply:
    """Stream the answer to ``question`` through ``show``, piece by piece."""
    pieces = 0
    async with client.messages.stream(
        model=model, max_tokens=300, messages=[{"role": "user", "content": question}]
    ) as stream:
        async for piece in stream.text_stream:
            show(piece)
            pieces += 1
        final = await stream.get_final_message()
    text = "".join(block.text for block in final.content if block.type == "text")
    return Reply(text=text, pieces=pieces, output_tokens=final.usage.output_tokens)
