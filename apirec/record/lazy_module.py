"""A module imported on its first attribute look-up, for annotations.

``import apirec`` stays light by loading the recorder on first use, and a module may not
import one that imports it. Their annotations still have to resolve at run time
(``typing.get_type_hints``, ``inspect.signature(eval_str=True)``: pydantic, typer, sphinx,
FastAPI): a string annotation ``_recording.Recording`` finds this object in the module's
globals, and the attribute look-up imports the module then.
"""

from __future__ import annotations

import importlib
from typing import Any


def lazy_attributes(package: str, table: dict[str, str], namespace: dict[str, Any]) -> Any:
    """A PEP 562 ``__getattr__`` for ``package``: each name of ``table`` imported from its
    module on first use, then kept in ``namespace`` (the package's globals) so later look-ups
    skip it."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
