"""Review of issue 22: ``apirec scan`` looks for secrets in recordings "with the write gate's
own" detectors (docs/cli.md). A response body kept in the remote store is part of the
recording (``apirec show`` fetches it), and the remote may be served publicly to forks; scan
never reads it, so a secret there is reported "clean"."""

from __future__ import annotations

import hashlib
import json

from tests.test_cli_remote import cli

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
NAME = "0123456789abcdef0123456789abcdef.json"


def _recording(body):
    return {
        "request": {"function": "docs.fetch", "args": {"n": "x"}, "key": NAME[:-5]},
        "response": {"body": body, "is_streaming": False},
        "id_normalization_mapping": {},
    }


def test_scan_finds_a_secret_in_a_body_kept_remotely(store_dir, tmp_path):
    # a recording made before the gate knew this key's shape (or edited by hand)
    body = {"pages": ["lorem ipsum " * 20] * 400, "leak": f"Authorization: Bearer {KEY}"}
    inline = store_dir / NAME
    inline.write_text(json.dumps(_recording(body)))
    found = cli("scan", str(store_dir))
    assert found.returncode == 1 and "openai_key" in found.stdout  # the control: inline

    data = json.dumps(body, separators=(",", ":")).encode()
    digest = hashlib.sha256(data).hexdigest()
    objects = tmp_path / "objects"
    objects.mkdir()
    (objects / digest).write_bytes(data)
    reference = {"__type__": "apirec.json", "__blob__": digest, "size": len(data)}
    inline.write_text(json.dumps(_recording(reference)))
    shown = cli("show", str(inline), "--remote", objects.as_uri(), cache=tmp_path / "cache")
    assert KEY[:12] in shown.stdout  # part of the recording, as show reads it
    scanned = cli("scan", str(store_dir), cache=tmp_path / "cache", APIREC_REMOTE=objects.as_uri())
    assert scanned.returncode == 1, scanned.stdout + scanned.stderr
