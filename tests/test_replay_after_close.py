"""A stream a recording handed out is still read after the recording closed (a closed
recording is freed at once: tests/test_replay_cycles_outside_plugin.py)."""

from __future__ import annotations

from collections.abc import Iterator

from openai.types.chat import ChatCompletionChunk

import apirec
from tests.test_streams import chunk


@apirec.record
def words(n: int) -> Iterator[ChatCompletionChunk]:
    return iter([chunk(i) for i in range(n)])


def read_all(stream: object) -> list[str]:
    return [c.choices[0].delta.content for c in stream]  # type: ignore[attr-defined]


def test_a_stream_read_after_its_recording_closed_still_replays(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        assert len(read_all(words(3))) == 3
    with apirec.recording(tmp_path, mode="replay"):
        stream = words(3)
    assert read_all(stream) == ["w0", "w1", "w2"]
