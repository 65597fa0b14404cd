from agent import ask


async def test_agent_searches_then_answers(apirec, llm, search):
    answer = await ask("How tall is the Eiffel Tower?", llm=llm, search=search)

    # the agent's loop ran for real: the model asked for the search, the sources are what the
    # search returned, and the model answered after reading them (in every mode: replay,
    # record, compare and live)
    assert answer.text  # the model's final answer, after it read the search results
    assert answer.sources and all(url.startswith("https://") for url in answer.sources)


async def test_agent_answers_a_second_question(apirec, llm, search):
    answer = await ask("Who wrote Middlemarch?", llm=llm, search=search)
    assert answer.text and answer.sources
