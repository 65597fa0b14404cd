"""Messages for a replay miss: what was asked, where it was looked for, how to record it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .codec import encode
from .errors import RecordingNotFound


def pretty(arguments: Mapping[str, Any]) -> str:
    return json.dumps(encode(dict(arguments)), indent=2, sort_keys=True, default=repr)


def recording_not_found(
    *,
    function: str,
    key: str,
    arguments: Mapping[str, Any],
    location: str,
    test_id: str | None,
) -> RecordingNotFound:
    lines = [
        f"No recording of {function}() for this call (mode 'replay').",
        f"  key:       {key}",
        f"  test:      {test_id or '(none: outside any test context)'}",
        f"  store:     {location}",
        "  arguments:",
        *("    " + line for line in pretty(arguments).splitlines()),
        "To record it, run once with APIREC_MODE=record-if-missing (or mode='record-if-missing').",
    ]
    return RecordingNotFound(
        "\n".join(lines),
        function=function,
        key=key,
        arguments=arguments,
        location=location,
        test_id=test_id,
    )
