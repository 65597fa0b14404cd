from myapp.llm import chat


async def test_chat_knows_saturn(apirec):  # the plugin's fixture: replay by default
    reply = await chat("Which planet has rings and a name starting with S?")
    assert "Saturn" in reply
