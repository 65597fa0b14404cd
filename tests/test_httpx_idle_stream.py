"""Review of issue 20 point 12 (and the stream bound of docs/streams-and-errors.md): a stream
broken off by the caller is finished "for at most 30 seconds (stream_rest_seconds=)". The
deadline is only checked between chunks, so a server that goes quiet (an idle event stream, a
long poll) holds the caller's ``with client.stream(...)`` exit until httpx's read timeout:
with ``timeout=None`` (SDKs that stream without a read timeout), forever."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import apirec
from apirec import integrations


@pytest.fixture
def quiet_feed() -> Iterator[str]:
    """Three server-sent events, then silence with the connection open."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for n in range(3):
                data = f"data: {n}\n\n".encode()
                conn.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


def test_a_broken_off_quiet_stream_is_finished_within_the_bound(
    quiet_feed: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with apirec.recording(tmp_path, mode="record", stream_rest_seconds=1) as rec:
            integrations.patch(rec, "httpx")
            with (
                httpx.Client(timeout=12) as client,
                client.stream("GET", quiet_feed + "/events") as response,
            ):
                for line in response.iter_lines():
                    if line == "data: 1":
                        break  # the caller has what it wanted
    took = time.monotonic() - started
    # expected: about 1 s (stream_rest_seconds=1); happened: 12 s, the read timeout
    assert took < 6, f"leaving the stream took {took:.1f} s"
