"""The ollama SDK: chat, generate, embed, embeddings and the web tools record and replay.

Patched on ``ollama.Client`` and ``ollama.AsyncClient``, streamed (``stream=True``) or not,
with ``web_search`` and ``web_fetch`` (ollama.com's tools for agents; replay needs no API
key), and through the module-level functions (``ollama.chat``...): those are methods bound, at
import, to a default client, so they would bypass a patch of the class; while the recording
is open they call through the class instead. Sync and async clients share recordings (the
functions are named ``ollama.chat``...). Replayed results are the SDK's own
(``ChatResponse``...), errors ``ollama.ResponseError``.

Keys leave out ``keep_alive`` (how long the server keeps the model loaded) and entries that
are None (the SDK sends requests without them). The client's headers (``User-Agent``, an
``OLLAMA_API_KEY``) are never arguments, so never keyed nor stored. Python functions passed
as tools are keyed by their schema (:mod:`apirec.keys.functions`).
"""

from __future__ import annotations

import functools
import importlib
import types
from typing import TYPE_CHECKING, Any

from apirec.integrations.defaults import (
    check_user_ignores,
    error_classes,
    ignores_for,
    normalizer,
    without_none,
)
from apirec.integrations.registry import Options
from apirec.record.wrapping import Patch

if TYPE_CHECKING:
    from apirec.record.recording import Recording

METHODS = ("chat", "generate", "embed", "embeddings", "web_search", "web_fetch")
CLASSES = ("Client", "AsyncClient")
IGNORED = ("keep_alive",)
# what the server said (a status and its error); ``RequestError`` is the client's own check
SERVICE_ERRORS = ("ResponseError",)


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay ollama's clients and module-level functions while ``rec`` is open."""
    ollama: Any = importlib.import_module("ollama")
    methods = [
        (cls, name, getattr(getattr(ollama, cls), name))
        for cls in CLASSES
        for name in METHODS
        if hasattr(getattr(ollama, cls), name)  # the web tools came in 0.6
    ]
    check_user_ignores(sdk, [func for _, _, func in methods], options)
    normalize = normalizer(without_none, options)
    service_errors = error_classes(ollama, SERVICE_ERRORS)
    patches = [
        rec.start_patch(
            MethodPatch(
                f"ollama._client.{cls}.{name}",
                options,
                name=f"ollama.{name}",
                ignore=ignores_for(func, IGNORED, options),
                normalize=normalize,
                service_errors=service_errors,
                scrub=options.scrub,
            )
        )
        for cls, name, func in methods
    ]
    for name in METHODS:
        bound = getattr(ollama, name, None)
        if isinstance(bound, types.MethodType) and isinstance(bound.__self__, ollama.Client):
            patches.append(rec.start_patch(DefaultClientPatch(f"ollama.{name}")))
    return patches


# (original method, name, options) -> its wrapper: ollama is patched into every test, and a
# wrapper holds no recording (it routes each call to the active one), so it is built once
_built: dict[tuple[Any, str, Options], Any] = {}
_MAX_BUILT = 256


class MethodPatch(Patch):
    """A client method's patch, whose wrapper is built once per method and options."""

    def __init__(self, target: str, sdk_options: Options, **options: Any) -> None:
        super().__init__(target, **options)
        self.sdk_options = sdk_options

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        key = (original, str(options["name"]), self.sdk_options)
        try:
            wrapper = _built.get(key)
        except TypeError:  # an unhashable normalize=: built each time
            return super().build(original, options)
        if wrapper is None:
            if len(_built) >= _MAX_BUILT:
                _built.clear()
            wrapper = _built[key] = super().build(original, options)
        return wrapper


class DefaultClientPatch(Patch):
    """``ollama.chat`` and its siblings, bound to the module's default client at import: while
    patched, they look the method up on that client, so the class's patch records them."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        client, name = original.__self__, original.__name__

        @functools.wraps(original)
        def through_the_class(*args: Any, **kwargs: Any) -> Any:
            return getattr(client, name)(*args, **kwargs)

        through_the_class.__apirec_original__ = original  # type: ignore[attr-defined]
        return through_the_class
