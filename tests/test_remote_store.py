"""remote=: payloads over 64 KiB recorded to object storage (a real S3-compatible server on
127.0.0.1, moto), replayed through the local cache, end to end through apirec.recording()
(issue 22, points 1, 2, 3, 5 and 6)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys

import openai
import pytest

import apirec
from apirec.errors import StoreError
from tests.s3_server import S3Server

KIB = 1024
CALLS: list[str] = []


def _payload(n, seed=b"x"):
    block = hashlib.sha256(seed).digest()
    return (block * (n // len(block) + 1))[:n]


@apirec.record(name="tts.speak")
def speak(text, size=100 * KIB):
    CALLS.append(text)
    return _payload(size, text.encode())


@apirec.record(name="docs.fetch")
def fetch_document(name):
    CALLS.append(name)
    return {
        "name": name,
        "pages": [f"page {i} of {name}: " + "lorem ipsum " * 20 for i in range(400)],
    }


@apirec.record(name="llm.stream")
def stream_words(n):
    CALLS.append(n)
    for i in range(n):
        yield f"word {i} " * 20


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def _files(path):
    return sorted(p.name for p in path.rglob("*") if p.is_file())


def _recording_text(path):
    (name,) = list(path.glob("*.json"))
    return name.read_text()


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_large_bytes_and_bodies_go_to_s3_and_replay_from_a_fresh_cache(
    s3_server, store_dir, tmp_path, monkeypatch, store
):
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote, store=store):
        audio = speak("hello")
        document = fetch_document("manual")
    assert CALLS == ["hello", "manual"]
    objects = s3_server.object_names()
    assert hashlib.sha256(audio).hexdigest() in objects and len(objects) == 2
    assert not (store_dir / "blobs").exists()
    if store == "json":
        stored = "".join(p.read_text() for p in store_dir.glob("*.json"))
        assert "apirec.json" in stored and "lorem" not in stored
        assert sum(p.stat().st_size for p in store_dir.glob("*.json")) < 4 * KIB

    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh-cache"))
    CALLS.clear()
    with apirec.recording(store_dir, mode="replay", remote=remote, store=store):
        assert speak("hello") == audio
        assert fetch_document("manual") == document
    assert CALLS == []
    cached = _files(tmp_path / "fresh-cache")
    assert sorted(objects) == cached


def test_a_long_stream_is_kept_remotely_and_replays_chunk_by_chunk(s3_server, store_dir):
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        recorded = list(stream_words(500))
    entry = json.loads(_recording_text(store_dir))
    assert entry["response"]["is_streaming"] is True
    assert entry["response"]["body"]["__type__"] == "apirec.json"
    with apirec.recording(store_dir, mode="replay", remote=s3_server.remote_url):
        replayed = stream_words(500)
        assert next(replayed) == recorded[0]
        assert [recorded[0], *replayed] == recorded
    assert CALLS == [500]


def test_replay_from_a_warm_cache_with_the_remote_stopped(s3_server, store_dir):
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote):
        audio = speak("hello")
    s3_server.stop()
    with apirec.recording(store_dir, mode="replay", remote=remote) as rec:
        assert speak("hello") == audio
    assert rec.stats.replayed == 1


def test_openai_embeddings_recorded_to_s3_and_replayed_offline(
    s3_server, openai_server, store_dir, tmp_path, monkeypatch
):
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    inputs = [f"document number {i}" for i in range(600)]
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote) as rec:
        rec.patch("openai.resources.embeddings.Embeddings.create")
        recorded = client.embeddings.create(model="text-embedding-3-small", input=inputs)
    stored = _recording_text(store_dir)
    assert '"__type__": "apirec.json"' in stored
    assert len(stored) < 64 * KIB  # the 600 vectors are on the remote; the request stays
    served = openai_server.requests
    openai_server.stop()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "ci-cache"))
    with apirec.recording(store_dir, mode="replay", remote=remote) as rec:
        rec.patch("openai.resources.embeddings.Embeddings.create")
        replayed = client.embeddings.create(model="text-embedding-3-small", input=inputs)
    assert replayed == recorded and len(replayed.data) == 600
    assert openai_server.requests == served
    s3_server.stop()  # now from the cache alone
    with apirec.recording(store_dir, mode="replay", remote=remote) as rec:
        rec.patch("openai.resources.embeddings.Embeddings.create")
        assert client.embeddings.create(model="text-embedding-3-small", input=inputs) == recorded


def _digest_in(store_dir):
    text = _recording_text(store_dir)
    return json.loads(text)["response"]["body"]["__blob__"]


@pytest.mark.parametrize("mode", ["replay", "record-if-missing"])
def test_a_tampered_object_is_a_store_error_never_a_live_call(
    s3_server, store_dir, tmp_path, monkeypatch, mode
):
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote):
        speak("hello")
    digest = _digest_in(store_dir)
    s3_server.put_object(digest, b"something else")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh"))
    CALLS.clear()
    with (
        apirec.recording(store_dir, mode=mode, remote=remote),
        pytest.raises(StoreError) as info,
    ):
        speak("hello")
    message = str(info.value)
    assert str(store_dir) in message  # the recording
    assert message.count(f"s3://apirec-test/objects/{digest}") == 1, message  # said once
    assert "altered" in message
    assert CALLS == []
    assert not (tmp_path / "fresh" / "objects" / digest[:2] / digest).exists()


@pytest.mark.parametrize("mode", ["replay", "record-if-missing"])
def test_a_missing_object_is_a_store_error_never_a_live_call(
    s3_server, store_dir, tmp_path, monkeypatch, mode
):
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote):
        speak("hello")
    digest = _digest_in(store_dir)
    s3_server.delete_object(digest)
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh"))
    CALLS.clear()
    with (
        apirec.recording(store_dir, mode=mode, remote=remote),
        pytest.raises(StoreError, match=f"{digest}, which is missing from the remote") as info,
    ):
        speak("hello")
    assert str(store_dir) in str(info.value)
    assert CALLS == []


def test_a_tampered_cache_file_is_fetched_again(s3_server, store_dir, tmp_path):
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote):
        audio = speak("hello")
    digest = _digest_in(store_dir)
    cached = tmp_path / "apirec-cache" / "objects" / digest[:2] / digest
    assert cached.read_bytes() == audio  # cached as it was uploaded
    cached.write_bytes(b"tampered")
    with apirec.recording(store_dir, mode="replay", remote=remote):
        assert speak("hello") == audio
    assert cached.read_bytes() == audio


def test_a_tampered_cache_file_with_the_remote_down_is_an_error(s3_server, store_dir, tmp_path):
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote):
        speak("hello")
    digest = _digest_in(store_dir)
    (tmp_path / "apirec-cache" / "objects" / digest[:2] / digest).write_bytes(b"tampered")
    s3_server.stop()
    with (
        apirec.recording(
            store_dir, mode="replay", remote=remote, remote_options={"max_retries": "0"}
        ),
        pytest.raises(StoreError, match="cannot be read"),
    ):
        speak("hello")


def test_an_upload_failure_leaves_no_recording(s3_server, store_dir):
    remote = s3_server.remote_url
    s3_server.stop()
    with (
        apirec.recording(
            store_dir, mode="record", remote=remote, remote_options={"max_retries": "0"}
        ),
        pytest.raises(StoreError, match="could not be uploaded") as info,
    ):
        speak("hello")
    assert "speak" in str(info.value) or "tts.speak" in str(info.value)
    assert CALLS == ["hello"]  # the call was made (and the message says so)
    assert not list(store_dir.glob("*.json"))


def test_small_answers_never_touch_the_remote(s3_server, store_dir, tmp_path):
    """Without large payloads a remote changes nothing: same files, same bytes."""
    plain = tmp_path / "plain"
    with apirec.recording(plain, mode="record"):
        speak("hi", size=10)
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        speak("hi", size=10)
    assert _files(plain) == _files(store_dir)
    strip = lambda t: json.loads(t) | {"recorded_at": None}  # noqa: E731
    assert strip(_recording_text(plain)) == strip(_recording_text(store_dir))
    assert s3_server.object_names() == []


def test_a_read_only_http_remote_replays_without_credentials_and_refuses_to_record(
    s3_server, store_dir, tmp_path, monkeypatch
):
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        audio = speak("hello")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fork-cache"))
    public = s3_server.http_url
    with apirec.recording(store_dir, mode="replay", remote=public):
        assert speak("hello") == audio
    CALLS.clear()
    for mode in ("record", "record-if-missing"):
        with (
            apirec.recording(store_dir, mode=mode, remote=public),
            pytest.raises(StoreError, match="read-only") as info,
        ):
            speak("new text")
        assert "was not called" in str(info.value)
    assert CALLS == []
    assert len(list(store_dir.glob("*.json"))) == 1


def test_file_remote(store_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    remote = (tmp_path / "objects").as_uri()
    with apirec.recording(store_dir, mode="record", remote=remote):
        audio = speak("hello")
    assert [p.name for p in (tmp_path / "objects").iterdir()] == [hashlib.sha256(audio).hexdigest()]
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "other-cache"))
    with apirec.recording(store_dir, mode="replay", remote=remote):
        assert speak("hello") == audio


def test_remote_from_the_environment(s3_server, store_dir, monkeypatch):
    monkeypatch.setenv("APIREC_REMOTE", s3_server.remote_url)
    with apirec.recording(store_dir, mode="record"):
        speak("hello")
    assert len(s3_server.object_names()) == 1


def test_recordings_made_without_a_remote_replay_with_one(s3_server, store_dir):
    with apirec.recording(store_dir, mode="record"):
        audio = speak("hello")
    assert (store_dir / "blobs").is_dir()
    s3_server.stop()
    with apirec.recording(store_dir, mode="replay", remote=s3_server.remote_url):
        assert speak("hello") == audio


def test_a_body_kept_remotely_without_a_remote_set_says_so(s3_server, store_dir):
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        fetch_document("manual")
    with (
        apirec.recording(store_dir, mode="replay"),
        pytest.raises(StoreError, match="APIREC_REMOTE"),
    ):
        fetch_document("manual")


@pytest.mark.parametrize(
    "body",
    [
        {"__type__": "apirec.json", "__blob__": "../../etc/passwd", "size": 1},
        {"__type__": "apirec.json", "__blob__": "a" * 64, "size": 1, "extra": 1},
        {"__type__": "apirec.json", "__blob__": "a" * 64, "size": "1"},
    ],
)
def test_a_malformed_body_reference_is_refused(s3_server, store_dir, body):
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        fetch_document("manual")
    (path,) = store_dir.glob("*.json")
    entry = json.loads(path.read_text())
    entry["response"]["body"] = body
    path.write_text(json.dumps(entry))
    with (
        apirec.recording(store_dir, mode="replay", remote=s3_server.remote_url),
        pytest.raises(StoreError, match="malformed"),
    ):
        fetch_document("manual")


# -- the network guard ------------------------------------------------------------------------


def test_the_guard_lets_the_remotes_host_through_and_nothing_else(
    store_dir, own_address, monkeypatch, tmp_path
):
    """moto listens on every address and is reached at this machine's own non-loopback
    address: to the guard, a remote host. obstore's requests do not pass Python's sockets,
    so the guard is shown the remote's host by a Python connection to it."""
    server = S3Server(listen="0.0.0.0", host=own_address).start()
    try:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
        with apirec.recording(store_dir, mode="record", remote=server.remote_url):
            audio = speak("hello")
        monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh"))
        with apirec.recording(store_dir, mode="replay", remote=server.remote_url):
            assert speak("hello") == audio  # fetched from the remote under the guard
            with socket.create_connection((own_address, server.port), timeout=5):
                pass  # the remote's host is allowed
        with (
            apirec.recording(store_dir, mode="replay"),
            pytest.raises(apirec.NetworkBlocked),
        ):
            socket.create_connection((own_address, server.port), timeout=5)
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.port}")
        with (
            apirec.recording(store_dir, mode="replay", remote=server.remote_url),
            pytest.raises(apirec.NetworkBlocked),
        ):
            socket.create_connection((own_address, server.port), timeout=5)
    finally:
        server.stop()


