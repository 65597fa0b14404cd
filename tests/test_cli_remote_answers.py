"""Every command that reads answers reads a response body kept in a remote store as replay
does, through one reader (apirec/cli/answers.py): from the local cache with no remote set,
else from the remote configured; and when the body cannot be read, an error naming the
recording and the object (and its URL when there is one), never a quiet pass. Driven for
``show``, ``diff``, ``verify``, ``drift`` and ``scan``, on JSON files and on the msgpack store
converted from them, through the real CLI and a ``file://`` remote."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from apirec.stores.convert import convert
from tests.test_cli_remote import cli

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
NAMES = {"a": "0123456789abcdef0123456789abcdef.json", "b": "fedcba9876543210fedcba9876543210.json"}


def _recording(name: str, body: object) -> dict:
    return {
        "request": {"function": "docs.fetch", "args": {"n": name}, "key": name[:-5]},
        "response": {"body": body, "is_streaming": False},
        "id_normalization_mapping": {},
    }


@pytest.fixture
def checkout(tmp_path: Path) -> dict:
    """Two JSON recordings whose bodies are objects of a ``file://`` remote (written by hand:
    the gate would have replaced the key in a recording apirec made), the msgpack store
    converted from them, and a cache ``apirec pull`` warmed."""
    objects = tmp_path / "objects"
    objects.mkdir()
    root = tmp_path / "json"
    root.mkdir()
    digests = {}
    for tag, name in NAMES.items():
        body = {"tag": tag, "pages": ["lorem ipsum " * 20] * 400, "leak": f"Bearer {KEY}"}
        data = json.dumps(body, separators=(",", ":")).encode()
        digests[tag] = hashlib.sha256(data).hexdigest()
        (objects / digests[tag]).write_bytes(data)
        ref = {"__type__": "apirec.json", "__blob__": digests[tag], "size": len(data)}
        (root / name).write_text(json.dumps(_recording(name, ref), indent=2) + "\n")
    packed = tmp_path / "packed"
    convert(root, packed, to="msgpack")
    warm = tmp_path / "warm-cache"
    pulled = cli("pull", str(root), "--remote", objects.as_uri(), cache=warm)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    return {"root": root, "packed": packed, "objects": objects, "digests": digests, "warm": warm}


def _argv(command: str, store: str, c: dict) -> list[str]:
    if store == "json":
        one, other, directory = (str(c["root"] / NAMES[t]) for t in "ab"), None, c["root"]
        one, other = list(one)
    else:
        one, other = (f"{c['packed'] / 'recordings.apirec'}::{NAMES[t]}" for t in "ab")
        directory = c["packed"]
    return {
        "show": ["show", one],
        "diff": ["diff", one, other],
        "verify": ["verify", str(directory)],
        "drift": ["drift", str(directory)],
        "scan": ["scan", str(directory)],
    }[command]


def _read(command: str, done) -> None:
    """``done`` read the bodies."""
    out = done.stdout + done.stderr
    if command == "show":
        assert done.returncode == 0 and '"tag": "a"' in done.stdout and "note:" not in out, out
    elif command == "diff":
        assert done.returncode == 1 and '-  "tag": "a"' in done.stdout, out
        assert '+  "tag": "b"' in done.stdout
    elif command in ("verify", "drift"):
        assert done.returncode == 0, out
        assert "apirec.json" not in out
    else:  # scan: the key inside each body
        assert done.returncode == 1 and done.stdout.count("leak: openai_key") == 2, out
        assert "not scanned" not in out and KEY not in out


def _unread(command: str, done, c: dict, *why: str) -> None:
    """``done`` could not read the body of recording a: it says which, the object and why."""
    out = done.stdout + done.stderr
    assert NAMES["a"] in out and c["digests"]["a"] in out, out
    for words in why:
        assert words in out, out
    if command == "show":  # the recording is shown as stored, with a note
        assert done.returncode == 0 and "note:" in done.stdout
    elif command == "scan":
        assert done.returncode == 1 and "not scanned" in done.stdout
        lines = done.stdout.splitlines()
        assert not any(NAMES["a"] in line and "openai_key" in line for line in lines)
        assert "clean" not in done.stderr
    else:
        assert done.returncode == 1


COMMANDS = ["show", "diff", "verify", "drift", "scan"]


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_body_kept_remotely_is_read_as_replay_reads_it(command, store, checkout, tmp_path):
    argv = _argv(command, store, checkout)
    url = checkout["objects"].as_uri()
    _read(command, cli(*argv, cache=checkout["warm"]))  # the cache alone, no remote set
    _unread(command, cli(*argv, cache=tmp_path / "c1"), checkout, "no remote store is set")
    _read(command, cli(*argv, "--remote", url, cache=tmp_path / "c2"))
    _read(command, cli(*argv, cache=tmp_path / "c3", APIREC_REMOTE=url))
    (checkout["objects"] / checkout["digests"]["a"]).unlink()
    gone = cli(*argv, "--remote", url, cache=tmp_path / "c4")
    _unread(command, gone, checkout, f"{url}/{checkout['digests']['a']}", "missing from the remote")


def test_scan_json_lists_what_it_could_not_read(checkout, tmp_path):
    done = cli("scan", str(checkout["root"]), "--json", cache=tmp_path / "empty")
    assert done.returncode == 1
    rows = json.loads(done.stdout)
    assert {r["kind"] for r in rows} == {"not_scanned"} and len(rows) == 2
    assert all("no remote store is set" in r["error"] for r in rows)
    text = cli("scan", str(checkout["root"]), cache=tmp_path / "empty")
    assert "apirec scan: 2 recordings not scanned whole" in text.stdout


def test_convert_keeps_a_remote_body_a_reference_both_ways(checkout, tmp_path):
    back = tmp_path / "back"
    done = cli("convert", str(checkout["packed"]), str(back), "--to", "json")
    assert done.returncode == 0, done.stderr
    for name in NAMES.values():
        assert (back / name).read_bytes() == (checkout["root"] / name).read_bytes()
