"""The call OGX's watsonx provider made in their test of this name (same node id, same request),
replayed from the recording their recorder stored (see ../../../README.md)."""

import openai
import pytest

WATSONX = "https://us-south.ml.cloud.ibm.com/ml/v1"  # their watsonx provider's base_url
PROJECT = "1461945d-7925-4b82-b90b-ecd907a98d77"


class TestResponsesAPIStreamingErrors:
    @pytest.mark.parametrize(
        "model",
        ["meta-llama/llama-3-3-70b-instruct"],
        ids=["txt=watsonx/meta-llama/llama-3-3-70b-instruct"],  # their test id, in the key
    )
    def test_completed_response_has_no_error(self, model):
        client = openai.OpenAI(base_url=WATSONX, api_key="not-needed-in-replay", max_retries=0)
        stream = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Say 'hello' and nothing else."}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"project_id": PROJECT},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text.strip().lower().startswith("hello")
        assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
