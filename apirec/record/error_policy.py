"""Which errors a recording stores (``store_errors=``): transient ones are not, by default.

An error that says "try again" (HTTP 408, 409, 429 or 5xx, a timeout, a lost connection, an
error event in the middle of a stream whose type says the service failed, such as openai's
``server_error`` or anthropic's ``overloaded_error``) is the provider's weather, not its
answer: a retry loop around the call will ask again, and the answer that ends the loop is what
should be replayed. Stored, the error would replay as the first answer every time (and make
the replayed test sleep through its backoff). So in the recording modes such an error reaches
the caller but is not written, and the call gives up its place in the call order
(:meth:`apirec.record.stored_answers.Answers.abandon`); a stream cut by one likewise.

SDK classes are recognised by the names in their class hierarchy, never imported: the core
knows no SDK. :class:`apirec.NetworkBlocked` (apirec's own refusal) is never stored. For an
SDK's methods patched by an integration, only errors that came from the service or the
connection are answers at all (:func:`from_service`), and errors raised while the SDK read
the service's response (:data:`ANSWERED`); the others (a bad argument, a closed event loop)
reach the caller and are not stored.

An error an SDK raised in its own client before any request (:func:`by_client`:
``openai.OpenAI()`` without ``OPENAI_API_KEY`` raises ``OpenAIError("Missing credentials")``;
cohere, tavily and google.genai refuse to build a client without a key the same way, anthropic
raises a ``TypeError`` as it builds the request) is never stored, by an integration or by a
``@record`` function whose body made the client: stored, it would replay as the answer also
once the key is set. It reaches the caller with a note saying why nothing was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Literal, TypeAlias

from apirec.errors import NetworkBlocked, called

StoreErrors: TypeAlias = Literal["permanent", "all"] | Callable[[BaseException], bool]
Policy: TypeAlias = str | Callable[[BaseException], bool]  # a checked StoreErrors
# an SDK's error classes for what its service said (see from_service)
ServiceErrors: TypeAlias = tuple[type[BaseException], ...]
Services: TypeAlias = ServiceErrors | None  # None: every error is an answer (@record)
POLICIES = ("permanent", "all")
DEFAULT: StoreErrors = "permanent"

# The error an integration saw raised while its SDK read the service's HTTP response (a reply
# that fails the model of ``.parse()``: pydantic's ValidationError): the service answered, so
# it is the call's answer. Set by the integration as the error leaves the SDK's parsing.
ANSWERED: ContextVar[BaseException | None] = ContextVar("apirec_answered", default=None)

TRANSIENT_STATUSES = frozenset({408, 409, 429, *range(500, 600)})
# Classes, by name anywhere in the hierarchy, whose errors mean the request did not get an
# answer: openai/anthropic/groq... (Stainless SDKs), httpx and httpcore, requests, aiohttp.
TRANSIENT_CLASS_NAMES = frozenset(
    {
        "APIConnectionError",
        "APITimeoutError",
        "TransportError",
        "TimeoutException",
        "ConnectionError",
        "TimeoutError",
        "Timeout",
        "ClientConnectionError",
        "ServerTimeoutError",
    }
)
# The error types providers send as an event in the middle of a stream (whose HTTP status was
# 200) when the service, not the request, failed: openai's, anthropic's (overloaded: 529).
TRANSIENT_ERROR_TYPES = frozenset(
    {"server_error", "api_error", "overloaded_error", "rate_limit_error", "timeout_error"}
)
_STATUS_ATTRIBUTES = ("status_code", "status", "code")
_RESPONSE_STATUS_ATTRIBUTES = ("status_code", "status")


def check(policy: object, where: str = "store_errors") -> StoreErrors:
    """``policy`` when it is a valid ``store_errors=`` value, else a clear error."""
    if isinstance(policy, str):
        if policy in POLICIES:
            return policy  # type: ignore[return-value]
        raise ValueError(
            f"{where}={policy!r} is not a valid choice. Valid choices are: "
            f"{', '.join(repr(p) for p in POLICIES)}, or a callable (exception) -> bool"
        )
    if callable(policy):
        return policy
    raise TypeError(
        f"{where} takes 'permanent', 'all' or a callable (exception) -> bool, not {policy!r}"
    )


def should_store(policy: str | Callable[[BaseException], bool], error: BaseException) -> bool:
    """Whether the recording writes ``error``, raised by a call, as that call's answer."""
    if _network_blocked(error):
        return False  # apirec's own refusal: never a provider's answer
    if policy == "permanent":
        return not is_transient(error)
    if callable(policy):
        return bool(policy(error))
    return True  # "all" (values were checked when given)


def from_service(error: BaseException, classes: Services) -> bool:
    """Whether an SDK's call raised ``error`` because of its service (``classes`` None: a
    ``@record`` function's, whose every error is an answer): one of the SDK's error
    classes for what the service said (``classes``), an error carrying an HTTP status, or a
    failed connection (then judged as transient). Anything else (a ``TypeError`` for a bad
    argument, a validation error while the SDK built the request, a closed event loop)
    happened before any answer and is never stored as one."""
    if classes is None or isinstance(error, classes):
        return True
    if ANSWERED.get() is error:
        ANSWERED.set(None)  # judged: not kept alive (with its frames) any longer
        return True
    return from_evidence(error)


