import os

import pytest
from openai import AsyncOpenAI
from tavily import AsyncTavilyClient


@pytest.fixture
def llm() -> AsyncOpenAI:
    # OPENAI_API_KEY (and OPENAI_BASE_URL, for the stand-in) come from the environment; in
    # replay apirec gives the client a placeholder key, and no call goes out
    return AsyncOpenAI()


@pytest.fixture
def search() -> AsyncTavilyClient:
    # TAVILY_BASE_URL is this example's own knob, for recording against the stand-in
    return AsyncTavilyClient(api_base_url=os.environ.get("TAVILY_BASE_URL"))
