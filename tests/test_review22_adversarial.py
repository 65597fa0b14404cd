"""Adversarial review of issue 22 (the remote store): what a re-used object, a loopback
remote, the CLI's settings, an altered object, a rekey, a relative file URL and a URL's
credentials did wrong, each through the public API on real objects."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

import apirec
from tests.test_cli_remote import cli

AUDIO = (hashlib.sha256(b"same audio").digest() * 4000)[:100_000]


@apirec.record(name="tts.speak")
def speak(text: str) -> bytes:
    return AUDIO


def test_an_object_a_fresh_recording_reuses_is_kept_by_gc_min_age(tmp_path, monkeypatch):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("APIREC_REMOTE", raising=False)
    remote = f"file://{tmp_path / 'remote'}"
    with apirec.recording(tmp_path / "old", mode="record", remote=remote):
        speak("hello")
    (obj,) = list((tmp_path / "remote").iterdir())
    long_ago = time.time() - 7200  # uploaded two hours ago
    os.utime(obj, (long_ago, long_ago))
    with apirec.recording(tmp_path / "branch", mode="record", remote=remote):
        speak("hi there")  # a new recording whose payload is the same object
    (tmp_path / "main").mkdir()  # a checkout that no longer refers to it: its routine gc
    gc = cli("gc", remote, str(tmp_path / "main"), cache=tmp_path / "gc-cache")
    assert gc.returncode == 0, gc.stdout + gc.stderr
    shutil.rmtree(tmp_path / "cache")
    with apirec.recording(tmp_path / "branch", mode="replay", remote=remote):
        assert speak("hi there") == AUDIO


@pytest.fixture
def ollama_server():
    from tests.ollama_server import OllamaServer

    server = OllamaServer().start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "endpoint", [None, "http://localhost:9000", "http://127.0.0.1:9000", "http://[::1]:9000"]
)
def test_a_loopback_remote_does_not_let_a_replay_reach_the_recorded_model_server(
    tmp_path, monkeypatch, ollama_server, endpoint
):
    import httpx
    import ollama

    from apirec import integrations

    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("APIREC_REMOTE", raising=False)
    if endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # MinIO on loopback (never reached)
    remote = "s3://bucket/apirec" if endpoint else f"file://{tmp_path / 'remote'}"
    said = [{"role": "user", "content": "llamas eat grass"}]
    client = ollama.Client(host=ollama_server.url)
    with apirec.recording(tmp_path / "recs", mode="record", remote=remote) as rec:
        integrations.patch(rec, "ollama")
        client.chat(model="llama3", messages=said)
    client._client.close()
    client = ollama.Client(host=ollama_server.url)
    try:
        with apirec.recording(tmp_path / "recs", mode="replay", remote=remote) as rec:
            integrations.patch(rec, "ollama")
            client.chat(model="llama3", messages=said)  # replayed
            with pytest.raises(httpx.ConnectError):
                client._client.post("/api/chat", json={"model": "llama3", "messages": said})
    finally:
        client._client.close()


def test_a_loopback_remote_is_let_through_on_its_own_port():
    from apirec.guard.hosts import HostRules

    rules = HostRules.parse((), [("localhost", 9000)])
    assert rules.lists("127.0.0.1", 9000) and rules.lists("::1", 9000)
    assert rules.lists("localhost", "9000")
    assert not rules.lists("127.0.0.1", 11434) and not rules.lists("127.0.0.2", 9000)


CONFIG_FILES = {  # each kind of file pytest 9 reads its configuration from, with the remote
    "pytest.ini": "[pytest]\napirec_remote = {url}\n",
    ".pytest.ini": "[pytest]\napirec_remote = {url}\n",
    "pytest.toml": '[pytest]\napirec_remote = "{url}"\n',
    ".pytest.toml": '[pytest]\napirec_remote = "{url}"\n',
    "pyproject.toml": '[tool.pytest]\napirec_remote = "{url}"\n',
    "tox.ini": "[pytest]\napirec_remote = {url}\n",
    "setup.cfg": "[tool:pytest]\napirec_remote = {url}\n",
    "addopts": "[pytest]\naddopts = -q --apirec-remote={url}\n",
    "addopts-toml": '[pytest]\naddopts = ["-q", "--apirec-remote", "{url}"]\n',
}


@pytest.mark.parametrize("kind", CONFIG_FILES)
def test_the_cli_reads_the_remote_from_every_pytest_configuration_file(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("APIREC_REMOTE", raising=False)
    url = f"file://{tmp_path / 'ini-remote'}"
    project = tmp_path / "project"
    with apirec.recording(project / "tests" / "recordings", mode="record", remote=url):
        speak("hello")
    name = {"addopts": "pytest.ini", "addopts-toml": "pytest.toml"}.get(kind, kind)
    (project / name).write_text(CONFIG_FILES[kind].format(url=url))
    elsewhere = f"file://{tmp_path / 'env-remote'}"
    pulled = cli(
        "pull", "tests/recordings", cache=tmp_path / "empty", cwd=project, APIREC_REMOTE=elsewhere
    )
    assert pulled.returncode == 0 and f"from {url} into" in pulled.stdout, pulled


def _replay_cold(tmp_path: Path, remote: str) -> str | None:
    """The error of replaying ``speak("a")`` from an empty cache, None when it replays."""
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
    try:
        with apirec.recording(tmp_path / "recs", mode="replay", remote=remote):
            assert speak("a") == AUDIO
    except apirec.StoreError as e:
        return str(e)
    return None


def test_recording_again_replaces_an_object_of_another_size(tmp_path, monkeypatch):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    remote = f"file://{tmp_path / 'remote'}"
    with apirec.recording(tmp_path / "recs", mode="record", remote=remote):
        speak("a")
    (obj,) = (tmp_path / "remote").iterdir()
    obj.write_bytes(obj.read_bytes()[:50_000])  # cut short
    assert "altered" in (_replay_cold(tmp_path, remote) or "")
    with apirec.recording(tmp_path / "recs", mode="record", remote=remote):
        speak("a")
    assert _replay_cold(tmp_path, remote) is None


def test_the_advice_for_an_altered_object_of_the_same_size_works(tmp_path, monkeypatch):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    remote = f"file://{tmp_path / 'remote'}"
    with apirec.recording(tmp_path / "recs", mode="record", remote=remote):
        speak("a")
    (obj,) = (tmp_path / "remote").iterdir()
    data = bytearray(obj.read_bytes())
    data[1000] ^= 0xFF  # bit rot: a HEAD cannot tell
    obj.write_bytes(bytes(data))
    error = _replay_cold(tmp_path, remote) or ""
    assert "apirec push --check DIR" in error and "recording the answer again" in error, error
    with apirec.recording(tmp_path / "recs", mode="record", remote=remote):
        speak("a")  # the right copy, into the cache
    pushed = cli(
        "push", str(tmp_path / "recs"), "--check", "--remote", remote, cache=tmp_path / "cache"
    )
    assert pushed.returncode == 0 and "1 replaced" in pushed.stdout, pushed
    assert _replay_cold(tmp_path, remote) is None


RENAMED_TEST = """
import hashlib
import apirec

