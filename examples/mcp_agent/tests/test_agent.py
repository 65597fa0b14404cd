from agent import ask


async def test_agent_answers_from_the_notes(apirec, llm):
    answer = await ask("When do deploys go out?", llm=llm)

    # the model asked for the tool, the MCP server ran it, the model answered from it: only
    # the notes know the day (true in every mode: replay, record, compare and live)
    assert "Tuesdays" in answer
