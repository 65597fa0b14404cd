import json
import os
import shutil

import pytest

import apirec
from apirec.stores.json_store import TMP_DIR, JsonStore, dumps


def entry(body, test_id=None):
    return {
        "test_id": test_id,
        "request": {"function": "f", "args": {}, "key": "k"},
        "response": {"body": body, "is_streaming": False},
        "id_normalization_mapping": {},
    }


def test_sequence_files_are_key_json_then_key_n_json(store_dir):
    store = JsonStore(store_dir)
    assert [store.write("abc", entry(i)) for i in range(3)] == [0, 1, 2]
    assert sorted(p.name for p in store_dir.glob("*.json")) == [
        "abc.1.json",
        "abc.2.json",
        "abc.json",
    ]
    assert store.count("abc") == 3
    assert [store.read("abc", i)["response"]["body"] for i in range(3)] == [0, 1, 2]
    assert store.read("abc", 3) is None and store.count("nope") == 0


def test_write_claims_the_first_free_slot_from_start(store_dir):
    store = JsonStore(store_dir)
    assert store.write("k", entry("a"), start=1) == 1
    assert store.write("k", entry("b"), start=1) == 2
    assert store.write("k", entry("c"), start=0) == 0


def test_output_is_byte_stable_pretty_json(store_dir):
    store = JsonStore(store_dir)
    e = entry({"b": 1, "a": [1.5, "é"]}, test_id="t")
    store.write("one", e)
    store.write("two", json.loads(json.dumps(e)))
    one = (store_dir / "one.json").read_bytes()
    assert one == (store_dir / "two.json").read_bytes()
    assert one == (json.dumps(e, indent=2) + "\n").encode()
    assert one.endswith(b"}\n") and b'\n  "request": {' in one


def test_writes_leave_no_temporary_files(store_dir):
    store = JsonStore(store_dir)
    for i in range(5):
        store.write("k", entry(i))
    assert os.listdir(store_dir / TMP_DIR) == []


def test_failed_write_keeps_the_previous_recording(store_dir, monkeypatch):
    store = JsonStore(store_dir)
    store.write("k", entry("old"))

    def broken_link(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", broken_link)
    with pytest.raises(
        apirec.StoreError, match=r"recordings/k\.json: cannot be written: disk full"
    ):
        store.write("k", entry("new"))
    assert store.read("k", 0)["response"]["body"] == "old"
    assert not (store_dir / "k.1.json").exists()
    assert os.listdir(store_dir / TMP_DIR) == []


def test_reset_drops_only_older_answers(store_dir):
    store = JsonStore(store_dir)
    store.write("k", entry("old"))
    store.write("k", entry("old2"))
    os.utime(store_dir / "k.json", (1, 1))
    os.utime(store_dir / "k.1.json", (1, 1))
    store.reset("k", older_than=1000)
    assert store.count("k") == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON (line 1, column 2"),
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"response": []}', "'response' must be an object"),
        (b'{"response": {}}', "'response' has no 'body'"),
        (b'{"response": {"body": 1, "is_streaming": "yes"}}', "is_streaming"),
        (
            b'{"response": {"body": 1, "is_streaming": true}}',
            "streamed 'response.body' must be a list",
        ),
        (b'{"test_id": 5, "response": {"body": 1}}', "'test_id' must be a string or null"),
    ],
)
def test_malformed_file_is_a_store_error_naming_the_file(store_dir, content, problem):
    (store_dir / "bad.json").write_bytes(content)
    with pytest.raises(apirec.StoreError) as info:
        JsonStore(store_dir).read("bad", 0)
    assert str(store_dir / "bad.json") in str(info.value)
    assert problem in str(info.value)
    assert info.value.path == str(store_dir / "bad.json")


def test_leftover_temp_files_of_dead_writers_are_cleaned_on_open(store_dir):
    tmp = store_dir / TMP_DIR
    tmp.mkdir()
    (tmp / "999999999-dead.tmp").write_text("{half")
    (tmp / f"{os.getpid()}-mine.tmp").write_text("{in progress")
    JsonStore(store_dir)
    assert os.listdir(tmp) == [f"{os.getpid()}-mine.tmp"]


