"""Recordings with large payloads, for the remote store's commands (apirec push, pull, gc).

``python speech.py DIR TEXT...`` records one answer of ``speak`` per text into DIR (those
already there are kept): 100,000 bytes of audio each, over the 64 KiB that a payload is kept
apart from its recording, so each goes to ``DIR/blobs/`` (or, with ``APIREC_REMOTE`` set, to
the remote store). With no arguments it records "hello" into tests/recordings, then replays it
offline.
"""

from __future__ import annotations

import hashlib
import sys

import apirec


@apirec.record(name="tts.speak")
def speak(text: str) -> bytes:
    """Stands for a text-to-speech API: 100,000 bytes of audio per text, the same each time."""
    return hashlib.sha256(text.encode()).digest() * 3125


def record(directory: str, texts: list[str]) -> None:
    with apirec.recording(directory, mode="record-if-missing"):
        for text in texts:
            speak(text)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        record(sys.argv[1], sys.argv[2:])
    else:
        record("tests/recordings", ["hello"])
        with apirec.recording("tests/recordings", mode="replay"):
            assert speak("hello") == hashlib.sha256(b"hello").digest() * 3125
