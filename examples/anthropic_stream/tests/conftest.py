import pytest
from anthropic import AsyncAnthropic


@pytest.fixture
def client() -> AsyncAnthropic:
    # ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL, for the stand-in) come from the environment
    return AsyncAnthropic()
