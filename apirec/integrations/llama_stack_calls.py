"""What llama-stack's (OGX's) recorder patched, keyed its way:
``integrations.patch(rec, "openai", "ollama", keys="llama-stack")``.

Upstream's ``patch_inference_clients`` patches, on the async clients, openai's chat
completions, completions, embeddings, model lists and Responses (``/v1/responses``), and
ollama's ``generate``, ``chat``, ``embed``, ``ps`` (the health check its ollama provider runs),
``pull`` and ``list``, each keyed by ``POST <base URL><endpoint>``
(:mod:`apirec.integrations.llama_stack`). Here the sync clients are patched too, keyed the
same, so one recording serves both.

Ollama's base URL is read as upstream read it: ``getattr(client, "host", ...)``, which
ollama's clients do not have, so every ollama recording is keyed under
``http://localhost:11434`` whatever the host, as upstream's files are.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apirec.integrations import llama_stack_rules as rules
from apirec.integrations.llama_stack import LlamaStackKeys, plain, redacted
from apirec.integrations.registry import UnknownIntegration
from apirec.keys.spec import Entry, KeySpec
from apirec.record.wrapping import Patch, wrap

if TYPE_CHECKING:
    from apirec.record.recording import Recording

# ollama method -> the endpoint upstream keyed it under (``embed`` under /api/embeddings)
OLLAMA = {
    "generate": "/api/generate",
    "chat": "/api/chat",
    "embed": "/api/embeddings",
    "ps": "/api/ps",
    "pull": "/api/pull",
    "list": "/api/tags",
}
COVERED = ("openai", "ollama", "google.genai", "httpx", "aiohttp", "tavily")
# the stack's tavily tool runtime, by the package's current name, then its former one
TAVILY_RUNTIMES = tuple(
    f"{package}.providers.remote.tool_runtime.tavily_search.tavily_search"
    for package in ("ogx", "llama_stack")
)


def check(sdks: tuple[str, ...]) -> None:
    """An error naming what ``keys="llama-stack"`` covers, for any other name."""
    for sdk in sdks:
        if sdk not in COVERED:
            raise UnknownIntegration(
                f"keys='llama-stack' covers the calls llama-stack's recorder keyed: "
                f"{', '.join(COVERED)}; not {sdk!r}"
            )


def patch_sdk(rec: Recording, sdk: str) -> list[Patch]:
    """Patch ``sdk``'s calls that llama-stack's recorder recorded, keyed as it keyed them."""
    if sdk == "openai":
        from apirec.integrations.openai import patch_openai

        return patch_openai(rec, keys="llama-stack")
    if sdk == "ollama":
        return _patch_ollama(rec)
    if sdk == "google.genai":
        from apirec.integrations.llama_stack_genai import patch_genai

        return patch_genai(rec)
    if sdk == "httpx":  # the Messages and Interactions passthroughs
        from apirec.integrations.llama_stack_http import patch_httpx

        return patch_httpx(rec)
    if sdk == "aiohttp":  # rerank (NVIDIA's, and vLLM's while it used aiohttp)
        from apirec.integrations.llama_stack_rerank import patch_aiohttp

        return patch_aiohttp(rec)
    if sdk == "tavily":
        return _patch_tool_runtime(rec, "tavily", TAVILY_RUNTIMES, "TavilySearchToolRuntimeImpl")
    check((sdk,))
    return []


def ollama_host(client: Any) -> str:
    """The base URL upstream keyed an ollama call under (``getattr(self, "host", ...)``)."""
    host = getattr(client, "host", "http://localhost:11434")
    return host if str(host).startswith("http") else f"http://{host}"


def _patch_ollama(rec: Recording) -> list[Patch]:
    ollama: Any = importlib.import_module("ollama")
    patches = []
    for cls in ("Client", "AsyncClient"):
        for method, endpoint in OLLAMA.items():
            if not hasattr(getattr(ollama, cls), method):
                continue
            keying = LlamaStackKeys(endpoint, base_url=ollama_host, provider="ollama")
            patch = KeywordPatch(
                f"ollama._client.{cls}.{method}",
                name=f"POST {endpoint}",
                keying=keying,
                service_errors=(ollama.ResponseError,),
            )
            patches.append(rec.start_patch(patch))
    return patches


class KeywordPatch(Patch):
    """A client method keyed by its keyword arguments (llama-stack's ``body``)."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        recorded = wrap(original, **options)

        @functools.wraps(original)
        def replacement(client: Any, *args: Any, **kwargs: Any) -> Any:
            return recorded.__get__(client, type(client))(*args, **kwargs)

        replacement.__apirec_original__ = original  # type: ignore[attr-defined]
        return replacement


def _patch_tool_runtime(
    rec: Recording, provider: str, modules: tuple[str, ...], class_name: str
) -> list[Patch]:
    """The stack's tool runtime's ``invoke_tool``, keyed by provider, tool and arguments
    (f50ce11a3, v0.2.24): the stack calls the search API itself, not through the tavily SDK."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        patch = KeywordPatch(
            f"{module}.{class_name}.invoke_tool",
            name=f"{provider} tool",
            keying=ToolKeys(provider),
        )
        return [rec.start_patch(patch)]
    raise UnknownIntegration(
        f"keys='llama-stack' records {provider} where the stack invokes it "
        f"({class_name}.invoke_tool in {' or '.join(modules)}), and neither is installed"
    )


class ToolKeys:
    """Keys a tool runtime's ``invoke_tool(tool_name, kwargs, authorization=None)`` as
    upstream did: never per test, never normalised; ``authorization`` neither keyed nor
    stored."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def key(
        self,
        spec: KeySpec,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        test_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        named = dict(zip(("tool_name", "kwargs"), args, strict=False)) | dict(kwargs)
        tool_name, arguments = str(named["tool_name"]), plain(named.get("kwargs") or {}, "kwargs")
        request = {
            "test_id": test_id,
            "provider": self.provider,
            "tool_name": tool_name,
            "kwargs": redacted(arguments),
        }
        return rules.tool_key(self.provider, tool_name, arguments), request

    def stored(
        self, key: str, request: Mapping[str, Any], response: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        return response, None

    def aliases(self, request: Mapping[str, Any], test_id: str | None) -> list[str]:
        return []

    def choose(self, request: Mapping[str, Any], entries: list[Entry]) -> Entry | None:
        return None

    def error(self, request: Mapping[str, Any], data: Mapping[str, Any]) -> BaseException | None:
        return None
