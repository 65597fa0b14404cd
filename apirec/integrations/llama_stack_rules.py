"""llama-stack's (now OGX's) recorder hashing rules, old and current, in one place.

Each rule below names the upstream commit and the first release that carried it
(github.com/llamastack/llama-stack, ``src/ogx/testing/api_recorder.py``, formerly
``llama_stack/testing/inference_recorder.py`` then ``api_recorder.py``). A recording is
named by the recorder version that wrote it, so a call is looked up under the current
formula first, then under each older one (:data:`FORMULAS`, newest first).

Three kinds of keys, as upstream:

- inference (openai, ollama, google-genai clients): SHA-256 of ``json.dumps({"method",
  "endpoint": <URL path>, "body", "test_id"}, sort_keys=True)``;
- raw HTTP (rerank through aiohttp, the Messages and Interactions passthroughs through
  httpx): SHA-256 of ``json.dumps({"test_id", "url", "method", "payload"}, sort_keys=True)``;
- tool invocations (the tavily tool runtime): SHA-256 of ``json.dumps({"provider",
  "tool_name", "kwargs"}, sort_keys=True)``, never normalised, never per test.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

# 045a0c1d5 (v0.2.24): model lists are shared by every test (no test id in their key);
# cb40da210 (v0.4.0) added the OpenAI-compatible path of the stack itself
SHARED_ENDPOINTS_V0_2_24 = frozenset({"/api/tags", "/v1/models"})
SHARED_ENDPOINTS = SHARED_ENDPOINTS_V0_2_24 | {"/v1/openai/v1/models"}
MODEL_LIST_ENDPOINTS = SHARED_ENDPOINTS

# f50ce11a3 (v0.2.24): decimals of 4+ places inside strings rewritten with 5 places
FLOAT_IN_STRING = re.compile(r"(-?\d+\.\d{4,})")
# 5d63477df (v0.8.0): file_search results quoted into prompts carry per-run values
FILE_SEARCH_SCORE = re.compile(r"score:\s*[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?")
FILE_SEARCH_ATTRIBUTES = re.compile(r",?\s*attributes:\s*\{[^}]*\}")
FILE_SEARCH_DOCUMENT_ID = re.compile(
    r"document_id:\s*[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
)
FILE_SEARCH_CITATION = re.compile(
    r"<\|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\|>"
)
PLACEHOLDER = "__NORMALIZED__"


@dataclass(frozen=True)
class Formula:
    """One recorder version's hashing: which rules it applied."""

    version: str  # the first release with this formula
    commit: str  # the upstream commit that introduced its newest rule
    test_id: bool = True  # 045a0c1d5 (v0.2.24): the test id in the key (test isolation)
    shared: frozenset[str] = SHARED_ENDPOINTS  # model lists keyed without the test id
    rounding: bool = True  # f50ce11a3: floats to 5 places, long decimals in strings
    bedrock: bool = True  # 393e7dbde (v0.5.0): bedrock's stream_options left out
    project_id: bool = True  # bc8f45b1a (v0.6.2): project_id out of extra_body/extra_query
    file_search: bool = True  # 5d63477df (v0.8.0): file_search values as placeholders


# newest first: a call is looked up under each in turn
FORMULAS = (
    Formula("v0.8.0", "5d63477dfe7ae432a728d803abe5c972fe0c9a3e"),
    Formula("v0.6.2", "bc8f45b1a64198a199e0e5e422b787550864d4a6", file_search=False),
    Formula(
        "v0.5.0",
        "393e7dbdeb2946a222c27b40c42b4ea6872d24db",
        project_id=False,
        file_search=False,
    ),
    Formula(
        "v0.4.0",
        "cb40da210fb02cd3cdc9813c6c81936a11bd7707",
        bedrock=False,
        project_id=False,
        file_search=False,
    ),
    Formula(
        "v0.2.24",
        "f50ce11a3b106ffb5faec08223140eb6678b77bf",
        shared=SHARED_ENDPOINTS_V0_2_24,
        bedrock=False,
        project_id=False,
        file_search=False,
    ),
    Formula(
        "v0.2.24-dev",
        "045a0c1d574f9761b951ebd2bee1303c4d4653cc",
        shared=SHARED_ENDPOINTS_V0_2_24,
        rounding=False,
        bedrock=False,
        project_id=False,
        file_search=False,
    ),
    Formula(
        "v0.2.17",
        "08b4a1deb36cd8b80bc1ffed3bad2eeb42492c89",
        test_id=False,
        shared=frozenset(),
        rounding=False,
        bedrock=False,
        project_id=False,
        file_search=False,
    ),
)
CURRENT = FORMULAS[0]


