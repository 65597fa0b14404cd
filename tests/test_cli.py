"""The `apirec` command line: ls, show, diff, verify, prune, convert; exit codes 0 / 1 / 2."""

import fnmatch
import json
import shutil
import subprocess
import sys

import pytest

import apirec
from apirec.cli.app import main
from tests.paths import LLAMA_STACK

FIXTURES = LLAMA_STACK
SEED = FIXTURES / "seeds/007c4711219f0fe25bd410d6dd8b18eae1251c3e83ab1f8d1d85ce86f5e197f3.json"
N_FIXTURES = 221


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- verify ---------------------------------------------------------------------------------


def test_verify_fixtures_trusting_openai_lists_the_other_types_with_counts(capsys):
    code, out, _ = run(capsys, "verify", "--trust", "openai", FIXTURES)
    assert code == 0
    rows = {line.split()[1]: line for line in out.splitlines() if line.strip()[:1].isdigit()}
    assert rows["ollama._types.ProcessResponse"].split()[0] == "4"
    assert "not allowed to import (--trust ollama)" in rows["ollama._types.ProcessResponse"]
    assert rows["ogx_api.tools.ToolInvocationResult"].split()[0] == "3"
    assert rows["llama_stack_api.file_processors.models.ProcessFileResponse"].split()[0] == "2"
    assert not any(name.startswith("openai.") for name in rows)
    # llama-stack's provider errors, rebuilt by patch_openai(keys="llama-stack"): informational
    assert rows["openai"].split() == ["3", "openai", "BadRequestError"]
    assert f"ok: {N_FIXTURES} recordings checked, 0 problems, 3 types not resolved" in out


def test_verify_strict_fails_on_unresolved_types(capsys):
    code, out, _ = run(capsys, "verify", "--strict", FIXTURES / "seeds")
    assert code == 1
    assert "openai.types.chat.chat_completion_chunk.ChatCompletionChunk" in out
    assert "not allowed to import (--trust openai)" in out
    assert "FAILED: 5 recordings checked, 0 problems, 1 type not resolved (--strict)" in out


def test_verify_names_a_hand_broken_file_and_exits_1(capsys, tmp_path):
    copy = tmp_path / "llama_stack"
    shutil.copytree(FIXTURES, copy)
    broken = copy / "seeds" / SEED.name
    broken.write_text(broken.read_text()[:500])  # cut in the middle of a string
    bad_type = next((copy / "sample").rglob("*.json"))
    entry = json.loads(bad_type.read_text())
    entry["response"]["body"] = {"__type__": "openai.types.model.Model", "__data__": [1, 2]}
    bad_type.write_text(json.dumps(entry))

    code, out, _ = run(capsys, "verify", "--trust", "openai", copy)
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 2
    assert any(str(broken) in p and "not valid JSON (line" in p for p in problems)
    assert any(
        str(bad_type) in p and "openai.types.model.Model needs an object" in p for p in problems
    )
    assert f"FAILED: {N_FIXTURES} recordings checked, 2 problems" in out


def test_verify_tells_not_found_from_not_allowed(capsys, tmp_path):
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "test_id": None,
                "request": {"function": "f", "args": {}, "key": "a"},
                "response": {
                    "body": {"__type__": "no_such_pkg_zz.Thing", "__data__": {}},
                    "is_streaming": False,
                },
            }
        )
    )
    code, out, _ = run(capsys, "verify", "--trust", "no_such_pkg_zz", tmp_path)
    assert code == 0
    assert "no_such_pkg_zz.Thing  not found" in out


# -- ls -------------------------------------------------------------------------------------


def test_ls_fixtures_in_both_request_shapes(capsys):
    code, out, _ = run(capsys, "ls", "--json", FIXTURES)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == N_FIXTURES
    functions = {r["function"] for r in rows}
    assert {"POST /v1/chat/completions", "tavily.web_search", "pypdf.file_processors"} <= functions
    parsed = {str(p): json.loads(p.read_text())["response"] for p in FIXTURES.rglob("*.json")}
    assert {r["path"] for r in rows if r["streamed"]} == {
        p for p, resp in parsed.items() if resp["is_streaming"]
    }
    assert sum(r["streamed"] for r in rows) == 5 + 106 + 10 + 3  # seeds + the README's counts
    assert {r["path"] for r in rows if r["error"]} == {
        p for p, resp in parsed.items() if resp.get("is_exception")
    }
    seed = next(r for r in rows if r["path"] == str(SEED))
    assert seed["size"] == SEED.stat().st_size
    assert seed["key"] == SEED.stem
    assert seed["test_id"].endswith(
        "test_response_streaming_basic[openai_client-txt=openai/gpt-4o-saturn]"
    )