def test_no_client_library_is_imported_without_a_remote(tmp_path):
    code = (
        "import sys, apirec\n"
        "@apirec.record(name='f')\n"
        "def f(): return b'x' * 100_000\n"
        f"with apirec.recording({str(tmp_path)!r}, mode='record'): f()\n"
        f"with apirec.recording({str(tmp_path)!r}, mode='replay'): f()\n"
        "print('obstore' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "APIREC_REMOTE"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"


# -- apirec show ------------------------------------------------------------------------------


def _show(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "apirec", "show", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_show_fetches_a_body_kept_remotely(s3_server, store_dir, tmp_path):
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        fetch_document("manual")
    (path,) = store_dir.glob("*.json")
    bare = {k: v for k, v in os.environ.items() if k != "APIREC_REMOTE"}
    empty = {**bare, "APIREC_CACHE_DIR": str(tmp_path / "empty")}  # not cached, no remote
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "show", str(path)],
        capture_output=True, text=True, env=empty, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no remote store is set" in done.stdout and "give --remote URL" in done.stdout
    assert "page 399 of manual" not in done.stdout
    for how in (["--remote", s3_server.remote_url], []):
        env = {} if how else {"APIREC_REMOTE": s3_server.remote_url}
        done = _show(str(path), *how, env={**env, "APIREC_CACHE_DIR": str(tmp_path / "c")})
        assert done.returncode == 0, done.stderr
        assert "page 399 of manual" in done.stdout and "note:" not in done.stdout
    (tmp_path / "pytest.ini").write_text(f"[pytest]\napirec_remote = {s3_server.remote_url}\n")
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "show", str(path)],
        capture_output=True, text=True, env=bare, timeout=60,
    )  # fmt: skip
    assert "page 399 of manual" in done.stdout, done.stdout + done.stderr


