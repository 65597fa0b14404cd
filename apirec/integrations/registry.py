"""Which apirec module patches which SDK, chosen by the SDK's import name.

``apirec.integrations.patch(rec, "openai", "ollama")`` looks each name up here. A name that is
not listed but belongs to an SDK generated like openai's (a ``_base_client`` module with
``SyncAPIClient``: together, groq, ...) goes to the same module as openai's. Each integration
module offers ``patch_sdk(rec, sdk, options) -> list[Patch]``, and may offer
``credential_variables(sdk)``: the API key variables its clients need to be built, given
placeholders while a recording replays (:mod:`apirec.integrations.credentials`). The names
and the words for an unknown one are :mod:`apirec.integrations.known`'s (light: the pytest
plugin's start-up checks a run's names there).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from apirec.gate.rules import NO_RULES, Rules, Scrub, compile_rules
from apirec.integrations.known import GENERATED_LIKE_OPENAI as GENERATED_LIKE_OPENAI
from apirec.integrations.known import KNOWN as KNOWN
from apirec.integrations.known import UnknownIntegration as UnknownIntegration
from apirec.integrations.known import known_names as known_names
from apirec.integrations.known import module_for as module_for
from apirec.keys.spec import Normalizer

if TYPE_CHECKING:
    from apirec.record.recording import Recording
    from apirec.record.wrapping import Patch

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
