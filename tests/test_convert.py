import json
import os
import shutil
from pathlib import Path

import pytest

import apirec
from apirec.stores.convert import convert
from apirec.stores.json_store import JsonStore
from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore, build


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.json")}


def test_json_to_msgpack_to_json_is_byte_identical_for_every_fixture(fixtures_dir, tmp_path):
    original = tree(fixtures_dir)
    assert len(original) == 221
    assert convert(fixtures_dir, tmp_path / "mp", to="msgpack") == 221
    assert sorted(os.listdir(tmp_path / "mp")) == [FILE_NAME, f"{FILE_NAME}.idx"]
    assert convert(tmp_path / "mp", tmp_path / "back", to="json") == 221
    back = tree(tmp_path / "back")
    assert back.keys() == original.keys()
    different = [name for name in original if back[name] != original[name]]
    assert different == []


def test_converted_store_answers_like_the_json_store(fixtures_dir, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(fixtures_dir / "seeds", seeds)
    models = next(fixtures_dir.rglob("models-*.json"))
    shutil.copy(models, seeds / models.name)
    convert(seeds, tmp_path / "mp", to="msgpack")
    json_store, mp_store = JsonStore(seeds), MsgpackStore(tmp_path / "mp")
    keys = sorted(p.name[: -len(".json")] for p in seeds.glob("*.json"))
    assert len(keys) == 6
    for key in keys:
        assert mp_store.count(key) == json_store.count(key) == 1
        assert mp_store.read(key, 0) == json_store.read(key, 0)
    assert [k for k, _, _ in mp_store.entries()] == keys


def test_files_not_in_canonical_form_and_mtimes_are_kept(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    hand_written = b'{"response": {"body": [1, 2.50, "\\u00e9"]},\n"test_id": null}'
    (src / "abc.json").write_bytes(hand_written)
    (src / "abc.1.json").write_bytes(json.dumps({"response": {"body": 1}}, indent=2).encode())
    os.utime(src / "abc.json", (1_000_000, 1_000_000))
    convert(src, tmp_path / "mp")
    store = MsgpackStore(tmp_path / "mp")
    assert store.read("abc", 0)["response"]["body"] == [1, 2.5, "é"]
    assert store.count("abc") == 2
    convert(tmp_path / "mp", tmp_path / "back", to="json")
    assert tree(tmp_path / "back") == tree(src)
    assert os.path.getmtime(tmp_path / "back" / "abc.json") == 1_000_000


def test_malformed_json_file_stops_the_conversion_naming_it(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "bad.json").write_bytes(b"{oops")
    with pytest.raises(apirec.StoreError, match=r"bad\.json: not valid JSON"):
        convert(src, tmp_path / "mp")


def test_convert_never_overwrites(tmp_path, fixtures_dir):
    convert(fixtures_dir / "seeds", tmp_path / "mp")
    with pytest.raises(apirec.StoreError, match="already there"):
        convert(fixtures_dir / "seeds", tmp_path / "mp")
    out = tmp_path / "out"
    out.mkdir()
    victim = next((fixtures_dir / "seeds").glob("*.json")).name
    (out / victim).write_text("{}")
    with pytest.raises(apirec.StoreError, match="exists with other content"):
        convert(tmp_path / "mp", out, to="json")
    assert (out / victim).read_text() == "{}"


@pytest.mark.parametrize("name", ["../escape.json", "/etc/x.json", "a/../../b.json"])
def test_stored_file_names_cannot_escape_the_target(tmp_path, name):
    build(tmp_path / "mp", [(name, 0, None, 0.0, {"response": {"body": 1}})])
    with pytest.raises(apirec.StoreError, match="refusing the file name"):
        convert(tmp_path / "mp", tmp_path / "out", to="json")
    assert not (tmp_path / "escape.json").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="'yaml' is not a valid store format"):
        convert(tmp_path, tmp_path / "x", to="yaml")
    with pytest.raises(apirec.StoreError, match="no such store directory"):
        convert(tmp_path / "missing", tmp_path / "x")
    with pytest.raises(apirec.StoreError, match="no msgpack store here"):
        convert(tmp_path, tmp_path / "x", to="json")


def test_cli_convert_round_trips_the_fixture_tree(fixtures_dir, tmp_path, capsys):
    from apirec.cli.app import main

    assert main(["convert", str(fixtures_dir), str(tmp_path / "mp"), "--to", "msgpack"]) == 0
    assert "converted 221 recordings" in capsys.readouterr().out
    assert main(["convert", str(tmp_path / "mp"), str(tmp_path / "back"), "--to", "json"]) == 0
    assert tree(tmp_path / "back") == tree(fixtures_dir)
    assert main(["convert", str(fixtures_dir), str(tmp_path / "mp"), "--to", "msgpack"]) == 1
    assert "already there" in capsys.readouterr().err
