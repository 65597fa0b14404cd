"""Which apirec module patches which SDK, and the API key variables known without importing
either: light (the standard library and :mod:`apirec.errors`), so the pytest plugin's start-up
checks a run's SDK names and sets their placeholder keys before it loads anything else.

:mod:`apirec.integrations.registry` (the patching) and the integration modules (their
``credential_variables``) read the same tables: one source.
"""

from __future__ import annotations

import importlib.util

from apirec.errors import ApirecError

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

# A group is the variables one client reads for one key, the one apirec sets first: none is
# set when none of the group is (genai reads GOOGLE_API_KEY or GEMINI_API_KEY).
Group = tuple[str, ...]

# integration module -> the key variables its SDK's clients read, declared up front
FIXED_CREDENTIALS: dict[str, tuple[Group, ...]] = {
    "apirec.integrations.mistralai": (("MISTRAL_API_KEY",),),
    "apirec.integrations.cohere": (("CO_API_KEY", "COHERE_API_KEY"),),
    "apirec.integrations.tavily": (("TAVILY_API_KEY",),),
    "apirec.integrations.google_genai": (("GOOGLE_API_KEY", "GEMINI_API_KEY"),),
}


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
    import difflib  # only for a name that is not known: not on every run's start-up

    by_lower = {name.lower(): name for name in KNOWN}
    close = difflib.get_close_matches(sdk.lower().replace("-", "."), by_lower, n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def generated_key_variable(sdk: str) -> str:
    """``<SDK>_API_KEY``: the variable every client of a generated SDK reads."""
    return f"{sdk.split('.')[0].upper()}_API_KEY"


def credentials_before_import(module_name: str, sdk: str) -> tuple[list[Group], bool]:
    """The key variables of ``sdk`` known without importing it or its integration module,
    and whether more are found once the SDK is imported (a generated SDK's clients name
    others, ``AZURE_OPENAI_API_KEY``..., found in its own classes)."""
    if module_name == GENERATED_LIKE_OPENAI:
        return [(generated_key_variable(sdk),)], True
    return list(FIXED_CREDENTIALS.get(module_name, ())), False