def from_evidence(error: BaseException) -> bool:
    """Whether ``error`` shows it came from the service or the connection: it is transient or
    carries an HTTP status, on itself or on its ``response``."""
    if is_transient(error):
        return True
    if any(_status(error, name) is not None for name in _STATUS_ATTRIBUTES):
        return True
    response = _attribute(error, "response")
    return response is not None and any(
        _status(response, name) is not None for name in _RESPONSE_STATUS_ATTRIBUTES
    )


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says "try again": a status of 408, 409, 429 or 5xx on it or on its
    ``response``, a timeout or connection error, an SDK's class of those names, or an error
    event of a stream (its status a success) whose type says the service failed."""
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    if any(klass.__name__ in TRANSIENT_CLASS_NAMES for klass in type(error).__mro__):
        return True
    for name in _STATUS_ATTRIBUTES:
        status = _status(error, name)
        if status is not None and not _success(status):
            return status in TRANSIENT_STATUSES
    response = _attribute(error, "response")
    if response is not None:
        for name in _RESPONSE_STATUS_ATTRIBUTES:
            status = _status(response, name)
            if status is not None and not _success(status):
                return status in TRANSIENT_STATUSES
    return _error_type(error) in TRANSIENT_ERROR_TYPES


def _success(status: int) -> bool:
    """A 2xx status on an error: the stream began well and an event in it failed; the status
    says nothing about that failure, the event's type does."""
    return 200 <= status < 300


def _error_type(error: BaseException) -> str | None:
    """The provider's error type: ``error.type``, else ``type`` in its body or body's
    ``error`` (openai: ``{"type": "server_error"}``; anthropic: ``{"error": {"type": ...}}``)."""
    kind = _attribute(error, "type")
    if isinstance(kind, str):
        return kind
    body = _attribute(error, "body")
    for part in (body, body.get("error") if isinstance(body, dict) else None):
        if isinstance(part, dict) and isinstance(part.get("type"), str):
            kind = part["type"]
            if kind != "error":  # anthropic's envelope: {"type": "error", "error": {...}}
                return str(kind)
    return None


def _attribute(owner: object, name: str) -> Any:
    try:
        return getattr(owner, name, None)
    except Exception:  # a property that fails (a response not read yet): nothing to learn
        return None


def _status(owner: object, name: str) -> int | None:
    """The attribute as an HTTP status when it looks like one (an int, or digits)."""
    value = _attribute(owner, name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and value.isdigit() and len(value) == 3:
        return int(value)
    return None


def _network_blocked(error: BaseException) -> bool:
    """``error`` is, or was caused by, apirec's network guard (an SDK may wrap it)."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 20:
        if isinstance(current, NetworkBlocked):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


# top-level packages of the SDKs whose client errors are known (integrations add theirs: add)
_SDK_PACKAGES: set[str] = {
    "openai",
    "anthropic",
    "cohere",
    "mistralai",
    "tavily",
    "ollama",
    "google.genai",
    "groq",
    "together",
    "fireworks",
    "llama_stack_client",
}


def add_sdk(package: str) -> None:
    """Know ``package`` (an SDK's import name) as an SDK whose client errors are not stored."""
    _SDK_PACKAGES.add(package)


def by_client(error: BaseException, call: Any, count: Callable[[str, Any], None]) -> bool:
    """Whether an SDK's client raised ``error`` before any request reached its service; if so,
    a note on ``error`` says that ``call`` (an :class:`apirec.record.calls.Call`, not imported:
    that module imports this one) stored nothing and why, and ``count`` counts it."""
    sdk = client_of(error)
    if sdk is None:
        return False
    error.add_note(
        f"apirec: nothing was stored for {called(call.function)}: {sdk} raised this in its "
        f"client before any request reached the service (a missing API key or a client "
        f"setting is not the service's answer); set the key (or fix the client's setting) "
        f"and run again to record it"
    )
    count("client_errors", call)
    return True


def client_of(error: BaseException) -> str | None:
    """The SDK whose client raised ``error`` before any request, else None: it carries no sign
    of an answer (:func:`from_evidence`, :data:`ANSWERED`) and was raised in an SDK's code
    while it built a client or an object (a frame of its ``__init__``), or is a ``TypeError``
    raised in an SDK's code (a call its client refused). The caller's own errors are not."""
    if ANSWERED.get() is error or from_evidence(error):
        return None
    frames = [(sdk, name) for sdk, name in _frames(error.__traceback__) if sdk]
    if not frames:
        return None  # raised by the caller's own code: a @record function's answer
    for sdk, name in frames:
        if name == "__init__":
            return sdk
    return frames[-1][0] if type(error) is TypeError else None


def _frames(tb: TracebackType | None) -> list[tuple[str | None, str]]:
    """(the SDK a frame's module belongs to, or None; the frame's function), outermost first."""
    found: list[tuple[str | None, str]] = []
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__")
        found.append(
            (_sdk_of(module) if isinstance(module, str) else None, tb.tb_frame.f_code.co_name)
        )
        tb = tb.tb_next
    return found


def _sdk_of(module: str) -> str | None:
    for package in _SDK_PACKAGES:
        if module == package or module.startswith(package + "."):
            return package
    return None
