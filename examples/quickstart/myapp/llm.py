"""The code under test: one slow, paid call to an LLM provider."""

from openai import AsyncOpenAI

import apirec


@apirec.record(name="llm.chat")
async def chat(prompt: str, *, model: str = "gpt-4o", api_key: str | None = None) -> str:
    client = AsyncOpenAI(api_key=api_key)  # OPENAI_API_KEY when api_key is None
    reply = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], temperature=0
    )
    return reply.choices[0].message.content or ""
