"""Which apirec module patches which SDK, chosen by the SDK's import name.

``apirec.integrations.patch(rec, "openai", "ollama")`` looks each name up here. A name that is
not listed but belongs to an SDK generated like openai's (a ``_base_client`` module with
``SyncAPIClient``: together, groq, ...) goes to the same module as openai's. Each integration
module offers ``patch_sdk(rec, sdk, options) -> list[Patch]``, and may offer
``credential_variables(sdk)``: the API key variables its clients need to be built, given
placeholders while a recording replays (:mod:`apirec.integrations.credentials`).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from apirec.errors import ApirecError
from apirec.gate.rules import NO_RULES, Rules, Scrub, compile_rules
from apirec.keys.spec import Normalizer

if TYPE_CHECKING:
    from apirec.record.recording import Recording
    from apirec.record.wrapping import Patch

# import name -> the apirec module that patches it
KNOWN: dict[str, str] = {
    "openai": "apirec.integrations.stainless",
    "anthropic": "apirec.integrations.stainless",
    "ollama": "apirec.integrations.ollama",
    "google.genai": "apirec.integrations.google_genai",
    "tavily": "apirec.integrations.tavily",
    "mcp": "apirec.integrations.mcp",
    "mistralai": "apirec.integrations.mistralai",
    "cohere": "apirec.integrations.cohere",
    # any SDK built on httpx that has no integration of its own: its requests and responses
    "httpx": "apirec.integrations.httpx_transport",
    "httpx2": "apirec.integrations.httpx_transport",
}
# where an SDK generated like openai's goes when it is not listed by name
GENERATED_LIKE_OPENAI = "apirec.integrations.stainless"
# keys="llama-stack": the calls llama-stack's recorder patched (loaded by name, as the others)
LLAMA_STACK_CALLS = "apirec.integrations.llama_stack_calls"


@dataclass(frozen=True)
class Options:
    """What the user adds to an integration's default keys."""

    ignore: tuple[str, ...] = ()
    normalize: Normalizer | None = None
    # scrub= rules for the write gate, for this SDK's calls (apirec.gate.rules)
    scrub: Rules = NO_RULES


class Integration(Protocol):
    def patch_sdk(self, rec: Recording, sdk: str, options: Options) -> list[Patch]: ...


class UnknownIntegration(ApirecError, ValueError):
    """A name ``integrations.patch`` does not know, or an SDK that is not installed."""


def known_names() -> str:
    return ", ".join([*sorted(KNOWN), "or any SDK generated like openai's by its import name"])


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package missing
        return False


def module_for(sdk: str) -> str:
    """The apirec module that patches ``sdk``, or an error naming the known names: the one
    place that words an unknown name (``integrations.patch``, the marker, the command line
    and the ini all ask here)."""
    if not isinstance(sdk, str) or not sdk:
        raise UnknownIntegration(f"SDK names are import names (strings), not {sdk!r}")
    listed = KNOWN.get(sdk)
    if listed is not None and not _installed(sdk):
        raise UnknownIntegration(
            f"apirec.integrations: {sdk!r} is an SDK apirec patches, but it is not installed "
            f"in this environment (pip install it); apirec patches {known_names()}"
        )
    if listed is not None:
        return listed
    if _installed(sdk) and _installed(f"{sdk}._base_client"):
        return GENERATED_LIKE_OPENAI
    # an unknown name is a typo far more often than a missing SDK: never say "install it"
    state = "is not an SDK apirec knows" + _did_you_mean(sdk)
    if not _installed(sdk):
        state += ", nor an installed SDK generated like openai's"
    raise UnknownIntegration(
        f"apirec.integrations: {sdk!r} {state}; apirec patches {known_names()}. For an SDK "
        f'built on httpx, integrations.patch(rec, "httpx") records its HTTP requests and '
        f'responses ("httpx2" for httpx2); for any other, rec.patch("module.Class.method") '
        f"records the method you name"
    )


def _did_you_mean(sdk: str) -> str:
    """`` (did you mean 'openai'?)`` for a name close to a known one, in any case; the
    distribution's name (``google-genai``) finds its import name (``google.genai``)."""
    by_lower = {name.lower(): name for name in KNOWN}
    close = difflib.get_close_matches(sdk.lower().replace("-", "."), by_lower, n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def patch(
    rec: Recording,
    *sdks: str,
    ignore: Iterable[str] = (),
    normalize: Normalizer | None = None,
    scrub: Iterable[Scrub] = (),
    keys: str = "apirec",
) -> list[Patch]:
    """Patch every entry point of each SDK in ``sdks`` for as long as ``rec`` is open;
    ``scrub`` adds patterns (or callables) the write gate replaces in their calls.

    ``keys="llama-stack"`` patches instead the calls llama-stack's recorder recorded, keyed,
    named and stored as it did (:mod:`apirec.integrations.llama_stack_calls`)."""
    if isinstance(ignore, str):
        raise TypeError("ignore= takes a list of names, not a single string")
    if keys not in ("apirec", "llama-stack"):
        raise ValueError(f"{keys!r} is not a valid key scheme. Valid: apirec, llama-stack")
    options = Options(tuple(ignore), normalize, compile_rules(scrub))
    from apirec.integrations import credentials
    from apirec.record.error_policy import add_sdk

    if keys == "llama-stack":
        return _patch_llama_stack(rec, sdks, options)
    modules = [(sdk, module_for(sdk)) for sdk in sdks]  # every name checked before any patch
    patches: list[Patch] = []
    for sdk, module_name in modules:
        module: Any = importlib.import_module(module_name)
        patches += module.patch_sdk(rec, sdk, options)
        if sdk not in ("httpx", "mcp"):  # an SDK's client errors are never stored
            add_sdk(sdk)
        # replay needs no keys: a client built without one gets a placeholder
        patches += credentials.hold_for(rec, credentials.groups(module_name, sdk))
    return patches


def _patch_llama_stack(rec: Recording, sdks: tuple[str, ...], options: Options) -> list[Patch]:
    if options != Options():
        raise ValueError(
            "ignore=, normalize= and scrub= do not apply to keys='llama-stack': its keys are "
            "llama-stack's own formula"
        )
    from apirec.integrations import credentials

    llama_stack_calls: Any = importlib.import_module(LLAMA_STACK_CALLS)
    llama_stack_calls.check(sdks)  # every name checked before any patch
    patches: list[Patch] = []
    for sdk in sdks:
        patches += llama_stack_calls.patch_sdk(rec, sdk)
        if sdk in ("ollama", "google.genai"):  # placeholders for their API keys
            patches += credentials.hold_for(rec, credentials.groups(module_for(sdk), sdk))
    return patches