def test_ls_table_and_filters(capsys):
    code, out, _ = run(capsys, "ls", FIXTURES, "--function", "tavily.*")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "FUNCTION",
        "TEST",
        "KEY",
        "STREAMED",
        "ERROR",
        "TOKENS",
        "TOOK",
        "AGE",
        "SIZE",
    ]
    assert len(lines) == 1 + 3 + 1 and lines[-1].startswith("3 recordings, ")
    assert all(line.startswith("tavily.web_search") for line in lines[1:4])

    pattern = "*test_basic_responses.py::*saturn*"
    code, out, _ = run(capsys, "ls", "--json", FIXTURES, "--test", pattern)
    entries = {str(p): json.loads(p.read_text()) for p in FIXTURES.rglob("*.json")}
    test_ids = {
        p: e.get("test_id") or e["request"].get("test_id") or "" for p, e in entries.items()
    }
    expected = {p for p, t in test_ids.items() if fnmatch.fnmatchcase(t, pattern)}
    assert str(SEED) in expected
    assert {r["path"] for r in json.loads(out)} == expected
    code, out, _ = run(capsys, "ls", "--json", FIXTURES, "--test", "no such test")
    assert (code, json.loads(out)) == (0, [])


@apirec.record(name="cli.lookup")
def lookup(word: str) -> dict:
    if word == "boom":
        raise KeyError(word)
    return {"word": word, "length": len(word)}


@pytest.fixture
def apirec_store(tmp_path):
    """A store written by apirec itself: two answers of one call, an error, a shared call."""
    store = tmp_path / "recordings"
    with apirec.recording(store, mode="record"), apirec.test_context("tests/test_x.py::test_a"):
        lookup("llama")
        lookup("llama")
        with pytest.raises(KeyError):
            lookup("boom")
    with apirec.recording(store, mode="record"), apirec.test_context("tests/test_x.py::test_b"):
        lookup("alpaca")
    return store


def test_ls_apirec_recordings(capsys, apirec_store):
    code, out, _ = run(capsys, "ls", "--json", apirec_store)
    rows = json.loads(out)
    assert code == 0
    assert {r["function"] for r in rows} == {"cli.lookup"}
    assert sorted((r["test_id"], r["index"], r["error"]) for r in rows) == [
        ("tests/test_x.py::test_a", 0, False),
        ("tests/test_x.py::test_a", 0, True),
        ("tests/test_x.py::test_a", 1, False),
        ("tests/test_x.py::test_b", 0, False),
    ]


# -- show / diff ----------------------------------------------------------------------------


def test_show_a_stream_by_key_prefix(capsys):
    code, out, _ = run(capsys, "show", SEED.stem[:10], "--dir", FIXTURES / "seeds")
    assert code == 0
    assert f"file:      {SEED}" in out
    assert "function:  POST /v1/chat/completions" in out
    assert (
        '"content": "Which planet has rings around it with a name starting with letter S?"' in out
    )
    assert "stream:    34 chunks of ChatCompletionChunk" in out
    assert 'text:      "The planet with rings around it that has a name starting with' in out
    assert "... 29 more chunks (--full shows all) ..." in out
    _, full, _ = run(capsys, "show", SEED, "--full")
    assert "more chunks" not in full and "  [20] " in full
    _, raw, _ = run(capsys, "show", SEED, "--json")
    assert json.loads(raw) == json.loads(SEED.read_text())


def test_show_apirec_recordings_value_and_error(capsys, apirec_store):
    rows = json.loads(run(capsys, "ls", "--json", apirec_store)[1])
    error = next(r for r in rows if r["error"])
    code, out, _ = run(capsys, "show", error["path"])
    assert code == 0
    assert "raised:    builtins.KeyError: 'boom'" in out
    value = next(r for r in rows if r["test_id"].endswith("test_b"))
    _, out, _ = run(capsys, "show", value["key"], "--dir", apirec_store)
    assert 'returned:  {\n  "word": "alpaca",\n  "length": 6\n}' in out
    assert 'arguments: {\n  "word": "alpaca"\n}' in out


def test_show_unknown_or_ambiguous_key_is_a_usage_error(capsys, tmp_path):
    for name in ("abcdef01.json", "abcdef02.json"):
        shutil.copy(SEED, tmp_path / name)
    code, _, err = run(capsys, "show", "abcdef", "--dir", tmp_path)
    assert code == 2 and "abcdef: matches 2 recordings" in err
    code, _, err = run(capsys, "show", "fedcba9876", "--dir", tmp_path)
    assert code == 2 and "no recording with this key under" in err


def test_diff(capsys, apirec_store):
    rows = json.loads(run(capsys, "ls", "--json", apirec_store)[1])
    a = next(r["path"] for r in rows if r["test_id"].endswith("test_a") and not r["error"])
    b = next(r["path"] for r in rows if r["test_id"].endswith("test_b"))
    code, out, _ = run(capsys, "diff", a, b)
    assert code == 1
    assert f"--- {a}" in out and f"+++ {b}" in out
    assert '-  "word": "llama"' in out and '+  "word": "alpaca"' in out
    assert "-test:      tests/test_x.py::test_a" in out
    assert run(capsys, "diff", a, a)[:2] == (0, "same recording content\n")


# -- prune / convert ------------------------------------------------------------------------


