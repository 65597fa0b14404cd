"""apirec stats and the TOKENS/TOOK columns of apirec ls (issue 21, point 3): what recorded
calls took live and spent, read from their ledgers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main
from apirec.stores.convert import convert

HI = [{"role": "user", "content": "llamas eat grass"}]  # the fake answers 5 in, 5 out


@pytest.fixture
async def recordings(openai_server, make_client, store_dir) -> Path:
    """Three chat completions (two models) and one embedding, recorded; and one old recording
    made before the ledger."""
    from apirec import integrations

    client = make_client(openai_server.base_url)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        with apirec.test_context("tests/test_a.py::test_one"):
            await client.chat.completions.create(model="gpt-4o", messages=HI)
            await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        with apirec.test_context("tests/test_b.py::test_two"):
            await client.chat.completions.create(model="gpt-4o", messages=[*HI, *HI])
            await client.embeddings.create(model="emb-1", input=["a", "b", "c"])

    @apirec.record(name="old.call")
    def old() -> int:
        return 1

    with apirec.recording(store_dir, mode="record"):
        old()
    for path in store_dir.glob("*.json"):
        entry = json.loads(path.read_text())
        if entry["request"]["function"] == "old.call":
            del entry["ledger"]
            path.write_text(json.dumps(entry))
    return store_dir


def run_json(capsys, *argv: str) -> dict:
    assert main(["stats", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_totals_and_groups_by_function(recordings, capsys):
    report = run_json(capsys, str(recordings))
    assert report["calls"] == 5 and report["unknown"] == 1
    assert report["input_tokens"] == 5 + 5 + 5 + 3  # the embedding reports its 3 inputs
    assert report["output_tokens"] == 5 + 5 + 5
    assert report["live_seconds"] >= 0
    by = {g["name"]: g for g in report["by_function"]}
    assert by["openai.chat.completions.create"]["calls"] == 3
    assert by["openai.embeddings.create"]["input_tokens"] == 3
    assert by["old.call"]["unknown"] == 1


def test_by_model_with_prices(recordings, capsys, tmp_path):
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[gpt-4o]\ninput = 1000000\noutput = 0\n["gpt-4o-mini"]\ninput = 0\noutput = 0\n'
    )
    report = run_json(capsys, str(recordings), "--by", "model", "--prices", str(prices))
    by = {g["name"]: g for g in report["by_model"]}
    assert by["gpt-4o"]["calls"] == 2 and by["gpt-4o"]["cost"] == pytest.approx(10.0)
    assert by["emb-1"]["unpriced"] == 1
    assert by["(unknown model)"]["unknown"] == 1
    assert report["cost"] == pytest.approx(10.0)


def test_by_test_and_a_msgpack_store(recordings, capsys, tmp_path):
    packed = tmp_path / "packed"
    convert(recordings, packed, to="msgpack")
    report = run_json(capsys, str(packed), "--by", "test")
    by = {g["name"]: g for g in report["by_test"]}
    assert by["tests/test_a.py::test_one"]["calls"] == 2
    assert by["tests/test_b.py::test_two"]["output_tokens"] == 5
    assert report == run_json(capsys, str(recordings), "--by", "test")


def test_the_table_and_ls_columns(recordings, capsys):
    assert main(["stats", str(recordings)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:5] == ["FUNCTION", "CALLS", "LIVE", "INPUT", "OUTPUT"]
    assert "1 recording made before the ledger: time, tokens and cost unknown" in out
    assert main(["ls", str(recordings)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "TOKENS" in lines[0] and "TOOK" in lines[0]
    embedding = next(line for line in lines if line.startswith("openai.embeddings"))
    assert " 3 " in embedding


def test_verify_strict_trusting_openai_passes_on_what_the_openai_integration_recorded(
    recordings, capsys
):
    # issue 20 point 9: no `--trust apirec` needed for apirec's own types in those recordings
    assert main(["verify", str(recordings), "--trust", "openai", "--strict"]) == 0, (
        capsys.readouterr().out
    )


def test_small_costs_show_and_unpriced_models_are_not_free(recordings, capsys, tmp_path):
    """gpt-4o at $2.50/$10 per million: 10 in and 5 out cost $0.000075, not $0.00; emb-1 and
    gpt-4o-mini are not in the table: their cost is unknown ("unpriced", null), not $0.00."""
    prices = tmp_path / "prices.toml"
    prices.write_text("[gpt-4o]\ninput = 2.5\noutput = 10\n")
    assert main(["stats", str(recordings), "--by", "model", "--prices", str(prices)]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert rows["gpt-4o"][-1] == "$0.00013", rows  # 10 in, 10 out: $0.000025 + $0.0001
    assert rows["emb-1"][-1] == "unpriced" and rows["gpt-4o-mini"][-1] == "unpriced", rows
    assert rows["total"][-1] == "$0.00013+", rows  # a floor: some calls are unpriced
    report = run_json(capsys, str(recordings), "--by", "model", "--prices", str(prices))
    by = {g["name"]: g for g in report["by_model"]}
    assert by["emb-1"]["cost"] is None and by["emb-1"]["unpriced"] == 1
    assert by["gpt-4o"]["cost"] == pytest.approx(0.000125)


@pytest.mark.parametrize(
    "dollars, text",
    [(0, "$0.00"), (0.00004, "$0.00004"), (0.0012345, "$0.0012"), (0.01, "$0.01"),
     (2.456, "$2.46"), (1234.5, "$1,234.50"), (0.0000001, "<$0.00001")],
)  # fmt: skip
def test_money_for_people(dollars, text):
    from apirec.stores.ledger import money_text

    assert money_text(dollars) == text


def test_a_shell_glob_over_a_msgpack_store_reads_the_store_once(recordings, capsys, tmp_path):
    """``apirec stats DIR/*``: the shell gives the store's file and its index; the index is
    no recording, and the store counts once."""
    packed = tmp_path / "packed"
    convert(recordings, packed, to="msgpack")
    globbed = sorted(packed.iterdir())
    assert [p.name for p in globbed] == ["recordings.apirec", "recordings.apirec.idx"]
    report = run_json(capsys, *map(str, globbed))
    assert report == run_json(capsys, str(packed)) and report["calls"] == 5
    assert run_json(capsys, str(packed), str(globbed[0]))["calls"] == 5  # named twice
