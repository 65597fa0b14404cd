"""The API key variables of an SDK generated like openai's, found in its own classes: light
(the standard library and :mod:`apirec.integrations.known` only), so the pytest plugin can
set a replaying run's placeholders the moment the run imports the SDK without loading the
recorder (:mod:`apirec.pytest.run_keys`); :mod:`apirec.integrations.stainless` declares it as
its ``credential_variables`` for a recording's own placeholders."""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import re
import sys

from apirec.integrations.known import generated_key_variable

# a key variable read from the environment (os.environ.get("GROQ_API_KEY"), os.getenv(...))
# or named in a client's docstring ("`api_key` from `OPENAI_API_KEY`")
_READ_KEY = re.compile(
    r"""(?:environ\.get|getenv|environ)\s*[(\[]\s*["']([A-Z][A-Z0-9_]*_API_KEY)"""
)
_NAMED_KEY = re.compile(r"`([A-Z][A-Z0-9_]*_API_KEY)`")


@functools.lru_cache(maxsize=32)  # a scan of the SDK's classes and sources: once per process
def credential_variables(sdk: str) -> tuple[tuple[str, ...], ...]:
    """The API key variables ``sdk``'s clients read when built without ``api_key=``:
    ``<SDK>_API_KEY``, and those its client classes name in their docstrings or read in
    their modules (``AZURE_OPENAI_API_KEY``, ``ANTHROPIC_FOUNDRY_API_KEY``...)."""
    importlib.import_module(sdk)  # its clients, Azure's too, are defined on import
    base = importlib.import_module(f"{sdk}._base_client")
    top = sdk.split(".")[0]
    found = {generated_key_variable(sdk)}
    modules: set[str] = set()
    todo: list[type] = [base.SyncAPIClient, base.AsyncAPIClient]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] != top:
            continue
        init = vars(cls).get("__init__")
        found.update(_NAMED_KEY.findall(getattr(init, "__doc__", None) or ""))
        module = sys.modules.get(cls.__module__)
        if module is not None and cls.__module__ not in modules:
            modules.add(cls.__module__)
            with contextlib.suppress(OSError, TypeError):  # no source: the docstrings say
                found.update(_READ_KEY.findall(inspect.getsource(module)))
    return tuple((name,) for name in sorted(found))
