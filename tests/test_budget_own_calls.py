"""The record budget and the calls in flight of the test's own process (adversarial review of
issue 21): two streams opened together before either is read cannot end while the second
call waits for the first, so that wait must be short, not the 600 s kept for other
processes' calls."""

from __future__ import annotations

GATHERED = """
import asyncio, os, openai, pytest

@pytest.mark.apirec(integrations=["openai"])
async def test_two_streams_opened_together():
    client = openai.AsyncOpenAI(
        base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0
    )

    def ask(text):
        return client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": text}], stream=True,
            stream_options={"include_usage": True},
        )

    first, second = await asyncio.gather(ask("one"), ask("two"))
    texts = []
    for stream in (first, second):
        texts.append("".join([c.choices[0].delta.content or "" async for c in stream if c.choices]))
    assert all(texts), texts
"""


def test_streams_opened_together_are_not_held_up_by_each_other(
    pytester, monkeypatch, openai_server
):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    pytester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider -p no:randomly\nasyncio_mode = auto\n"
    )
    pytester.makepyfile(test_gathered=GATHERED)
    # before: the second call waited 600 s for the first, which cannot end until it returns
    result = pytester.runpytest_subprocess(
        "--apirec-mode=record", "--apirec-record-budget=1M", timeout=150
    )
    result.assert_outcomes(passed=1)
    assert len(list((pytester.path / "recordings").glob("*.json"))) == 2