def test_prune_deletes_only_what_the_filters_match(capsys, apirec_store):
    code, _, err = run(capsys, "prune", apirec_store)
    assert code == 2 and "never deletes all" in err
    before = sorted(apirec_store.glob("*.json"))
    code, out, _ = run(capsys, "prune", apirec_store, "--test", "*::test_a", "--dry-run")
    assert code == 0 and "would delete 3 recordings" in out
    assert sorted(apirec_store.glob("*.json")) == before
    code, out, _ = run(capsys, "prune", apirec_store, "--test", "*::test_a")
    assert code == 0 and "deleted 3 recordings" in out
    left = [json.loads(p.read_text())["test_id"] for p in apirec_store.glob("*.json")]
    assert left == ["tests/test_x.py::test_b"]


@pytest.mark.parametrize(
    "argv, option",
    [
        (["--test", ""], "--test"),  # an unset shell variable: "$TEST_ID"
        (["--test", "   "], "--test"),
        (["--function", ""], "--function"),
        (["--function", "\t"], "--function"),
        (["--shared", "--function", ""], "--function"),
        (["--test", "*::test_a", "--function", " "], "--function"),
    ],
)
def test_prune_with_an_empty_pattern_is_a_usage_error_and_deletes_nothing(
    capsys, apirec_store, argv, option
):
    before = {p.name: p.read_bytes() for p in apirec_store.glob("*.json")}
    code, out, err = run(capsys, "prune", apirec_store, *argv)
    assert code == 2
    assert f"{option} is empty" in err
    assert "deleted" not in out
    assert {p.name: p.read_bytes() for p in apirec_store.glob("*.json")} == before


def test_convert_to_msgpack_round_trips_or_says_the_store_is_missing(
    capsys, apirec_store, tmp_path
):
    code, out, err = run(capsys, "convert", apirec_store, tmp_path / "packed", "--to", "msgpack")
    try:
        from apirec.record.settings import Settings
        from apirec.record.stored_answers import open_store

        open_store(Settings(path=tmp_path / "probe", store="msgpack"))
    except apirec.ApirecError:
        assert code == 1
        assert "cannot open" in err and "msgpack store" in err
        return
    assert code == 0 and "converted 4 recordings" in out
    back = tmp_path / "back"
    assert run(capsys, "convert", tmp_path / "packed", back, "--to", "json")[0] == 0
    originals = {p.name: p.read_bytes() for p in apirec_store.glob("*.json")}
    assert {p.name: p.read_bytes() for p in back.glob("*.json")} == originals


def test_convert_from_a_missing_source_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "convert", tmp_path / "nothing", tmp_path / "out", "--to", "json")
    assert code == 2 and "nothing: no such file or directory" in err


# -- exit codes and entry points ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["frob"], [], ["ls", "/no/such/dir"], ["verify"], ["convert", "a", "b"], ["diff", "x"]],
)
def test_usage_errors_exit_2(capsys, argv):
    assert main(argv) == 2


def test_python_dash_m_apirec(tmp_path):
    shutil.copy(SEED, tmp_path / SEED.name)
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "ls", "--json", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [r["key"] for r in json.loads(done.stdout)] == [SEED.stem]


def test_ls_from_a_project_root_skips_hidden_and_tool_directories(capsys, tmp_path):
    (tmp_path / "tests/recordings").mkdir(parents=True)
    shutil.copy(SEED, tmp_path / "tests/recordings" / SEED.name)
    for junk in (".venv/lib/site-packages/pkg", "node_modules/x", ".git"):
        (tmp_path / junk).mkdir(parents=True)
        (tmp_path / junk / "data.json").write_text("{}")
    code, out, err = run(capsys, "ls", tmp_path, "--json")
    assert (code, err) == (0, "")
    assert [r["key"] for r in json.loads(out)] == [SEED.stem]

    (tmp_path / "tests/recordings/notes.json").write_text('{"todo": 1}')
    code, out, err = run(capsys, "ls", tmp_path)
    assert code == 1
    assert "notes.json: 'response' must be an object, found null" in err
    assert out.splitlines()[-1].endswith("; 1 unreadable")


def test_verify_says_types_are_judged_with_only_the_trusted_modules(capsys):
    # "Types replay cannot rebuild here" read as a broken replay, for SDK types tests replay
    code, out, _ = run(capsys, "verify", "--trust", "ollama", FIXTURES / "seeds")
    assert code == 0
    assert "replay cannot rebuild here" not in out
    assert "judged in this process, which trusts only apirec and the modules --trust names" in out
    command = f"apirec verify {FIXTURES / 'seeds'} --trust ollama --trust openai"
    assert command in out
    assert main([*command.split()[1:], "--strict"]) == 0  # the command it gives works


def test_convert_to_msgpack_names_the_store_file_in_dst(capsys, tmp_path):
    # `convert corpus corpus.msgpack --to msgpack` made a directory where a file was expected,
    # without a word: DST is the store's directory, and the line names the file made in it
    dst = tmp_path / "packed"
    code, out, _ = run(capsys, "convert", FIXTURES / "seeds", dst, "--to", "msgpack")
    assert code == 0
    assert f"to {dst} (msgpack: {dst / 'recordings.apirec'})" in out
    assert (dst / "recordings.apirec").is_file()
