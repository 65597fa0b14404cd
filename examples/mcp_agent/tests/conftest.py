import pytest
from openai import AsyncOpenAI


@pytest.fixture
def llm() -> AsyncOpenAI:
    return AsyncOpenAI()  # OPENAI_API_KEY from the environment; a placeholder in replay
