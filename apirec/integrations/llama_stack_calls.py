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
from typing import TYPE_CHECKING, Any

from apirec.integrations.llama_stack import LlamaStackKeys
from apirec.integrations.registry import UnknownIntegration
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
COVERED = ("openai", "ollama", "google.genai", "httpx")


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
