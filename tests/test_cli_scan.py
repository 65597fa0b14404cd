"""``apirec scan``: secret-shaped values in recordings on disk, found by the gate's own
detector; the file, the place and the kind are printed, never the value."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main
from apirec.stores.convert import convert
from apirec.stores.msgpack.writer import build

KEY = "sk-proj-Q7xW2mN9pL4kR8vT1yB6cZ3hJ5gF0dSaE"
LEAKY = {  # written by hand, or by an older version
    "test_id": "t::a",
    "request": {"function": "f", "args": {"api_key": "plain-old-secret", "q": "hi"}, "key": "k"},
    "response": {
        "body": {"__data__": {"choices": [{"message": {"content": f"your key: {KEY}"}}]}},
        "is_streaming": False,
    },
}


def run(capsys, *argv):
    code = main(["scan", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_finds_each_secret_with_its_place_and_kind_never_its_value(tmp_path, capsys):
    (tmp_path / "k.json").write_text(json.dumps(LEAKY, indent=2))
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / ("ab" * 32)).write_bytes(
        b"binary \x00 Authorization: Bearer tok3n-1234abcd5678"
    )
    (tmp_path / "cassette.yaml").write_text(f"uri: https://user:pa55@api.test/v1?key={KEY}\n")
    code, out, err = run(capsys, tmp_path)
    assert code == 1
    assert f"{tmp_path / 'k.json'}: request.args.api_key: secret_name" in out
    assert "response.body.__data__.choices[0].message.content: openai_key" in out
    assert "bearer" in out and "url_credentials" in out
    for secret in (KEY, "plain-old-secret", "tok3n-1234", "pa55"):
        assert secret not in out + err
    code, out, _ = run(capsys, tmp_path, "--json")
    rows = json.loads(out)
    assert {"file": str(tmp_path / "k.json"), "path": "request.args.api_key",
            "kind": "secret_name"} in rows  # fmt: skip


def test_clean_recordings_and_usage(tmp_path, capsys):
    with apirec.recording(tmp_path / "rec", mode="record"):
        leaky(KEY)
    convert(tmp_path / "rec", tmp_path / "packed", to="msgpack")
    # newuser 20: "clean" is the result, printed on stdout (it was on stderr), exit 0
    assert run(capsys, tmp_path) == (0, "apirec scan: clean\n", "")
    assert run(capsys, tmp_path / "nowhere")[0] == 2


@apirec.record(name="scan.leaky")
def leaky(key: str) -> str:
    return f"Incorrect API key provided: {key}"


def test_a_msgpack_store_of_another_version_is_scanned(tmp_path, capsys, monkeypatch):
    # a store written before the gate: the frames hold the key (writer's gate bypassed)
    from apirec.stores.msgpack import writer

    monkeypatch.setattr(writer, "gated", lambda entry, rules=None: entry)
    monkeypatch.setattr(writer, "gated_bytes", lambda raw, rules=None: raw)
    build(tmp_path, [("k", 0, None, 0.0, LEAKY)])
    monkeypatch.undo()
    code, out, _ = run(capsys, tmp_path)
    assert code == 1
    assert "recordings.apirec::k.json: request.args.api_key: secret_name" in out
    assert KEY not in out


def test_the_pre_commit_hook_runs_scan_on_the_recordings_it_is_given(tmp_path):
    """As pre-commit runs the hook: its ``entry`` with the staged files its ``files`` picks."""
    text = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    lines = [line.strip().removeprefix("- ") for line in text.splitlines()]
    hook = dict(line.split(": ", 1) for line in lines if ": " in line and line[0] != "#")
    assert hook["id"] == "apirec-scan" and hook["pass_filenames"] == "true"
    staged = ["tests/recordings/k.json", "tests/recordings/blobs/ab", "README.md", "ci.yml"]
    picked = [name for name in staged if re.search(hook["files"], name)]
    assert picked == ["tests/recordings/k.json", "tests/recordings/blobs/ab"]
    (tmp_path / "tests/recordings/blobs").mkdir(parents=True)
    (tmp_path / picked[0]).write_text(json.dumps(LEAKY))
    (tmp_path / picked[1]).write_bytes(b"clean bytes")
    entry = hook["entry"].split()
    assert entry[0] == "apirec"  # the console script; run as python -m apirec here
    done = subprocess.run(
        [sys.executable, "-m", "apirec", *entry[1:], *picked],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1 and "request.args.api_key: secret_name" in done.stdout
    assert KEY not in done.stdout + done.stderr
    (tmp_path / picked[0]).write_text(json.dumps({"response": {"body": "fine"}}))
    clean = subprocess.run([sys.executable, "-m", "apirec", *entry[1:], *picked], cwd=tmp_path)
    assert clean.returncode == 0


@pytest.mark.parametrize("argv", [[], ["--nope"]])
def test_usage_errors_exit_2(argv):
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "scan", *argv], capture_output=True, text=True
    )
    assert done.returncode == 2
