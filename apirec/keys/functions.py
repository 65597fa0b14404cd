"""Python functions and types passed as arguments, keyed by the schema an SDK derives from them.

SDKs take plain Python functions as tools (ollama's ``chat(tools=[get_weather])``,
google-genai's ``config={"tools": [get_weather]}``) and send the model a schema made of the
function's name, docstring and annotated signature. A call is keyed by the same, never by
identity: the function defined again (the next run, another module) keeps the key; a changed
docstring or signature changes it. The canonical form, also what the recording stores::

    {"python_function": {"name": "get_weather", "doc": "Weather of a city.",
                         "parameters": [{"name": "city", "annotation": "str"}],
                         "returns": "str"}}

Only named functions and bound methods qualify: a lambda or a callable object carries no
schema, and stays an :class:`~apirec.errors.UnhashableArgument`.

Types given as response schemas (google-genai's ``response_schema=Recipe`` or
``list[Recipe]``) are keyed by their name and the JSON schema pydantic makes of them, so a
changed field changes the key: ``{"python_type": "app.Recipe", "json_schema": {...}}``. A
type pydantic has no schema for (a socket class) stays unhashable.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from apirec.errors import UnhashableArgument

Canonical = Callable[[Any, str], Any]  # (value, where) -> canonical value

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # reprs of objects in annotations: never in keys
_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional_only",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}


def is_tool_function(value: Any) -> bool:
    """A named Python function or bound method: keyed by its schema."""
    func = value.__func__ if isinstance(value, types.MethodType) else value
    return isinstance(func, types.FunctionType) and func.__name__ != "<lambda>"


def _annotation(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return _ADDRESS.sub("", text)


def function_schema(func: Any, canonical: Canonical, where: str) -> dict[str, Any]:
    """The canonical form of ``func``: name, docstring, parameters with annotations and
    defaults (as canonical values), return annotation."""
    signature = inspect.signature(func)  # a bound method's leaves out self
    parameters = []
    for param in signature.parameters.values():
        entry: dict[str, Any] = {"name": param.name}
        if param.kind in _KINDS:
            entry["kind"] = _KINDS[param.kind]
        if param.annotation is not inspect.Parameter.empty:
            entry["annotation"] = _annotation(param.annotation)
        if param.default is not inspect.Parameter.empty:
            try:
                entry["default"] = canonical(param.default, f"{where}.{param.name}")
            except UnhashableArgument:  # a sentinel object: its type is what stays the same
                entry["default"] = f"<{type(param.default).__qualname__}>"
        parameters.append(entry)
    schema: dict[str, Any] = {
        "name": func.__name__,
        "doc": inspect.getdoc(func),
        "parameters": parameters,
    }
    if signature.return_annotation is not inspect.Signature.empty:
        schema["returns"] = _annotation(signature.return_annotation)
    return {"python_function": schema}


@functools.lru_cache(maxsize=256)
def _json_schema(form: Any) -> dict[str, Any] | None:
    try:
        return TypeAdapter(form).json_schema()
    except Exception:  # pydantic has no schema for it
        return None


def is_schema_type(value: Any) -> bool:
    """A class or typing form pydantic makes a JSON schema of (a model, ``list[Model]``)."""
    if not (isinstance(value, type) or typing.get_origin(value) is not None):
        return False
    try:
        return _json_schema(value) is not None
    except TypeError:  # an unhashable typing form: Literal of a list
        return False


def type_schema(value: Any) -> dict[str, Any]:
    return {"python_type": _annotation(value), "json_schema": _json_schema(value)}


def dump_model_with_functions(model: Any, canonical: Canonical, where: str) -> Any:
    """A pydantic model holding functions (google-genai's ``GenerateContentConfig(tools=[f])``)
    dumped as JSON data, each function as its schema."""

    def fallback(value: Any) -> Any:
        if is_tool_function(value):
            return function_schema(value, canonical, where)
        if is_schema_type(value):
            return canonical(type_schema(value), where)
        raise _unhashable(value, where)

    try:
        return model.model_dump(mode="json", warnings=False, fallback=fallback)
    except TypeError as error:  # pydantic before 2.11 takes no fallback=
        if isinstance(error, UnhashableArgument):
            raise
        raise _unhashable(model, where) from error


def _unhashable(value: Any, where: str) -> UnhashableArgument:
    t = type(value)
    return UnhashableArgument(
        f"argument {where!r} holds a value of type {t.__module__}.{t.__qualname__} that "
        f"has no canonical form, so apirec cannot compute a stable key for this call. "
        f"Leave it out with ignore=[{where.split('.')[0].split('[')[0]!r}], or turn it "
        f"into plain data with normalize=...",
        parameter=where,
        type_name=f"{t.__module__}.{t.__qualname__}",
    )
