"""The one rule for names that hold secrets, for requests and responses alike.

A name is compared lower case with ``-`` read as ``_`` (``X-Api-Key`` is ``x_api_key``) and
camelCase read as snake_case (``accessToken`` is ``access_token``, ``X-RapidAPI-Key`` is
``x_rapid_api_key``, ``AWSSecretAccessKey`` is ``aws_secret_access_key``).
Deliberately exact where it can be: ``max_tokens`` and ``page_token`` are not secrets. Some
names are secrets only inside a container of a kind (its *context*): in headers
(``headers``, ``extra_headers``...), what identifies an account too (cookies, organisation
and project ids); in query parameters (``query``, ``extra_query``, ``params`` and a URL's
query), Google's ``key`` and signatures. The key side (:mod:`apirec.keys.canonical`), the
write gate and ``apirec scan`` all ask this module.
"""

from __future__ import annotations

import functools
import re

HEADERS = "headers"
QUERY = "query"

# Credentials wherever they appear.
SECRET_NAMES = frozenset(
    {
        "api_key", "apikey", "x_api_key", "api_token", "access_token", "refresh_token",
        "id_token", "auth_token", "bearer_token", "session_token", "token", "authorization",
        "proxy_authorization", "auth", "password", "passwd", "secret", "client_secret",
        "secret_key", "private_key", "cookie", "set_cookie", "credentials", "x_goog_api_key",
        "ocp_apim_subscription_key", "access_key_secret", "secret_access_key",
        "private_token", "vault_token", "subscription_token", "subscription_key", "auth_key",
        "oauth_token",
    }
)  # fmt: skip
SECRET_SUFFIXES = (
    "_api_key", "_apikey", "_api_token", "_access_token", "_auth_token", "_refresh_token",
    "_id_token", "_session_token", "_security_token", "_bearer_token", "_secret", "_secret_key",
    "_private_key", "_password", "_passwd", "_auth", "_credentials", "_secret_access_key",
    "_private_token", "_vault_token", "_subscription_token", "_subscription_key", "_auth_key",
)  # fmt: skip
# any name holding these words: cf-aig-authorization, x-authorization, x-amz-security-token
SECRET_WORDS = ("authorization", "authorisation", "password", "cookie")

# A name made of a secret word and one of these says something *about* the secret (where to
# send it, its rules, whether one is needed), not the secret: ``authorization_endpoint``,
# ``password_policy``, ``api_key_required``, ``two_factor_auth``.
NOT_SECRET_SUFFIXES = (
    "_endpoint", "_policy", "_url", "_uri", "_type", "_method", "_methods", "_required",
    "_enabled", "_length", "_min_length", "_max_length", "_expires_in", "_expires_at",
    "_hint", "_mode", "_scheme", "_status", "_supported", "factor_auth",
)  # fmt: skip

# Inside headers, also what names an account (OpenAI-Organization, OpenAI-Project).
HEADER_WORDS = ("organization", "organisation", "project")
# Inside headers, a name ending in ``_token`` is a credential too (X-Auth-Token, X-CSRF-Token):
# headers carry no pagination or model parameters (``max_tokens``, ``page_token``).
HEADER_SUFFIXES = ("_token",)
# Inside query parameters, also Google's ``key=`` and signed URLs' signatures.
QUERY_NAMES = frozenset({"key", "sig", "signature", "x_amz_credential"})
QUERY_SUFFIXES = ("_signature",)

# Containers whose entries are headers or query parameters, by their own (normalised) name.
QUERY_CONTAINERS = frozenset(
    {"query", "extra_query", "default_query", "params", "query_params", "querystring"}
)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@functools.lru_cache(maxsize=8192)
def norm(name: str) -> str:
    return _CAMEL.sub("_", name).lower().replace("-", "_")


@functools.lru_cache(maxsize=4096)
def _secret(low: str, context: str | None) -> bool:
    if low.endswith(NOT_SECRET_SUFFIXES):
        return False
    if low in SECRET_NAMES or low.endswith(SECRET_SUFFIXES):
        return True
    if any(word in low for word in SECRET_WORDS):
        return True
    if context == HEADERS:
        return any(word in low for word in HEADER_WORDS) or low.endswith(HEADER_SUFFIXES)
    if context == QUERY:
        return low in QUERY_NAMES or low.endswith(QUERY_SUFFIXES)
    return False


def is_secret_name(name: str, context: str | None = None) -> bool:
    """Whether the value under ``name`` (in a container of ``context``) is a secret; for
    the names of :data:`AMBIGUOUS`, also ask :func:`is_secret_value`."""
    return _secret(norm(name), context)


# Names that are credentials in requests but also name ordinary text: a ``token`` of a
# tokenizer or of OpenAI's logprobs is a piece of a word. Under these, a value is a secret
# when it looks like a credential: 16 characters or more, no space, letters and digits or
# words joined by ``-_.``..., not one plain word (or, in a list or dict, any value inside
# does). So is a query's ``key`` (Google's API key;
# an object store's key is a path).
AMBIGUOUS = frozenset({"token", "key"})


_JOINS = frozenset("-_.~+/=")


def _credential_like(value: object, slash: bool = True) -> bool:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        if len(value) < 16 or any(c.isspace() for c in value) or (not slash and "/" in value):
            return False
        letters = any(c.isalpha() for c in value)
        digits = any(c.isdigit() for c in value)
        # letters and digits, or words joined (``tok-model-field-secret``): not one word
        return (letters and digits) or ((letters or digits) and any(c in _JOINS for c in value))
    if isinstance(value, list | tuple):
        return any(_credential_like(v, slash) for v in value)
    if isinstance(value, dict):
        return any(_credential_like(v, slash) for v in value.values())
    return False


def is_secret_value(name: str, value: object) -> bool:
    """Whether ``value``, under a secret ``name``, is to be replaced (a query's ``key`` only
    when it has no ``/``: an object's path is no API key)."""
    low = name.lower()
    if low not in AMBIGUOUS:
        return True
    return _credential_like(value, slash=low != "key")


@functools.lru_cache(maxsize=4096)
def context_of(name: str) -> str | None:
    """What the entries of a container named ``name`` are: headers, query parameters, or
    None (plain data)."""
    low = norm(name)
    if low.endswith("headers"):
        return HEADERS
    if low in QUERY_CONTAINERS:
        return QUERY
    return None