def test_reads_llama_stack_recordings_as_they_are(fixtures_dir, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(fixtures_dir / "seeds", seeds)
    store = JsonStore(seeds)
    names = sorted(p.stem for p in seeds.glob("*.json"))
    assert len(names) == 5
    for key in names:
        stored = store.read(key, 0)
        assert stored["response"]["is_streaming"] is True
        assert stored["request"]["endpoint"] == "/v1/chat/completions"
        # written back, a recording is byte-identical to the file it came from
        assert dumps(stored) == (seeds / f"{key}.json").read_bytes()


def test_entries_lists_every_recording(store_dir):
    store = JsonStore(store_dir)
    store.write("a", entry(1))
    store.write("a", entry(2))
    store.write("b", entry(3))
    assert [(k, i) for k, i, _ in store.entries()] == [("a", 0), ("a", 1), ("b", 0)]


def _as_rglob_lists(root):
    """What entries() listed when it was ``rglob("*.json")`` over the whole tree."""
    import re
    from pathlib import Path

    name = re.compile(r"^(?P<key>[^.]+?)(?:\.(?P<index>[1-9][0-9]*))?\.json$")
    found = []
    for path in Path(root).rglob("*.json"):
        m = name.match(path.name)
        if m and TMP_DIR not in path.parts:
            found.append((m["key"], int(m["index"] or 0), str(path)))
    return sorted(found)


@pytest.mark.parametrize("where", ["absolute", "relative", "dot"])
def test_entries_lists_what_a_walk_of_the_whole_tree_finds(store_dir, tmp_path, monkeypatch, where):
    # the top level is listed without a Path per file; below it, rglob's rules still hold
    store = JsonStore(store_dir)
    store.write("a", entry(1))
    store.write("a", entry(2))
    (store_dir / "sub" / "deeper").mkdir(parents=True)
    (store_dir / "sub" / "c.json").write_text("{}")
    (store_dir / "sub" / "deeper" / "d.2.json").write_text("{}")
    (store_dir / "dir.json").mkdir()  # a directory named like a recording: rglob lists it
    (store_dir / "dir.json" / "e.json").write_text("{}")
    (store_dir / TMP_DIR).mkdir(exist_ok=True)
    (store_dir / TMP_DIR / "f.json").write_text("{}")  # a writer's temp file: never listed
    (store_dir / "notes.txt").write_text("")
    (store_dir / "not.a.recording.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "g.json").write_text("{}")
    (store_dir / "linked").symlink_to(elsewhere)  # a linked directory is not walked into
    (store_dir / "h.json").symlink_to(elsewhere / "g.json")  # a linked file is listed
    root = {"absolute": store_dir, "relative": store_dir.relative_to(tmp_path), "dot": "."}[where]
    monkeypatch.chdir(tmp_path if where == "relative" else store_dir)
    listed = list(JsonStore(root).entries())
    assert listed == _as_rglob_lists(root)
    assert {k for k, _, _ in listed} == {"a", "c", "d", "dir", "e", "h"}


@pytest.mark.parametrize(
    ("head", "hint"),
    [
        (b'{\n  "test_id": "t.py::test_a",\n  "request": {}', "t.py::test_a"),
        (b'{"test_id":"t.py::test[\\"q\\"]"}', 't.py::test["q"]'),  # escapes decoded
        ('{"test_id": "t.py::test[é]", "x": 1'.encode(), "t.py::test[é]"),
        (b'{"test_id": null, "request": {"test_id": "t.py::t"}}', None),  # only the whole file
        (b'{"request": {}, "test_id": "t.py::test_a"}', None),  # not the first field
        (b'{"test_id": "t.py::test_a', None),  # cut short: no end of the value
        (b'{"test_id": "t.py::test_a"', None),  # nor what follows it
        (b'{"test_id": 3, "x": 1}', None),
        (b'[{"test_id": "t.py::test_a"}]', None),
        (b'{"test_id": "bad \\x escape", "x": 1}', None),
        (b'{"test_id": "t.py::a", "test_id": "t.py::b"}', None),  # a reader takes the last
        (b'{"test_id": "t.py::a", "request": {"body": {"test_id": 1}}}', None),  # or nested
        (b'{"test_id": "t.py::a", "note": "a \\"test_id\\" in a string"}', "t.py::a"),
    ],
)
def test_the_owner_hint_is_the_test_id_a_file_starts_with(head, hint):
    from apirec.stores.json_format import leading_test_id

    assert leading_test_id(head) == hint


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_the_owner_hint_reads_only_a_regular_files_head(store_dir):
    store = JsonStore(store_dir)
    store.write("a", {**entry(1), "test_id": "t.py::test_a"})
    assert store.owner_hint("a", 0) == "t.py::test_a"
    assert store.owner_hint("missing", 0) is None
    os.mkfifo(store_dir / "fifo.json")  # a FIFO would never end: refused, no hint
    assert store.owner_hint("fifo", 0) is None


def test_a_store_that_cannot_be_listed_is_not_taken_for_an_empty_one(store_dir, monkeypatch):
    # out of file descriptors (EMFILE) is an error, not "no recordings": rglob raised it too
    import errno

    store = JsonStore(store_dir)
    store.write("a", entry(1))
    assert list(JsonStore(store_dir / "missing").entries()) == []  # no store yet: nothing

    def out_of_descriptors(path):
        raise OSError(errno.EMFILE, "Too many open files", path)

    monkeypatch.setattr(os, "scandir", out_of_descriptors)
    with pytest.raises(OSError, match="Too many open files"):
        list(store.entries())