def recorded_url(url: str) -> str:
    """The URL as the recorder keyed and stored it: d07ebce4d (v0.2.23) hides Databricks
    workspace hosts (``https://adb-1.7.cloud.databricks.com/x`` -> ``__databricks__/x``)."""
    if "cloud.databricks.com" in url:
        return "__databricks__" + url.split("cloud.databricks.com")[-1]
    return url


def _string(value: str, formula: Formula) -> str:
    if formula.file_search:  # before the decimals, as upstream
        value = FILE_SEARCH_SCORE.sub(f"score: {PLACEHOLDER}", value)
        value = FILE_SEARCH_ATTRIBUTES.sub("", value)
        value = FILE_SEARCH_DOCUMENT_ID.sub(f"document_id: {PLACEHOLDER}", value)
        value = FILE_SEARCH_CITATION.sub(f"<|{PLACEHOLDER}|>", value)
    return FLOAT_IN_STRING.sub(lambda m: f"{float(m.group(0)):.5f}", value)


def normalized(
    value: Any, formula: Formula = CURRENT, *, bedrock: bool = False, _root: bool = True
) -> Any:
    """``value`` as ``formula`` hashed it (upstream's ``_normalize_body_for_hash``).

    As upstream: ``stream_options`` is left out of the top-level dict only; ``project_id``
    is dropped from the ``extra_body``/``extra_query`` of the top-level dict and of every dict
    directly inside a list (upstream's list branch starts over as a root).
    """
    if not formula.rounding:
        return value
    if isinstance(value, dict):
        out = {k: normalized(v, formula, _root=False) for k, v in value.items()}
        if bedrock and formula.bedrock:
            out.pop("stream_options", None)
        if _root and formula.project_id:
            for name in ("extra_body", "extra_query"):
                extra = out.get(name)
                if isinstance(extra, dict):
                    extra.pop("project_id", None)
        return out
    if isinstance(value, list | tuple):
        return [normalized(v, formula) for v in value]
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, str):
        return _string(value, formula)
    return value


def _sha256(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def inference_key(
    method: str, url: str, body: Any, test_id: str | None, formula: Formula = CURRENT
) -> str:
    """The key ``formula`` gave an SDK call (``url``: as recorded, see :func:`recorded_url`)."""
    parsed = urlparse(url)
    data: dict[str, Any] = {
        "method": method.upper(),
        "endpoint": parsed.path,
        "body": normalized(body, formula, bedrock="bedrock" in parsed.netloc),
    }
    if formula.test_id and parsed.path not in formula.shared:
        data["test_id"] = test_id
    return _sha256(data)


def inference_keys(method: str, url: str, body: Any, test_id: str | None) -> list[str]:
    """The keys of every formula, newest first, each once."""
    keys = [inference_key(method, url, body, test_id, f) for f in FORMULAS]
    return list(dict.fromkeys(keys))


# f68c98a3c (v0.5.3): raw HTTP requests (rerank), keyed by URL and payload, normalised
# as inference bodies of that time; the Messages (adb81a7c9) and Interactions (879f1b34b)
# passthroughs use the same key
HTTP_FORMULAS = tuple(f for f in FORMULAS if f.bedrock)


def http_key(
    url: str, method: str, payload: Any, test_id: str | None, formula: Formula = CURRENT
) -> str:
    """The key ``formula`` gave a raw HTTP request (upstream's ``normalize_http_request``)."""
    return _sha256(
        {
            "test_id": test_id,
            "url": url,
            "method": method.upper(),
            "payload": normalized(payload, formula),
        }
    )


def http_keys(url: str, method: str, payload: Any, test_id: str | None) -> list[str]:
    keys = [http_key(url, method, payload, test_id, f) for f in HTTP_FORMULAS]
    return list(dict.fromkeys(keys))


def tool_key(provider: str, tool_name: str, kwargs: Any) -> str:
    """f50ce11a3 (v0.2.24): a tool runtime's invocation, by provider, tool and arguments."""
    return _sha256({"provider": provider, "tool_name": tool_name, "kwargs": kwargs})
