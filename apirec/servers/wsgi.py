"""``wsgi_middleware``: each request served in the context of the test that sent it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from apirec.record.context import Carried, Serving, in_test_context
from apirec.servers.carriers import (
    MISS_HEADER,
    PROVIDER_DATA_HEADERS,
    TEST_ID_HEADER,
    carried_test_id,
    encode_errors,
)

Headers = list[tuple[str, str]]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

LOG = logging.getLogger("apirec.servers")
# the carriers' names as WSGI spells request headers
_CARRIERS = tuple(
    "HTTP_" + name.upper().replace("-", "_") for name in (TEST_ID_HEADER, *PROVIDER_DATA_HEADERS)
)
_BODY = b"apirec: replay error in the server while serving this test's request\n"


def wsgi_middleware(app: WSGIApp) -> WSGIApp:
    """Serve each request inside ``test_context`` of the test that sent it, until its body
    has been sent (the iterable's ``close()``).

    The test id comes as for :func:`~apirec.servers.asgi_middleware`; the thread serving the
    request sees it, and so does a thread the handler starts through
    ``contextvars.copy_context().run``; a plain ``threading.Thread`` falls back to the test
    of the latest request still being served. Replay errors raised before the response's
    first body part go back to the test in the ``X-Apirec-Miss`` header.
    """

    def apirec_middleware(environ: dict[str, Any], start_response: StartResponse) -> Any:
        test_id = carried_test_id(
            (key[5:].replace("_", "-"), str(environ[key])) for key in _CARRIERS if key in environ
        )
        if test_id is None and in_test_context():
            # served in-process inside a test (a framework's test client): its test
            return app(environ, start_response)
        stack = Serving(test_id)  # left when the body is closed
        carried = stack.__enter__()
        if carried is None or test_id is None:  # no test: nothing to carry back
            try:
                return _Body(app(environ, start_response), stack, None, None)
            except BaseException:
                stack.__exit__()
                raise
        response = _Response(start_response, carried)
        try:
            body = app(environ, response.start_response)
        except BaseException:
            if not carried.errors or response.sent:
                stack.__exit__()
                raise
            LOG.exception("apirec: the app raised while serving test %s", test_id)
            response.fail(sys.exc_info())
            stack.__exit__()
            return [_BODY]
        return _Body(body, stack, response, test_id)

    apirec_middleware.__wrapped__ = app  # type: ignore[attr-defined]
    return apirec_middleware


class _Response:
    """The app's ``start_response``, held until the first body part (PEP 3333 lets headers
    wait until then), so replay errors met before it go in the header."""

    def __init__(self, start_response: StartResponse, carried: Carried) -> None:
        self.real = start_response
        self.carried = carried
        self.held: tuple[str, Headers, ExcInfo | None] | None = None
        self.sent = False

    def start_response(
        self, status: str, headers: Headers, exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.held = (status, list(headers), exc_info)
        return self.write

    def write(self, data: bytes) -> object:  # the legacy write(): the start goes first
        return self.flush()(data)

    def flush(self) -> Callable[[bytes], object]:
        if self.held is None:
            raise AssertionError("the WSGI app wrote a body before calling start_response")
        status, headers, exc_info = self.held
        if self.carried.errors:
            headers = [*headers, (MISS_HEADER, encode_errors(self.carried.errors))]
            self.carried.errors.clear()
        self.sent = True
        write = self.real(status, headers, exc_info)
        self.held = (status, headers, None)  # a later write() sends no second start
        self.flush = lambda: write  # type: ignore[method-assign]
        return write

    def fail(self, exc_info: Any) -> None:
        self.held = ("500 Internal Server Error", [("Content-Type", "text/plain")], exc_info)
        self.flush()


class _Body:
    """The app's body, run inside the request's context; ``close()`` ends the context."""

    def __init__(
        self,
        body: Iterable[bytes],
        stack: Serving,
        response: _Response | None,
        test_id: str | None,
    ) -> None:
        self.body = body
        self.stack = stack
        self.response = response
        self.test_id = test_id
        self.parts: Iterator[bytes] | None = None
        self.failed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        response = self.response
        if self.failed:
            raise StopIteration
        try:
            if self.parts is None:
                self.parts = iter(self.body)
            part = next(self.parts)
        except StopIteration:
            if response is not None and not response.sent and response.held is not None:
                response.flush()
            raise
        except BaseException:
            if response is None or response.sent or not response.carried.errors:
                raise
            LOG.exception("apirec: the app raised while serving test %s", self.test_id)
            response.fail(sys.exc_info())
            self.failed = True
            return _BODY
        if response is not None and not response.sent and part:
            response.flush()
        return part

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            response = self.response
            if response is not None and response.carried.errors:
                for error in response.carried.errors:
                    LOG.error(
                        "apirec: a replay error after the response to test %s started, so "
                        "it could not be sent back with it:\n%s",
                        self.test_id,
                        error,
                    )
            self.stack.__exit__()
