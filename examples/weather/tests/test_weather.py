import openai
import pytest
import weather


async def test_forecast(apirec):  # apirec: the test's Recording
    report = await weather.forecast("Lima", days=2)
    assert report["days"] == [20, 21]


@pytest.mark.apirec(integrations=["openai"])  # this test patches openai
async def test_chat(apirec):
    client = openai.AsyncOpenAI()
    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "The capital of France?"}]
    )
    assert reply.choices[0].message.content == "Paris."


async def test_week(apirec):
    report = await weather.forecast("Oslo", days=7)
    assert report["days"] == [20, 21, 22, 23, 24, 25, 26]
