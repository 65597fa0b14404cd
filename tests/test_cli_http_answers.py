"""``apirec ls``, ``show`` and ``diff`` on the recordings of the generic httpx fallback
(``integrations.patch(rec, "httpx")``): a head and the body's bytes, stored as a stream
whatever the body. ``show`` and ``diff`` used to crash on them (``'str' object has no
attribute 'get'``) and ``ls`` listed a plain JSON answer as STREAMED."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import apirec
from apirec import integrations
from apirec.cli.app import main
from apirec.cli.common import table
from tests.httpx_server import Weather, WeatherServer


@pytest.fixture
def recorded(store_dir):
    server = WeatherServer().start()
    try:
        with apirec.recording(store_dir, mode="record") as rec:
            integrations.patch(rec, "httpx")
            client = Weather(server.url)
            client.forecast("Paris")
            client.forecast("Lima", days=3)
            list(client.stream("Oslo"))
            client.close()
    finally:
        server.stop()
    return store_dir


def _rows(capsys, store_dir):
    assert main(["ls", str(store_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    return lines[0], lines[1:-1]


def _key_of(capsys, store_dir, city):
    assert main(["ls", str(store_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        entry = json.loads(Path(row["path"]).read_text())
        if entry["request"]["args"]["body"]["city"] == city:
            return row
    raise AssertionError(city)


def test_ls_marks_only_the_event_stream_as_streamed(recorded, capsys):
    header, rows = _rows(capsys, recorded)
    at = header.index("STREAMED")
    streamed = [row[at : at + 8].strip() for row in rows]
    assert sorted(streamed) == ["", "", "yes"], rows
    assert _key_of(capsys, recorded, "Oslo")["streamed"] is True
    assert _key_of(capsys, recorded, "Paris")["streamed"] is False


def test_show_reads_a_json_answer_as_json(recorded, capsys):
    key = _key_of(capsys, recorded, "Paris")["key"]
    assert main(["show", key[:12], "--dir", str(recorded)]) == 0
    out = capsys.readouterr().out
    assert "status:    200" in out
    assert "header:    content-type: application/json" in out
    assert '"city": "Paris"' in out and '"days": [' in out  # the body, parsed and indented
    assert "stream:" not in out


def test_show_reads_an_event_stream_as_its_lines(recorded, capsys):
    key = _key_of(capsys, recorded, "Oslo")["key"]
    assert main(["show", key[:12], "--dir", str(recorded)]) == 0
    out = capsys.readouterr().out
    assert "content-type: text/event-stream" in out
    assert '  data: {"day": 0, "city": "Oslo", "sky": "cloudy"}' in out
    assert "  data: [DONE]" in out


def test_diff_of_two_answers_shows_their_bodies(recorded, capsys):
    a = _key_of(capsys, recorded, "Paris")["key"]
    b = _key_of(capsys, recorded, "Lima")["key"]
    assert main(["diff", a[:12], b[:12], "--dir", str(recorded)]) == 1
    out = capsys.readouterr().out
    assert '-      "city": "Paris",' in out and '+      "city": "Lima",' in out


def test_ls_right_aligns_the_took_column_under_its_header(recorded, capsys):
    header, rows = _rows(capsys, recorded)
    end = header.index("TOOK") + len("TOOK")
    for row in rows:
        assert row[end - 1] == "s" and row[end - 5 : end - 1].replace(".", "").isdigit(), (
            header,
            row,
        )


def test_a_number_column_with_blank_cells_stays_right_aligned():
    out = io.StringIO()
    rows = [["a", "", "812"], ["b", "1,234", ""], ["c", "7", "45.3k"]]
    table(rows, ["X", "N", "TOKENS"], out, right=(2,))
    header, *lines = out.getvalue().splitlines()
    n_end, tokens_end = header.index("N") + 1, len(header)
    assert lines[1][:n_end].endswith("1,234") and lines[2][:n_end].endswith("7"), lines
    assert lines[0].endswith("812") and lines[2].endswith("45.3k")
    assert len(lines[0]) == len(lines[2]) == tokens_end, lines