@apirec.record(name="tts.speak")
def speak(text):
    return (hashlib.sha256(text.encode()).digest() * 4000)[:100_000]

def {name}(apirec):
    assert len(speak("a")) == 100_000
"""


def test_rekey_against_a_read_only_remote_moves_without_uploading(pytester, s3_server, monkeypatch):
    from .plugin_helpers import setup

    setup(pytester)
    pytester.makepyfile(test_tts=RENAMED_TEST.format(name="test_old_name"))
    recorded = pytester.runpytest("--apirec-mode=record", f"--apirec-remote={s3_server.remote_url}")
    recorded.assert_outcomes(passed=1)
    pytester.makepyfile(test_tts=RENAMED_TEST.format(name="test_new_name"))
    # a fork's pull request: the public, read-only copy, and a cache of its own
    monkeypatch.setenv("APIREC_CACHE_DIR", str(pytester.path / "fork-cache"))
    rekeyed = pytester.runpytest("--apirec-rekey", f"--apirec-remote={s3_server.http_url}")
    rekeyed.assert_outcomes(passed=1)
    rekeyed.stdout.fnmatch_lines(["*moved the recordings of 1 renamed test*"])
    replayed = pytester.runpytest("--apirec-mode=replay", f"--apirec-remote={s3_server.http_url}")
    replayed.assert_outcomes(passed=1)


@pytest.mark.parametrize("url", ["file://./objects", "file://objects/sub", "file:objects"])
def test_a_relative_file_remote_is_refused(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    refused = pytest.raises(apirec.InvalidStore, match="needs an absolute directory")
    with refused, apirec.recording(tmp_path / "recs", mode="record", remote=url):
        speak("a")


def test_a_file_remote_on_localhost_is_its_absolute_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    with apirec.recording(tmp_path / "recs", mode="record", remote=f"file://localhost{tmp_path}/o"):
        speak("a")
    assert len(list((tmp_path / "o").iterdir())) == 1


@pytest.mark.parametrize(
    ("remote", "endpoint"),
    [
        ("http://127.0.0.1:1/objects?sv=2024&sig=SECRET-SAS-TOKEN", None),
        ("s3://bucket/prefix", "http://127.0.0.1:1/?X-Amz-Security-Token=SECRET-SESSION"),
    ],
)
def test_a_token_in_a_remote_or_endpoint_url_is_not_printed(
    tmp_path, monkeypatch, remote, endpoint
):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    with apirec.recording(tmp_path / "recs", mode="record", remote=f"file://{tmp_path}/o"):
        speak("a")
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_REGION": "us-east-1"}
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    pulled = cli("pull", str(tmp_path / "recs"), "--remote", remote, cache=tmp_path / "c", **env)
    said = pulled.stdout + pulled.stderr
    assert pulled.returncode == 1 and "SECRET" not in said, said
    digest = hashlib.sha256(AUDIO).hexdigest()
    assert f"refers to {remote.partition('?')[0].rstrip('/')}/{digest}: cannot be read" in said


def test_a_token_in_a_refused_remote_url_is_not_printed():
    with pytest.raises(apirec.InvalidStore) as refused:
        apirec.recording("recs", remote="ftp://host/objects?token=SECRET")
    assert "SECRET" not in str(refused.value) and "ftp://host/objects?..." in str(refused.value)


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [("http://10.0.0.5:9000", "10.0.0.5"), ("https://minio.example.internal:9000", None)],
)
def test_a_remote_endpoint_is_let_through_on_its_own_port_only(
    tmp_path, monkeypatch, endpoint, host
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    with apirec.recording(tmp_path / "recs", mode="replay", remote="s3://bucket/p") as rec:
        rules = rec.settings.host_rules
        if host is not None:
            assert rules.allows(host, 9000) and not rules.allows(host, 11434)
        else:
            assert rules.ports_of("minio.example.internal") == {9000}
            assert not rules.allows("minio.example.internal", 11434)
