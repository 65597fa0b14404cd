"""A real S3-compatible server on 127.0.0.1 for tests of the remote store (and for the docs'
sessions that use one): moto's standalone server (``moto[server]``) in a thread, on a free
port, with one bucket.

The ``s3_server`` fixture starts one per test and points the standard AWS variables at it
(``AWS_ENDPOINT_URL``, keys, region, ``AWS_ALLOW_HTTP``), as a user's CI would for MinIO, so
the client library configures itself exactly as it does for a user. ``stop()`` it to show
that a replay works from the cache alone; ``remote_url`` is ``s3://<bucket>/<prefix>``,
``http_url`` the same objects as a public, read-only ``http://`` URL (moto serves objects to
unsigned GETs, like a public bucket).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest

BUCKET = "apirec-test"
PREFIX = "objects"
# everything the AWS clients read that a developer's machine could set differently
AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_SKIP_SIGNATURE",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
)


class S3Server:
    """moto's S3 on 127.0.0.1; :meth:`start` returns it running with :data:`BUCKET` made."""

    def __init__(
        self, listen: str = "127.0.0.1", host: str | None = None, bucket: str = BUCKET
    ) -> None:
        """``listen`` on that address; clients reach it at ``host`` (default: the same); one
        bucket named ``bucket``."""
        self._server: object | None = None
        self.bucket = bucket
        self._listen = listen
        self.host = host or listen
        self.port = 0

    def start(self) -> S3Server:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address=self._listen, port=0, verbose=False)
        server.start()
        self.port = server.get_host_and_port()[1]
        self._server = server
        self.prepare()
        return self

    def prepare(self) -> None:
        """Empty the running server and make :data:`BUCKET`, readable by anyone."""
        # moto keeps its buckets process-wide: each server starts empty
        reset = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass
        # public-read: the objects also serve as a public, read-only http:// copy
        request = urllib.request.Request(
            f"{self.endpoint}/{self.bucket}", method="PUT", headers={"x-amz-acl": "public-read"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, answer.status

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def remote_url(self) -> str:
        return f"s3://{self.bucket}/{PREFIX}"

    @property
    def http_url(self) -> str:
        return f"{self.endpoint}/{self.bucket}/{PREFIX}"

    def environment(self) -> dict[str, str]:
        """The variables that point an AWS client at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def object_names(self) -> list[str]:
        """The keys under :data:`PREFIX`, read over HTTP (not through apirec)."""
        import re

        url = f"{self.endpoint}/{self.bucket}?list-type=2&prefix={PREFIX}/"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = answer.read().decode()
        return sorted(k.split("/", 1)[1] for k in re.findall(r"<Key>([^<]+)</Key>", body))

    def object_url(self, name: str) -> str:
        return f"{self.http_url}/{name}"

    def put_object(self, name: str, data: bytes) -> None:
        """Overwrite an object behind apirec's back (a tampered or broken remote)."""
        # a content type: urllib's default (a form) has the server swallow a large body
        request = urllib.request.Request(
            self.object_url(name),
            data=data,
            method="PUT",
            headers={"Content-Type": "application/octet-stream"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def delete_object(self, name: str) -> None:
        request = urllib.request.Request(self.object_url(name), method="DELETE")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()  # type: ignore[attr-defined]


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> Iterator[S3Server]:
    """A running :class:`S3Server`, the AWS variables pointing at it, and a fresh
    ``APIREC_CACHE_DIR`` (under ``tmp_path``) so no test reads another's cache."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    server = S3Server().start()
    try:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("APIREC_CACHE_DIR", os.path.join(tmp_path, "apirec-cache"))
        yield server
    finally:
        server.stop()
