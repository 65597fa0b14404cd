"""The remote store's objects and its local cache, against a real S3-compatible server on
127.0.0.1 (moto), a ``file://`` directory and a read-only ``http://`` copy."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os

import pytest

from apirec.errors import InvalidStore, StoreError
from apirec.stores.remote.cache import Cache, default_cache_dir
from apirec.stores.remote.objects import MissingObject, open_remote

DATA = os.urandom(100_000)
DIGEST = hashlib.sha256(DATA).hexdigest()


def test_s3_put_get_has_list_delete(s3_server):
    remote = open_remote(s3_server.remote_url)
    assert remote.host == "127.0.0.1" and not remote.read_only
    assert not remote.has(DIGEST)
    remote.put(DIGEST, DATA)
    remote.put(DIGEST, DATA)  # idempotent
    assert remote.has(DIGEST)
    assert remote.get(DIGEST) == DATA
    _listed_once(remote)
    assert s3_server.object_names() == [DIGEST]
    assert remote.url_of(DIGEST) == f"s3://apirec-test/objects/{DIGEST}"
    remote.delete(DIGEST)
    assert not remote.has(DIGEST)
    with pytest.raises(MissingObject, match=f"s3://apirec-test/objects/{DIGEST}: no such"):
        remote.get(DIGEST)


def test_a_digest_is_never_a_path(s3_server):
    remote = open_remote(s3_server.remote_url)
    with pytest.raises(ValueError, match="not a sha256"):
        remote.get("../secrets")
    with pytest.raises(ValueError, match="another sha256"):
        remote.put(DIGEST, b"other")


def test_an_unreachable_server_is_a_store_error_naming_the_object(s3_server):
    remote = open_remote(s3_server.remote_url, {"max_retries": "0"})
    s3_server.stop()
    with pytest.raises(StoreError, match=f"s3://apirec-test/objects/{DIGEST}: cannot be read"):
        remote.get(DIGEST)


def test_read_only_http_copy_reads_without_credentials_and_refuses_writes(s3_server, monkeypatch):
    open_remote(s3_server.remote_url).put(DIGEST, DATA)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    public = open_remote(s3_server.http_url)
    assert public.read_only and public.host == "127.0.0.1"
    assert public.get(DIGEST) == DATA
    with pytest.raises(StoreError, match="read-only remote"):
        public.put(DIGEST, DATA)
    with pytest.raises(StoreError, match="read-only"):
        public.delete(DIGEST)


def test_plain_http_only_on_loopback():
    with pytest.raises(InvalidStore, match="loopback only"):
        open_remote("http://example.com/objects")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://user:hunter2@example.com/x", "not a remote apirec can use"),
        ("s3://user:hunter2@bucket/x", "credentials do not go in the URL"),
    ],
)
def test_bad_urls_are_refused_without_showing_credentials(url, message):
    with pytest.raises(InvalidStore, match=message) as info:
        open_remote(url)
    assert "hunter2" not in str(info.value)


def _listed_once(remote):
    """The remote lists the one object with its size and a time of storing of just now."""
    (listed,) = remote.list()
    assert (listed.digest, listed.size) == (DIGEST, len(DATA))
    assert abs(dt.datetime.now(dt.UTC) - listed.modified) < dt.timedelta(minutes=5)


def test_file_remote(tmp_path):
    remote = open_remote((tmp_path / "remote").as_uri())
    assert remote.host is None and not remote.read_only
    remote.put(DIGEST, DATA)
    assert (tmp_path / "remote" / DIGEST).read_bytes() == DATA
    _listed_once(remote)
    assert remote.get(DIGEST) == DATA


def test_cache_reads_through_and_works_with_the_server_stopped(s3_server, tmp_path):
    remote = open_remote(s3_server.remote_url, {"max_retries": "0"})
    remote.put(DIGEST, DATA)
    cache = Cache(tmp_path / "cache")
    assert not cache.has(DIGEST)
    assert cache.fetch(remote, DIGEST, size=len(DATA)) == DATA
    assert cache.path(DIGEST).read_bytes() == DATA
    s3_server.stop()
    assert cache.fetch(remote, DIGEST) == DATA


def test_a_tampered_cache_file_is_discarded_and_fetched_again(s3_server, tmp_path):
    remote = open_remote(s3_server.remote_url)
    remote.put(DIGEST, DATA)
    cache = Cache(tmp_path / "cache")
    cache.fetch(remote, DIGEST)
    cache.path(DIGEST).write_bytes(b"tampered")
    assert cache.fetch(remote, DIGEST) == DATA
    assert cache.path(DIGEST).read_bytes() == DATA


def test_a_tampered_remote_object_is_an_error_and_never_cached(s3_server, tmp_path):
    remote = open_remote(s3_server.remote_url)
    s3_server.put_object(DIGEST, b"not the payload")
    cache = Cache(tmp_path / "cache")
    with pytest.raises(StoreError, match=f"{DIGEST}: the remote object was altered"):
        cache.fetch(remote, DIGEST)
    assert not cache.path(DIGEST).exists()


def test_a_symbolic_link_in_the_cache_is_not_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(DATA)
    cache = Cache(tmp_path / "cache")
    cache.path(DIGEST).parent.mkdir(parents=True)
    cache.path(DIGEST).symlink_to(secret)
    assert cache.cached(DIGEST) is None
    assert not cache.path(DIGEST).is_symlink()


def test_cache_directory_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("APIREC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "apirec"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "apirec"


def _fetch_many(root: str, url: str, digests: list[str], barrier) -> None:
    cache = Cache(root)
    remote = open_remote(url)
    barrier.wait()
    for d in digests:
        cache.fetch(remote, d)


def test_concurrent_processes_share_one_cache(tmp_path):
    source = tmp_path / "remote"
    remote = open_remote(source.as_uri())
    payloads = [os.urandom(70_000) for _ in range(20)]
    digests = [hashlib.sha256(p).hexdigest() for p in payloads]
    for d, p in zip(digests, payloads, strict=True):
        remote.put(d, p)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    workers = [
        context.Process(
            target=_fetch_many, args=(str(tmp_path / "cache"), source.as_uri(), digests, barrier)
        )
        for _ in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    cache = Cache(tmp_path / "cache")
    for d, p in zip(digests, payloads, strict=True):
        assert cache.cached(d) == p
    assert list((tmp_path / "cache" / "objects" / ".tmp").iterdir()) == []
