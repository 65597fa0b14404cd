"""Review of issue 22 (point 6): a replay with an s3:// remote lets "the remote's host"
through the network guard "and nothing else". With no endpoint configured, apirec allows
every ``*.amazonaws.com`` name, which includes AWS's LLM API (Bedrock): a replay of a
Bedrock-using suite with a remote set would let a live LLM call out."""

from __future__ import annotations

import _socket
import socket

import pytest

import apirec

AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT")


class Resolved(Exception):
    """The guard let a lookup through (raised by the fake resolver: nothing leaves)."""


def _no_dns(monkeypatch):
    def resolve(host, *args, **kwargs):
        raise Resolved(host)

    # below the guard's wrapper of socket.getaddrinfo: no lookup ever leaves the machine
    monkeypatch.setattr(_socket, "getaddrinfo", resolve)


@pytest.mark.parametrize(
    "host",
    ["bedrock-runtime.us-east-1.amazonaws.com", "sts.amazonaws.com", "sqs.us-east-1.amazonaws.com"],
)
def test_an_s3_remote_lets_only_s3_through_the_guard(store_dir, tmp_path, monkeypatch, host):
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    _no_dns(monkeypatch)
    with (
        apirec.recording(store_dir, mode="replay", remote="s3://my-bucket/objects"),
        pytest.raises(apirec.NetworkBlocked),
    ):
        socket.getaddrinfo(host, 443)


def test_without_a_remote_the_same_host_is_blocked(store_dir, monkeypatch):
    """The control: the fake resolver is below the guard, which blocks first."""
    _no_dns(monkeypatch)
    with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.NetworkBlocked):
        socket.getaddrinfo("bedrock-runtime.us-east-1.amazonaws.com", 443)


@pytest.mark.parametrize("host", ["my-bucket.s3.amazonaws.com", "s3.eu-west-1.amazonaws.com"])
def test_an_s3_remote_lets_its_s3_names_through(store_dir, tmp_path, monkeypatch, host):
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    _no_dns(monkeypatch)
    with (
        apirec.recording(store_dir, mode="replay", remote="s3://my-bucket/objects"),
        pytest.raises(Resolved),
    ):
        socket.getaddrinfo(host, 443)
