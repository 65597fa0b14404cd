"""SDKs generated like openai's (Stainless): openai, anthropic, groq, together... by import name.

Every call of such an SDK passes through ``SyncAPIClient.request`` / ``AsyncAPIClient.request``
of its ``_base_client``: resource methods, ``.parse()``, the ``.stream()`` helpers,
``.with_raw_response``, ``.with_streaming_response``, binary bodies, pages. apirec hooks that
path (and the resource methods, for names, keys and speed: :mod:`.stainless_methods`) once per
process; the hooks call straight through unless a recording that patched the SDK is open, so
resources of a newer SDK are covered with no change here. A request made inside a resource
method is keyed by that method's call (``openai.chat.completions.create`` and its arguments);
any other (a next page, ``client.get(...)``) by HTTP (``openai GET /models`` and its query,
body and headers). What is stored and rebuilt: :mod:`.stainless_replies`.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import threading
from typing import TYPE_CHECKING, Any

from apirec.integrations.stainless_keys import credential_variables
from apirec.integrations.stainless_methods import call_name, wrap_method
from apirec.integrations.stainless_replies import (
    afinishing_close,
    amarking_answered,
    finishing_close,
    lazy_responses,
    marking_answered,
)
from apirec.integrations.stainless_requests import RequestHooks
from apirec.keys.spec import KeySpec
from apirec.record.context import recording_lookup
from apirec.record.wrapping import Patch

__all__ = ["credential_variables", "install", "patch_sdk", "service_errors"]

if TYPE_CHECKING:
    from apirec.integrations.registry import Options
    from apirec.record.recording import Recording

# SDK import name -> the options of the recordings that patched it, latest last
_enabled: dict[str, list[Options]] = {}
_installed: dict[str, _Sdk] = {}
_install_lock = threading.Lock()


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay every call of ``sdk`` while ``rec`` is open."""
    return [rec.start_patch(SdkPatch(sdk, options))]


class SdkPatch(Patch):
    """Routes ``sdk``'s calls to the active recording while started."""

    def __init__(self, sdk: str, options: Options) -> None:
        super().__init__(f"{sdk}._base_client.SyncAPIClient.request")
        self.sdk = sdk
        self.sdk_options = options

    def start(self) -> Patch:
        if not self.active:
            install(self.sdk)
            with _install_lock:
                _enabled.setdefault(self.sdk, []).append(self.sdk_options)
            self.active = True
        return self

    def stop(self) -> None:
        if self.active:
            with _install_lock:
                stack = _enabled[self.sdk]
                stack.reverse()  # the latest one with these options goes
                stack.remove(self.sdk_options)
                stack.reverse()
            self.active = False


def _router(sdk: str) -> Any:
    get, stack = recording_lookup()

    def route() -> tuple[Any, Options] | None:
        options = _enabled.get(sdk)
        if not options:
            return None
        rec = get()
        if rec is None or not rec.is_open:
            if not stack:
                return None
            rec = stack[-1]
        return rec, options[-1]

    return route


class _Sdk(RequestHooks):
    """One SDK's hooks, installed once per process."""

    def __init__(self, sdk: str) -> None:
        self.sdk = sdk
        self.route = _router(sdk)
        self.base = base = importlib.import_module(f"{sdk}._base_client")
        self.httpx: Any = getattr(base, "httpx2", None) or base.httpx
        streaming = importlib.import_module(f"{sdk}._streaming")
        self.streams = (streaming.Stream, streaming.AsyncStream)
        lazy_responses(*self.streams)  # a replayed stream's .response: built when read
        self.raw_header = str(getattr(base, "RAW_RESPONSE_HEADER", "X-Stainless-Raw-Response"))
        self.service_errors = service_errors(sdk)
        self._http_specs: dict[tuple[str, Options], KeySpec] = {}
        base.SyncAPIClient.request = self._hook(base.SyncAPIClient.request, is_async=False)
        base.AsyncAPIClient.request = self._hook(base.AsyncAPIClient.request, is_async=True)
        # closing a client closes its connections: its recorded streams are finished first
        base.SyncAPIClient.close = finishing_close(base.SyncAPIClient.close)
        base.AsyncAPIClient.close = afinishing_close(base.AsyncAPIClient.close)
        # an error while the SDK parses the service's response is the service's answer
        sync_parse = base.SyncAPIClient._process_response
        base.SyncAPIClient._process_response = marking_answered(sync_parse)
        async_parse = base.AsyncAPIClient._process_response
        base.AsyncAPIClient._process_response = amarking_answered(async_parse)
        resource = importlib.import_module(f"{sdk}._resource")
        for root in (resource.SyncAPIResource, resource.AsyncAPIResource):
            self._watch(root)

    # -- resource methods ----------------------------------------------------------------

    def _watch(self, root: type) -> None:
        """Wrap the resource classes there are, and those defined later."""
        todo = [root]
        while todo:
            cls = todo.pop()
            self.wrap_class(cls)
            todo.extend(cls.__subclasses__())
        wrap_class = self.wrap_class
        previous = root.__dict__.get("__init_subclass__")

        def init_subclass(cls: type, /, **kwargs: Any) -> None:
            if previous is not None:
                previous.__func__(cls, **kwargs)
            else:
                parent: Any = super(root, cls)
                parent.__init_subclass__(**kwargs)
            wrap_class(cls)

        root.__init_subclass__ = classmethod(init_subclass)  # type: ignore[assignment]

    def wrap_class(self, cls: type) -> None:
        if "__apirec_wrapped__" in cls.__dict__:
            return
        for name, value in list(cls.__dict__.items()):
            if name.startswith("_") or not inspect.isfunction(value):
                continue  # properties, cached_property objects, helpers: not calls
            full = call_name(self.sdk, cls, name)
            setattr(cls, name, wrap_method(value, full, self))
        cls.__apirec_wrapped__ = True  # type: ignore[attr-defined]


def service_errors(sdk: str) -> tuple[type[BaseException], ...]:
    """The SDK's own error classes (``OpenAIError``, ``AnthropicError``...: the root of its
    ``APIError``): raised for what its service said (a status, a refusal to parse a reply).
    Other errors of a call (``TypeError``, pydantic's) come from the client, never stored."""
    api_error = getattr(importlib.import_module(sdk), "APIError", None)
    if not (isinstance(api_error, type) and issubclass(api_error, Exception)):
        return ()
    top = sdk.split(".")[0]
    own = [c for c in api_error.__mro__ if c.__module__.split(".")[0] == top]
    return (own[-1],)


def install(sdk: str) -> None:
    """Hook ``sdk`` once per process (idempotent)."""
    with _install_lock:
        hooks = _installed.get(sdk)
        # an SDK imported afresh (its modules dropped from sys.modules, as pytester's
        # in-process runs do) has classes of its own to hook
        if hooks is None or hooks.base is not sys.modules.get(f"{sdk}._base_client"):
            _installed[sdk] = _Sdk(sdk)
