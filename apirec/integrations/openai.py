"""The openai SDK: ``patch_openai(rec)``, and llama-stack's recordings replayed in place.

With apirec keys, ``patch_openai(rec)`` is ``integrations.patch(rec, "openai")``: every entry
point of the SDK (:mod:`apirec.integrations.stainless`). With ``keys="llama-stack"`` it patches
chat completions, completions, embeddings, Responses and model lists the way llama-stack's recorder
keyed and stored them; ``models.list`` is then recorded as the list of ``Model`` objects
(every page) and replayed as the SDK's page type, awaitable and async-iterable like the real
paginator on the async client.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from apirec.integrations.llama_stack import LlamaStackKeys
from apirec.keys.spec import Keying, Normalizer
from apirec.record.context import active_recording
from apirec.record.wrapping import Patch, wrap

if TYPE_CHECKING:
    from apirec.record.recording import Recording

KEY_SCHEMES = ("apirec", "llama-stack")


@dataclass(frozen=True)
class _Target:
    module: str
    classes: tuple[str, str]  # sync, async
    method: str
    endpoint: str


TARGETS = (
    _Target(
        "openai.resources.chat.completions",
        ("Completions", "AsyncCompletions"),
        "create",
        "/v1/chat/completions",
    ),
    _Target(
        "openai.resources.completions",
        ("Completions", "AsyncCompletions"),
        "create",
        "/v1/completions",
    ),
    _Target(
        "openai.resources.embeddings",
        ("Embeddings", "AsyncEmbeddings"),
        "create",
        "/v1/embeddings",
    ),
    # 504231040 (v0.5.3) patched it; no upstream file holds one yet
    _Target(
        "openai.resources.responses",
        ("Responses", "AsyncResponses"),
        "create",
        "/v1/responses",
    ),
    _Target(
        "openai.resources.models",
        ("Models", "AsyncModels"),
        "list",
        "/v1/models",
    ),
)


def patch_openai(
    rec: Recording,
    keys: Literal["apirec", "llama-stack"] = "apirec",
    *,
    ignore: Iterable[str] = (),
    normalize: Normalizer | None = None,
) -> list[Patch]:
    """Record and replay the openai SDK's calls while ``rec`` is open.

    ``keys="apirec"`` is ``apirec.integrations.patch(rec, "openai", ignore=..., normalize=...)``:
    every entry point, keyed the apirec way (names ``openai.chat.completions.create``...;
    model lists are shared across tests). ``keys="llama-stack"`` patches, on the sync and
    async clients, ``chat.completions.create``, ``completions.create``, ``embeddings.create``,
    ``responses.create`` and ``models.list``, computing keys, file names and the stored
    request exactly as llama-stack's recorder did, so its recordings directories replay in
    place; the functions are then named by method and endpoint (``POST /v1/chat/completions``).
    """
    if keys not in KEY_SCHEMES:
        raise ValueError(
            f"{keys!r} is not a valid key scheme. Valid key schemes are: {', '.join(KEY_SCHEMES)}"
        )
    if isinstance(ignore, str):
        raise TypeError("ignore= takes a list of names, not a single string")
    importlib.import_module("openai")  # a clear ImportError when the SDK is missing
    if keys == "apirec":
        from apirec.integrations import registry

        return registry.patch(rec, "openai", ignore=tuple(ignore), normalize=normalize)
    from apirec.integrations.stainless import service_errors

    if tuple(ignore) or normalize is not None:
        raise ValueError(
            "ignore= and normalize= do not apply to keys='llama-stack': its keys are "
            "llama-stack's own formula"
        )
    patches = []
    for target in TARGETS:
        for class_name, is_async in zip(target.classes, (False, True), strict=True):
            # named as `apirec ls` and miss reports name llama-stack's files
            keying: Keying = LlamaStackKeys(
                target.endpoint, base_url=_base_url, build_error=status_error
            )
            options: dict[str, Any] = {
                "name": f"POST {target.endpoint}",
                "keying": keying,
                "service_errors": service_errors("openai"),
            }
            path = f"{target.module}.{class_name}.{target.method}"
            patch = OpenAIPatch(path, is_async=is_async, lists=target.method == "list", **options)
            patches.append(rec.start_patch(patch))
    from apirec.integrations import credentials, stainless

    return patches + credentials.hold_for(rec, list(stainless.credential_variables("openai")))


def _base_url(resource: Any) -> str:
    return str(resource._client.base_url)


class OpenAIPatch(Patch):
    """Patches one openai resource method: creating calls recorded, model lists paged."""

    def __init__(self, target: str, *, is_async: bool, lists: bool, **options: Any) -> None:
        super().__init__(target, **options)
        self.is_async = is_async
        self.lists = lists

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        replacement = (
            self._listing(original, options) if self.lists else self._creating(original, options)
        )
        replacement.__apirec_original__ = original  # type: ignore[attr-defined]
        return replacement

    def _creating(self, original: Any, options: dict[str, Any]) -> Callable[..., Any]:
        recorded = wrap(original, **options)
        if self.is_async:

            @functools.wraps(original)
            async def create_async(resource: Any, *args: Any, **kwargs: Any) -> Any:
                return await recorded.__get__(resource, type(resource))(*args, **kwargs)

            return create_async

        @functools.wraps(original)
        def create(resource: Any, *args: Any, **kwargs: Any) -> Any:
            return recorded.__get__(resource, type(resource))(*args, **kwargs)

        return create

    def _listing(self, original: Any, options: dict[str, Any]) -> Callable[..., Any]:
        from openai.pagination import AsyncPage, SyncPage
        from openai.types import Model

        if self.is_async:

            @functools.wraps(original)
            async def fetch_all(resource: Any, **kwargs: Any) -> list[Any]:
                return [model async for model in original(resource, **kwargs)]

        else:

            @functools.wraps(original)
            def fetch_all(resource: Any, **kwargs: Any) -> list[Any]:
                return list(original(resource, **kwargs))

        recorded = wrap(fetch_all, **options)
        is_async = self.is_async

        @functools.wraps(original)
        def list_models(resource: Any, **kwargs: Any) -> Any:
            rec = active_recording()
            if rec is None or rec.passes_through:
                if rec is not None:
                    rec.count_live()
                return original(resource, **kwargs)  # the SDK's own paginator, untouched
            fetch = functools.partial(recorded.__get__(resource, type(resource)), **kwargs)
            if is_async:
                return ModelPages(fetch, lambda data: AsyncPage[Model](data=data, object="list"))
            return SyncPage[Model](data=fetch(), object="list")

        return list_models


class ModelPages:
    """Stands for the async paginator of ``models.list``: ``await`` it for the page, or
    ``async for`` over the models. Each of these makes the (recorded) call, as the SDK's does."""

    def __init__(self, fetch: Callable[[], Any], page: Callable[[list[Any]], Any]) -> None:
        self._fetch = fetch
        self._page = page

    def __await__(self) -> Generator[Any, None, Any]:
        return self._get_page().__await__()

    async def _get_page(self) -> Any:
        return self._page(await self._fetch())

    async def __aiter__(self) -> AsyncIterator[Any]:
        page = await self._get_page()
        for model in page.data:
            yield model


_BY_STATUS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def status_error(data: Mapping[str, Any], url: str) -> BaseException | None:
    """llama-stack's ``provider_sdk`` exception record as the openai SDK's own error class.

    The class is the recorded type name when the SDK has a status error of that name, else
    the one the SDK raises for the status code; ``status_code`` and ``body`` are the recorded
    ones. None when the record has no status code (apirec's rules then apply).
    """
    import openai

    status = data.get("status_code")
    if not isinstance(status, int) or isinstance(status, bool):
        return None
    cls = getattr(openai, str(data.get("type", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, openai.APIStatusError)):
        name = _BY_STATUS.get(status, "InternalServerError" if status >= 500 else "APIStatusError")
        cls = getattr(openai, name)
    http = _httpx()
    response = http.Response(status, request=http.Request("POST", url))
    message = str(data.get("message", ""))
    error: BaseException = cls(message, response=response, body=data.get("body"))
    return error


def _httpx() -> Any:
    """The HTTP library this openai SDK builds its responses with."""
    for name in ("httpx2", "httpx"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("the openai SDK's HTTP library (httpx) is not installed")
