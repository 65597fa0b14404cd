"""What ``apirec --help`` and ``apirec ls`` load: argparse and the command they run, not the
recorder, the codec's pydantic or the msgpack store.

Run in fresh processes, as a user starts the command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pydantic", "msgpack", "xxhash", "wrapt", "openai", "anthropic", "httpx", "obstore")
REPORT = (
    "import json, sys\n"
    "from apirec.cli import main\n"
    "def report(code):\n"
    "    print('APIREC-MODULES ' + json.dumps({\n"
    "        'code': code,\n"
    "        'apirec': sorted(m for m in sys.modules if m.startswith('apirec')),\n"
    f"        'heavy': [m for m in {HEAVY!r} if m in sys.modules],\n"
    "    }), file=sys.stderr)\n"
)
# the console script's own modules (`apirec` runs apirec.cli:main)
PARSER_ONLY = [
    "apirec",
    "apirec.cli",
    "apirec.cli.app",
    "apirec.cli.base",
    "apirec.cli.parser",
    "apirec.errors",
    "apirec.record",
    "apirec.record.lazy_module",  # the annotations' names, imported when asked for
    "apirec.record.modes",
]


def _run(argv: list[str]) -> dict[str, object]:
    code = REPORT + f"report(main({argv!r}))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("APIREC-MODULES "))
    return json.loads(line.removeprefix("APIREC-MODULES "))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["ls", "--help"],
        ["drift", "--help"],
        ["pull", "--help"],
        ["gc", "--help"],
        ["prune", "--no-such-option"],
    ],
)
def test_help_and_usage_errors_load_the_parser_only(argv: list[str]) -> None:
    loaded = _run(argv)
    assert loaded["code"] == (2 if "--no-such-option" in argv else 0)
    assert loaded["heavy"] == []
    assert loaded["apirec"] == PARSER_ONLY


def test_ls_on_json_recordings_loads_no_codec_and_no_msgpack(tmp_path: Path) -> None:
    import apirec

    @apirec.record
    def double(x: int) -> dict[str, int]:
        return {"twice": 2 * x}

    with apirec.recording(tmp_path, mode="record"):
        for n in range(20):
            double(n)
    loaded = _run(["ls", str(tmp_path)])
    assert loaded["code"] == 0
    assert loaded["heavy"] == []
    modules = loaded["apirec"]
    assert isinstance(modules, list)
    assert "apirec.cli.inspect" in modules
    # neither the codec (pydantic), the msgpack store, nor the recorder
    assert [m for m in modules if m.startswith(("apirec.codec", "apirec.stores.msgpack"))] == []
    assert not [
        m
        for m in modules
        if m.startswith(("apirec.record.", "apirec.integrations"))
        and m
        not in (
            "apirec.record.modes",
            "apirec.record.expiry",
            "apirec.record.lazy_module",
            "apirec.record.layers",  # the one order of a setting's layers: stdlib only
        )
    ]


def test_the_readers_name_a_typed_values_keys_as_the_codec_does() -> None:
    from apirec.codec import envelope, model_state
    from apirec.gate import placeholders

    assert (placeholders.TYPE, placeholders.DATA) == (envelope.TYPE, envelope.DATA)
    assert placeholders.STATE == model_state.STATE


def test_the_cli_names_the_msgpack_stores_file_as_the_store_does() -> None:
    from apirec.cli.base import MSGPACK_FILE
    from apirec.stores.msgpack import FILE_NAME

    assert MSGPACK_FILE == FILE_NAME
