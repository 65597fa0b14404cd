"""How a remote store's URLs and its client's errors are shown in messages (issue 22).

Credentials never reach a message: ``user:password@`` is left out of a URL, and so is its
query string and fragment (a SAS token, ``?sig=``, ``X-Amz-Security-Token=``: whatever the
parameter's name), marked ``?...``; the client's own errors, which repeat URLs, get the same
treatment. Pure: nothing is imported or requested.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["reason", "shown_url"]


def shown_url(url: str) -> str:
    """``url`` as messages show it: without ``user:password@``, and without its query string
    and fragment (a SAS token, ``?sig=``, ``X-Amz-Security-Token=``: credentials a CI log
    would keep), marked ``?...``; an object's URL is this plus ``/<digest>``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _URL_QUERY.sub(r"\1?...", _URL_CREDENTIALS.sub(r"\1", url))
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        netloc = parts.hostname or ""
        if port is not None:
            netloc += f":{port}"
    hidden = "?..." if parts.query or parts.fragment else ""
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment="")) + hidden


# "user:password@" in a URL: an endpoint's credentials (AWS_ENDPOINT_URL) that obstore's
# messages repeat and CI logs would keep; and a URL's query string (signatures, tokens)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_URL_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")


def reason(e: BaseException) -> str:
    """The first line of a client error (obstore appends pages of debug detail), with any
    credentials in the URLs it names left out."""
    text = str(e).strip().split("\n", 1)[0] or type(e).__name__
    text = _URL_QUERY.sub(r"\1?...", _URL_CREDENTIALS.sub(r"\1", text))
    text = text if len(text) <= 300 else text[:297] + "..."
    if "builder error" in text:  # obstore's words, in practice, for http:// refused
        text += " (the endpoint is http:// and plain http is not allowed: set "
        text += "AWS_ALLOW_HTTP=true, or remote_options allow_http='true', or use https://)"
    return text
