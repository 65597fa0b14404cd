"""The hosts a remote store's requests go to, for a replay's network guard (issue 22).

A replay with a remote lets the remote's own hosts through ``allow_hosts`` and nothing else:
for S3 only S3's names (``s3.amazonaws.com``, ``<bucket>.s3.<region>.amazonaws.com``...),
never ``*.amazonaws.com``, which would let Bedrock, AWS's LLM API, go live. obstore's own
requests are made in Rust and never pass Python's sockets, so these names matter only to
Python code that reaches the same storage; narrow names cost nothing. Pure: nothing is
imported or requested.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

__all__ = [
    "ENV_PREFIXES",
    "configured_endpoint",
    "is_loopback",
    "remote_endpoints",
    "remote_hosts",
]

# the environment variables each scheme's client reads (as obstore reads them)
ENV_PREFIXES = {
    "s3": "AWS_",
    "s3a": "AWS_",
    "gs": "GOOGLE_",
    "az": "AZURE_",
    "adl": "AZURE_",
    "azure": "AZURE_",
    "abfs": "AZURE_",
    "abfss": "AZURE_",
}
S3_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")
_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
_AZURE_ACCOUNT_VARIABLES = ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT")
_READ_ONLY = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def remote_hosts(url: str, options: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every host the remote at ``url`` may send requests to (none for ``file://``): its
    configured endpoint's host when one is given (in ``options``, or for S3 in
    ``AWS_ENDPOINT_URL`` and its aliases), else the storage service's own names only."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return ()
    if scheme in _READ_ONLY:
        return (parts.hostname,) if parts.hostname else ()
    given = {k.lower(): v for k, v in (options or {}).items()}
    prefix = ENV_PREFIXES.get(scheme)
    endpoint = configured_endpoint(scheme, options)
    if endpoint is not None:
        return (urlsplit(endpoint).hostname or "",)
    if prefix == "AWS_":
        return _s3_hosts(parts.hostname, _setting(given, ("region",), _REGION_VARIABLES))
    if prefix == "GOOGLE_":
        return ("storage.googleapis.com",)
    if prefix == "AZURE_":
        return _azure_hosts(parts, _setting(given, ("account",), _AZURE_ACCOUNT_VARIABLES))
    return (parts.hostname,) if parts.hostname else ()


def remote_endpoints(
    url: str, options: Mapping[str, str] | None = None
) -> tuple[tuple[str, int], ...]:
    """The ``(host, port)`` the remote at ``url`` sends its requests to when one server is
    named (an ``http(s)://`` remote, a configured endpoint); none for a storage service's
    own names or ``file://``."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in _READ_ONLY:
        return _endpoint(url)
    return _endpoint(configured_endpoint(scheme, options) or "")


def _endpoint(url: str) -> tuple[tuple[str, int], ...]:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return ()
    if not parts.hostname or port is None:
        return ()
    return ((parts.hostname, port),)


def configured_endpoint(scheme: str, options: Mapping[str, str] | None) -> str | None:
    """The endpoint URL configured for a remote of ``scheme``: in ``options``, or for S3 in
    ``AWS_ENDPOINT_URL`` and its aliases, as obstore reads them; None if none is."""
    found = [v for k, v in (options or {}).items() if "endpoint" in k.lower()]
    if ENV_PREFIXES.get(scheme) == "AWS_":
        found += [os.environ.get(k, "") for k in S3_ENDPOINT_VARIABLES]
    return next((v for v in found if "://" in v and urlsplit(v).hostname), None)


def _setting(given: Mapping[str, str], words: tuple[str, ...], variables: tuple[str, ...]) -> str:
    """An option whose key has one of ``words`` (``aws_region``, ``region``...), else the
    first set environment variable of ``variables``; "" when neither is set."""
    for key, value in given.items():
        if any(word in key for word in words) and value:
            return value.strip().lower()
    return next((os.environ[v].strip().lower() for v in variables if os.environ.get(v)), "")


def _s3_hosts(bucket: str | None, region: str) -> tuple[str, ...]:
    """S3's names, path-style and virtual-hosted, global and (when known) regional."""
    domains = ["s3.amazonaws.com"]
    if region:
        domains += [f"s3.{region}.amazonaws.com", f"s3-{region}.amazonaws.com"]
    hosts = list(domains)
    if bucket:
        hosts += [f"{bucket.lower()}.{domain}" for domain in domains]
    return tuple(hosts)


def _azure_hosts(parts: SplitResult, account: str) -> tuple[str, ...]:
    """The storage account's blob (and data lake) hosts; any account's when none is known
    (``*.blob.core.windows.net`` is storage only: Azure's LLM APIs live elsewhere)."""
    host = parts.hostname or ""
    if host.endswith(".core.windows.net"):  # abfss://container@account.dfs.core.windows.net
        return (host,)
    if account:
        return (f"{account}.blob.core.windows.net", f"{account}.dfs.core.windows.net")
    return ("*.blob.core.windows.net", "*.dfs.core.windows.net")


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address."""
    import ipaddress

    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
