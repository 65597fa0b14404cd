"""Review of issue 22 (point 1): credentials are configured "as the storage's own tools
configure them ... none of it is ever stored". apirec refuses ``user:password@`` in the
remote URL so as never to show it; the same credentials in the endpoint the AWS variables
give (a MinIO behind basic auth) are shown in every StoreError, printed in CI logs."""

from __future__ import annotations

import pytest

import apirec
from apirec.errors import StoreError


@apirec.record(name="tts.speak")
def speak(text):
    return b"x" * (100 * 1024)


def test_an_endpoints_password_is_never_shown(store_dir, tmp_path, monkeypatch):
    remote = (tmp_path / "objects").as_uri()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    with apirec.recording(store_dir, mode="record", remote=remote):
        speak("hello")
    for name, value in {
        "AWS_ENDPOINT_URL": "http://minio:s3cr3t-Pa55@127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh"))
    with (
        apirec.recording(store_dir, mode="replay", remote="s3://bucket/objects"),
        pytest.raises(StoreError) as info,
    ):
        speak("hello")
    assert "127.0.0.1:9" in str(info.value) or "s3://bucket/objects" in str(info.value)
    assert "s3cr3t-Pa55" not in str(info.value)
