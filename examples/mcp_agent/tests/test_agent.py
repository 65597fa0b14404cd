from agent import ask


async def test_agent_answers_from_the_notes(apirec, llm):
    answer = await ask("When do deploys go out?", llm=llm)

    functions = [function for _, function, _ in apirec.journal]
    # the model asked for the tool, the MCP server ran it, the model answered from it
    assert functions.count("openai.chat.completions.create") == 2
    assert "mcp tools/call" in functions
    assert "Tuesdays" in answer