def test_show_says_why_a_remote_body_cannot_be_shown(s3_server, store_dir, tmp_path):
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        fetch_document("manual")
    (path,) = store_dir.glob("*.json")
    s3_server.delete_object(_digest_in(store_dir))
    done = _show(
        str(path), "--remote", s3_server.remote_url, env={"APIREC_CACHE_DIR": str(tmp_path / "c")}
    )
    assert done.returncode == 0, done.stderr
    assert "which is missing from the remote" in done.stdout


# -- several processes at once (pytest-xdist workers, parallel CI jobs) -----------------------


def _record_and_replay(store_dir: str, remote: str, texts: list[str], barrier) -> None:
    barrier.wait()
    with apirec.recording(store_dir, mode="record-if-missing", remote=remote):
        first = [speak(t) for t in texts]
    with apirec.recording(store_dir, mode="replay", remote=remote):
        assert [speak(t) for t in texts] == first


def test_processes_record_and_replay_through_one_remote_and_one_cache(s3_server, store_dir):
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    texts = [f"text {i}" for i in range(6)]
    workers = [
        context.Process(
            target=_record_and_replay,
            args=(str(store_dir), s3_server.remote_url, texts[i:] + texts[:i], barrier),
        )
        for i in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    assert len(s3_server.object_names()) == 6  # each payload once, whoever uploaded it
    with (
        apirec.test_context(None),  # the workers' calls belong to no test
        apirec.recording(store_dir, mode="replay", remote=s3_server.remote_url) as rec,
    ):
        for t in texts:
            assert speak(t) == _payload(100 * KIB, t.encode())
    assert rec.stats.replayed == 6


def test_an_http_endpoint_url_allows_http_without_aws_allow_http(s3_server, store_dir, monkeypatch):
    # a user's MinIO: AWS_ENDPOINT_URL=http://..., and no AWS_ALLOW_HTTP (no doc asks for it)
    monkeypatch.delenv("AWS_ALLOW_HTTP")
    with apirec.recording(store_dir, mode="record", remote=s3_server.remote_url):
        audio = speak("hello")
    assert s3_server.object_names() == [hashlib.sha256(audio).hexdigest()]


def test_http_refused_by_aws_allow_http_false_is_explained(s3_server, store_dir, monkeypatch):
    monkeypatch.setenv("AWS_ALLOW_HTTP", "false")
    with (
        apirec.recording(store_dir, mode="record", remote=s3_server.remote_url),
        pytest.raises(StoreError) as info,
    ):
        speak("hello")
    message = str(info.value)
    assert "AWS_ALLOW_HTTP=true" in message and "http://" in message, message


def test_an_unreadable_object_names_its_url_once(s3_server, store_dir, tmp_path, monkeypatch):
    remote = s3_server.remote_url
    with apirec.recording(store_dir, mode="record", remote=remote):
        speak("hello")
    digest = _digest_in(store_dir)
    s3_server.stop()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh"))
    with (
        apirec.recording(
            store_dir, mode="replay", remote=remote, remote_options={"max_retries": "0"}
        ),
        pytest.raises(StoreError, match="cannot be read") as info,
    ):
        speak("hello")
    message = str(info.value)
    assert message.count(f"{remote}/{digest}") == 1, message
