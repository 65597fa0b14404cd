"""The mcp SDK (2.x): what MCP clients ask their servers, and connecting itself, recorded and
replayed, so a test of an agent that uses MCP servers runs offline.

Every request an MCP client makes goes through ``ClientSession.send_request`` (the handshake's
``initialize``, ``tools/call``, ``tools/list``, ``resources/read``, ``prompts/get``, the list
calls, ``completion/complete``), whether the code uses ``mcp.Client``, ``ClientSession``
directly or ``ClientSessionGroup``; the ``server/discover`` probe goes through
``ClientSession.send_discover``. Those two are recorded, as ``mcp <method>`` (``mcp
tools/call``), keyed by the server's name and the request's params. Results come back as the
SDK's own types, a tool's error result (``isError``) as the result it is, and a protocol error
as the ``MCPError`` it was, with its code, message and data.

On replay no server is needed: ``stdio_client`` gets a stand-in process that is never launched
(:class:`~apirec.integrations.mcp_servers.ReplayProcess`), ``sse_client`` a stand-in event
stream, and the streamable HTTP transport is opened but never sent anything; the handshake's
answers come from the recording, and notifications to the server are dropped. The rest of
the SDK runs as it does live (validating tool results against the listed schemas, caching,
input-required rounds) on the recorded answers. Server-to-client messages (progress, log
messages, sampling and elicitation requests) are not recorded: on replay the client's
callbacks for them are not called. In ``record-if-missing`` the server is connected live.

Keys leave out the request's ``_meta`` (progress tokens, trace ids, the client's version
stamp), request ids, and, for the handshake, everything the client offers (its version,
capabilities, protocol version). A server is named by its handshake's ``serverInfo.name``;
the handshake itself by what the client was given to connect to, the same on every machine
(:mod:`apirec.integrations.mcp_servers`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from apirec.gate.rules import NO_RULES, Rules
from apirec.integrations.defaults import error_classes
from apirec.integrations.mcp_servers import (
    ReplayProcess,
    connecting,
    replay_events,
    server_label,
    stdio_label,
    url_label,
)
from apirec.integrations.registry import UnknownIntegration
from apirec.keys.spec import Normalizer
from apirec.record.context import active_recording
from apirec.record.modes import Mode
from apirec.record.wrapping import Patch, RecordedFunction, wrap

if TYPE_CHECKING:
    from apirec.integrations.registry import Options
    from apirec.record.recording import Recording

# ``send`` makes the request; ``params._meta`` carries progress tokens and version stamps
DEFAULT_IGNORE = ("send", "params._meta")
# requests whose params are the client's own offer, not a question to the server
HANDSHAKE = frozenset({"initialize", "server/discover"})
SESSION = "mcp.client.session.ClientSession"
# where every stdio_client launches its server, however the caller imported stdio_client
LAUNCH = "mcp.client.stdio._create_platform_compatible_process"
CONNECT = "mcp.client.client.Client.__aenter__"
# where every streamable_http_client is told its URL, however the caller imported it
HTTP_TRANSPORT = "mcp.client.streamable_http.StreamableHTTPTransport.__init__"
# where every sse_client opens the server's event stream
SSE_EVENTS = "mcp.client.sse.sse_within_origin"
_SERVER_ATTRIBUTE = "_apirec_mcp_server"


async def _request(server: str, params: dict[str, Any], send: Callable[[], Awaitable[Any]]) -> Any:
    """One request to the MCP server ``server``; ``send`` makes it."""
    return await send()


class Requests:
    """The recorded function of each MCP method (``mcp tools/call``...), made on first use."""

    def __init__(
        self, ignore: tuple[str, ...], normalize: Normalizer | None, scrub: Rules = NO_RULES
    ) -> None:
        # a protocol error is the server's answer; a broken connection or a bad argument not
        service = error_classes(importlib.import_module("mcp"), ("MCPError", "McpError"))
        self._options: dict[str, Any] = {
            "ignore": ignore,
            "normalize": normalize,
            "scrub": scrub,
            "service_errors": service,
        }
        self._functions: dict[str, RecordedFunction] = {}
        try:
            self.function("tools/call")  # a wrong ignore= or normalize= fails now, not mid-test
        except TypeError as error:
            raise TypeError(
                f"apirec.integrations 'mcp': {error}; an MCP request is keyed by 'server' and "
                "'params', the request's params: ignore 'params.arguments.<name>' for a tool's "
                "argument, 'params.uri', 'params.name'"
            ) from None

    def function(self, method: str) -> RecordedFunction:
        function = self._functions.get(method)
        if function is None:
            function = wrap(_request, name=f"mcp {method}", **self._options)
            self._functions[method] = function
        return function


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay MCP clients' requests and connections while ``rec`` is open."""
    version = sdk_version()
    if int(version.split(".", 1)[0]) < 2:
        raise UnknownIntegration(
            f"apirec.integrations 'mcp' records the mcp SDK 2.x (mcp.Client, ClientSession); "
            f"mcp {version} is installed: pip install 'mcp>=2'"
        )
    requests = Requests((*DEFAULT_IGNORE, *options.ignore), options.normalize, options.scrub)
    patches = [
        Replace(f"{SESSION}.send_request", functools.partial(_send_request, requests)),
        Replace(f"{SESSION}.send_discover", functools.partial(_send_discover, requests)),
        Replace(f"{SESSION}.send_notification", _send_notification),
        Replace(LAUNCH, _launch),
        Replace(CONNECT, _connect),
        Replace(HTTP_TRANSPORT, _http_transport),
        Replace(SSE_EVENTS, _sse_events),
    ]
    return [rec.start_patch(patch) for patch in patches]


def sdk_version() -> str:
    """The installed mcp SDK's version."""
    importlib.import_module("mcp")  # a clear ImportError when the SDK is missing
    return importlib.metadata.version("mcp")


class Replace(Patch):
    """Replaces ``target`` by what ``make`` builds around the original."""

    def __init__(self, target: str, make: Callable[[Any], Any]) -> None:
        super().__init__(target)
        self._make = make

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        replacement = self._make(original)
        replacement.__apirec_original__ = original
        return replacement


def _server(session: Any, method: str) -> str:
    """The name the request's key gives its server: the one the handshake told, else the
    connection's (kept on the session, as later requests may come from other tasks)."""
    if method in HANDSHAKE:
        label = connecting.get()
        setattr(session, _SERVER_ATTRIBUTE, label)
        return label
    info = session.server_info
    if info is not None and info.name:
        return str(info.name)
    return str(getattr(session, _SERVER_ATTRIBUTE, None) or connecting.get())


async def _ask(
    requests: Requests, session: Any, method: str, params: dict[str, Any], send: Any
) -> Any:
    keyed = requests.function(method)
    server = _server(session, method)
    rec = active_recording()
    if method in HANDSHAKE and rec is not None and rec.mode is Mode.RECORD_IF_MISSING:
        return await _live_handshake(keyed, server, send)
    return await keyed(server=server, params=params, send=send)


async def _live_handshake(keyed: RecordedFunction, server: str, send: Any) -> Any:
    """``record-if-missing`` connects the live server, for the calls not recorded yet: it gets
    its handshake even when one is stored (a strict server refuses requests before it). The
    live answer is the one used; it is stored when none was."""
    error: Exception | None = None
    try:
        live = await send()
    except Exception as raised:
        error = raised

    async def answer() -> Any:
        if error is not None:
            raise error
        return live

    with contextlib.suppress(Exception):  # a stored answer, even a stored error, is not used
        await keyed(server=server, params={}, send=answer)
    if error is not None:
        raise error
    return live


def _send_request(requests: Requests, original: Any) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def send_request(session: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        if active_recording() is None:
            return await original(session, request, *args, **kwargs)
        data = request.model_dump(by_alias=True, mode="json", exclude_none=True)
        method = str(data.get("method"))
        params = {} if method in HANDSHAKE else dict(data.get("params") or {})
        send = functools.partial(original, session, request, *args, **kwargs)
        return await _ask(requests, session, method, params, send)

    return send_request


def _send_discover(requests: Requests, original: Any) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def send_discover(session: Any, *args: Any, **kwargs: Any) -> Any:
        if active_recording() is None:
            return await original(session, *args, **kwargs)
        send = functools.partial(original, session, *args, **kwargs)
        return await _ask(requests, session, "server/discover", {}, send)

    return send_discover


def _replaying() -> bool:
    rec = active_recording()
    return rec is not None and rec.mode is Mode.REPLAY


def _send_notification(original: Any) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def send_notification(session: Any, *args: Any, **kwargs: Any) -> Any:
        if _replaying():
            return None  # no server to tell: ``notifications/initialized`` and the like
        return await original(session, *args, **kwargs)

    return send_notification


def _launch(original: Any) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def create_process(command: str, args: list[str], *rest: Any, **kwargs: Any) -> Any:
        if active_recording() is None:
            return await original(command, args, *rest, **kwargs)
        # set in the caller's task: the session's handshake, later in that task, reads it
        connecting.set(stdio_label(command, args))
        if _replaying():
            return ReplayProcess()
        return await original(command, args, *rest, **kwargs)

    return create_process


def _connect(original: Any) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def __aenter__(client: Any) -> Any:
        if active_recording() is not None:
            connecting.set(server_label(client.server))
        return await original(client)

    return __aenter__


def _http_transport(original: Any) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(transport: Any, url: str, *args: Any, **kwargs: Any) -> None:
        # made when the transport is entered, in the task that goes on to the handshake;
        # on replay it is entered too, but no request ever reaches it
        if active_recording() is not None:
            connecting.set(url_label(url))
        original(transport, url, *args, **kwargs)

    return __init__


def _sse_events(original: Any) -> Callable[..., Any]:
    @functools.wraps(original)
    def sse_within_origin(client: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        if active_recording() is None:
            return original(client, url, *args, **kwargs)
        connecting.set(url_label(str(url)))
        if _replaying():
            return replay_events(str(url))  # the posts never come: requests are answered first
        return original(client, url, *args, **kwargs)

    return sse_within_origin
