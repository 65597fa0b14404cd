"""``python -m apirec run -- COMMAND``: a real program (tests/run_app.py, the real openai client
against the loopback fake) records and replays with a recording opened in its process and in
every Python process it starts; answers survive SIGKILL; SIGTERM closes the recording and the
exit status is the program's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from apirec.stores.msgpack import MsgpackStore
from tests.openai_server import OpenAIServer

APP = Path(__file__).with_name("run_app.py")
KEY = "sk-test-run-0123456789abcdef"


def environment(server: OpenAIServer | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("APIREC_") and k not in ("OPENAI_API_KEY", "PYTHONPATH")
    }
    env["FAKE_OPENAI_URL"] = server.base_url if server else "http://127.0.0.1:9/v1"
    env.update(extra)
    return env


def command(
    mode: str | None, where: Path | None, *args: str, options: tuple[str, ...] = ()
) -> list[str]:
    argv = [sys.executable, "-m", "apirec", "run"]
    if mode:
        argv += ["--mode", mode]
    if where:
        argv += ["--dir", str(where)]
    return [*argv, "--integrations", "openai", *options, "--", str(APP), *args]


def run(
    mode: str | None,
    where: Path | None,
    *args: str,
    url: str,
    options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    base = env if env is not None else environment(None)
    base = {**base, "FAKE_OPENAI_URL": url}
    if mode == "record":
        base["OPENAI_API_KEY"] = KEY
    return subprocess.run(
        command(mode, where, *args, options=options),
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def stored(where: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(where.glob("*.json"))]


def answers(out: str) -> list[tuple[str, str]]:
    return sorted((d["text"], d["answer"]) for d in lines(out) if "answer" in d)


def test_a_program_records_then_replays_with_the_upstream_gone(tmp_path: Path) -> None:
    where = tmp_path / "recordings"
    server = OpenAIServer().start()
    try:
        recorded = run("record", where, "chat", "hello there", "good night", url=server.base_url)
        assert recorded.returncode == 0, recorded.stderr
        assert server.requests == 2
        url = server.base_url
    finally:
        server.stop()
    assert answers(recorded.stdout) == [
        ("good night", "You said: good night"),
        ("hello there", "You said: hello there"),
    ]
    entries = stored(where)
    assert len(entries) == 2
    assert all(e["test_id"] is None for e in entries)  # no test around these calls
    assert KEY not in "".join(p.read_text() for p in where.glob("*.json"))
    assert "2 recorded" in recorded.stderr

    # replay: the upstream is stopped, no key is set, the network is guarded
    replayed = run("replay", where, "chat", "hello there", "good night", url=url)
    assert replayed.returncode == 0, replayed.stderr
    assert answers(replayed.stdout) == answers(recorded.stdout)
    assert "2 replayed, 0 recorded, 0 live, 0 missed" in replayed.stderr


def test_python_children_record_and_replay_too(tmp_path: Path) -> None:
    where = tmp_path / "recordings"
    server = OpenAIServer().start()
    try:
        recorded = run("record", where, "children", "hi", url=server.base_url)
        assert recorded.returncode == 0, recorded.stderr
        url = server.base_url
    finally:
        server.stop()
    got = answers(recorded.stdout)
    assert got == [
        ("hi from a spawned child", "You said: hi from a spawned child"),
        ("hi from a subprocess", "You said: hi from a subprocess"),
    ]
    assert len({d["pid"] for d in lines(recorded.stdout)}) == 2  # two processes, not this one
    assert len(stored(where)) == 2

    replayed = run("replay", where, "children", "hi", url=url)
    assert replayed.returncode == 0, replayed.stderr
    assert answers(replayed.stdout) == got


def test_a_process_started_later_keeps_what_the_run_recorded_before_it(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    # record mode replaces the answers older than the recording; a child (a worker started
    # late) making the call its parent made must not drop the parent's answer
    where = tmp_path / "recordings"
    done = run("record", where, "then-child", "same call", url=openai_server.base_url)
    assert done.returncode == 0, done.stderr
    assert len({d["pid"] for d in lines(done.stdout)}) == 2
    assert len(stored(where)) == 2
    assert done.stderr.count(" 1 recorded") == 2


def test_options_fall_back_to_the_environment(tmp_path: Path, openai_server: OpenAIServer) -> None:
    env = environment(
        openai_server,
        APIREC_MODE="record",
        APIREC_DIR="from-env",
        APIREC_STORE="msgpack",
        APIREC_INTEGRATIONS="openai",
        OPENAI_API_KEY=KEY,
    )
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "run", "--", str(APP), "chat", "from the environment"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    store = MsgpackStore(tmp_path / "from-env")
    assert [e.split(":")[0] for _, _, e in store.entries()] != []
    assert "1 recorded" in done.stderr and "mode record" in done.stderr


def _wait_for(proc: subprocess.Popen[str], what: str) -> list[dict[str, Any]]:
    """The JSON lines the program printed up to the one holding ``what``."""
    assert proc.stdout is not None
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the program ended: {proc.wait()} {proc.stderr.read()}")  # type: ignore[union-attr]
        if line.startswith("{"):
            seen.append(json.loads(line))
            if what in seen[-1]:
                return seen
    raise AssertionError(f"no {what!r} line from the program")


def start(mode: str, where: Path, *args: str, url: str) -> subprocess.Popen[str]:
    env = environment(None, FAKE_OPENAI_URL=url, OPENAI_API_KEY=KEY)
    return subprocess.Popen(
        command(mode, where, *args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_an_answer_returned_survives_sigkill(tmp_path: Path) -> None:
    where = tmp_path / "recordings"
    server = OpenAIServer().start()
    proc = start("record", where, "hang", "kill me", url=server.base_url)
    try:
        seen = _wait_for(proc, "waiting")
        assert seen[0]["answer"] == "You said: kill me"
        proc.send_signal(signal.SIGKILL)  # no atexit, no finally: the answer must be on disk
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        url = server.base_url
        server.stop()
    assert len(stored(where)) == 1
    replayed = run("replay", where, "chat", "kill me", url=url)
    assert replayed.returncode == 0, replayed.stderr
    assert answers(replayed.stdout) == [("kill me", "You said: kill me")]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_closes_the_recording_and_the_status_is_the_programs(
    tmp_path: Path, signum: signal.Signals
) -> None:
    where = tmp_path / "recordings"
    server = OpenAIServer().start()
    # A test run started in the background by a non-interactive shell (`pytest ... &`)
    # ignores SIGINT, and so would every program it starts: this one must not.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = start("record", where, "stream-hang", "one two three", url=server.base_url)
    finally:
        signal.signal(signal.SIGINT, ignored)
    try:
        seen = _wait_for(proc, "waiting")
        assert "first" in seen[0]
        proc.send_signal(signum)
        # it still dies by the signal, as it would without apirec
        assert proc.wait(timeout=60) == -signum
        _, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
        url = server.base_url
        server.stop()
    # closing finished the stream the program left open: stored, whole
    assert "1 recorded" in err, err
    (entry,) = stored(where)
    assert entry["response"]["is_streaming"] is True
    assert "truncated" not in entry["response"]
    replayed = run("replay", where, "stream", "one two three", url=url)
    assert replayed.returncode == 0, replayed.stderr
    assert answers(replayed.stdout) == [("one two three", "You said: one two three")]


def test_the_exit_status_passes_through(tmp_path: Path, openai_server: OpenAIServer) -> None:
    done = run("record", tmp_path / "r", "exit", "3", "bye", url=openai_server.base_url)
    assert done.returncode == 3, done.stderr
    assert answers(done.stdout) == [("bye", "You said: bye")]


def test_a_replay_miss_raises_in_the_program_and_never_goes_out(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    where = tmp_path / "recordings"
    url = openai_server.base_url
    assert run("record", where, "chat", "recorded", url=url).returncode == 0
    before = openai_server.requests

    missed = run("replay", where, "chat", "not recorded", url=url)
    assert missed.returncode == 1
    (error,) = lines(missed.stdout)
    assert error["error"] == "RecordingNotFound"
    assert "No recording of openai.chat.completions.create()" in error["message"]
    assert "1 missed" in missed.stderr

    # a request no integration intercepts is refused by the network guard: the fake is a
    # host the recordings were recorded against
    raw = run("replay", where, "raw", url=url)
    (error,) = lines(raw.stdout)
    assert error["message"].startswith(
        f"apirec blocked a connection to 127.0.0.1:{openai_server.port}"
    )
    assert "1 blocked" in raw.stderr
    assert openai_server.requests == before
    # the guard follows APIREC_BLOCK_NETWORK, as in tests
    env = environment(openai_server, APIREC_BLOCK_NETWORK="off")
    allowed = run("replay", where, "raw", url=url, env=env)
    assert lines(allowed.stdout) == [{"status": 200}]


def test_calls_belong_to_the_test_of_their_context(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    where = tmp_path / "recordings"
    test_id = "tests/test_app.py::test_one"
    done = run("record", where, "as-test", test_id, "whose call", url=openai_server.base_url)
    assert done.returncode == 0, done.stderr
    (entry,) = stored(where)
    assert entry["test_id"] == test_id


def test_processes_writing_one_msgpack_store_at_once_lose_nothing(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    where = tmp_path / "recordings"
    done = run(
        "record", where, "parallel", "4", "text",
        url=openai_server.base_url, options=("--store", "msgpack"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(answers(done.stdout)) == 16
    store = MsgpackStore(where)
    assert len(list(store.entries())) == 16
    assert not store.damage if hasattr(store, "damage") else True
    replayed = run(
        "replay", where, "parallel", "4", "text",
        url=openai_server.base_url, options=("--store", "msgpack"),
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    assert answers(replayed.stdout) == answers(done.stdout)


def test_forked_children_writing_one_msgpack_store_corrupt_nothing(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    # a forked child inherits its parent's open store file; sharing that open file, it would
    # share the parent's flock too, and appends of the two would land on each other
    where = tmp_path / "recordings"
    options = ("--store", "msgpack")
    url = openai_server.base_url
    done = run("record", where, "forked", "3", "text", url=url, options=options)
    assert done.returncode == 0, done.stderr
    assert len(answers(done.stdout)) == 13
    assert len(list(MsgpackStore(where).entries())) == 13  # raises on a damaged file
    replayed = run("replay", where, "forked", "3", "text", url=url, options=options)
    assert replayed.returncode == 0, replayed.stderr
    assert answers(replayed.stdout) == answers(done.stdout)


def test_a_sitecustomize_already_there_still_runs(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    marker = tmp_path / "ran"
    # one line per process it runs in: the launcher's, and the program's (after the exec)
    (theirs / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'a').write('ran\\n')\n")
    env = environment(openai_server, PYTHONPATH=str(theirs))
    done = run("record", tmp_path / "r", "chat", "x", url=openai_server.base_url, env=env)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "ran\nran\n"
    assert len(stored(tmp_path / "r")) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--mode", "bogus"), "'bogus' is not a valid record mode (--mode)"),
        (("--store", "sqlite"), "'sqlite' is not a valid store (--store)"),
        (("--integrations", "nosuchsdk"), "'nosuchsdk' is not an SDK apirec knows"),
    ],
)
def test_bad_options_are_usage_errors(options: tuple[str, ...], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "run", *options, "--", str(APP), "chat", "x"],
        env=environment(None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.parametrize(
    ("python", "flag"),
    [(("-I",), "-I"), (("-E", "-u"), "-E"), (("-uS",), "-S"), (("-W", "error", "-IB"), "-I")],
)
def test_a_python_that_would_skip_the_bootstrap_is_refused(
    python: tuple[str, ...], flag: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "run", "--", sys.executable, *python, str(APP), "x"],
        env=environment(None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"COMMAND starts Python with {flag}, which skips PYTHONPATH or site" in done.stderr


def test_a_python_without_apirec_is_refused(tmp_path: Path) -> None:
    # without apirec, the program would run with no recording: a replay would go live
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bare = venv / "bin" / "python"
    script = tmp_path / "tool"  # a console script of that environment
    script.write_text(f"#!{bare}\nprint('hi')\n")
    script.chmod(0o755)
    for program in ([str(bare), str(APP), "chat", "x"], [str(script)]):
        done = subprocess.run(
            [sys.executable, "-m", "apirec", "run", "--", *program],
            env=environment(None),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert f"COMMAND runs in {bare}, which cannot import apirec" in done.stderr
        assert "(ModuleNotFoundError: No module named " in done.stderr, done.stderr


def test_other_python_options_are_fine() -> None:
    from apirec.servers.launcher import site_skipped

    assert site_skipped(["python3", "-W", "ignore", "-X", "dev", "-u", "app.py", "-I"]) is None
    assert site_skipped(["python3.11", "-c", "-I"]) is None
    assert site_skipped(["uvicorn", "-I"]) is None
    assert site_skipped(["/venv/bin/python", "-Wignore", "-mI"]) is None


def test_no_command_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "run", "--mode", "replay"],
        env=environment(None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no COMMAND given" in done.stderr


def test_a_call_blocked_for_want_of_its_sdks_patch_is_named_on_stderr_once(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    where = tmp_path / "recordings"
    url = openai_server.base_url
    assert run("record", where, "chat", "recorded", url=url).returncode == 0
    before = openai_server.requests
    # replayed without --integrations: the SDK is not patched, its calls reach the guard
    argv = [sys.executable, "-m", "apirec", "run", "--mode", "replay", "--dir", str(where)]
    unpatched = subprocess.run(
        [*argv, "--", str(APP), "each", "recorded", "again"],
        env=environment(openai_server, OPENAI_API_KEY=KEY),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert [e.get("error") for e in lines(unpatched.stdout)] == ["APIConnectionError"] * 2
    said = [
        line
        for line in unpatched.stderr.splitlines()
        if f"blocked 127.0.0.1:{openai_server.port}" in line
    ]
    assert len(said) == 1, unpatched.stderr  # once per host, however often it is tried
    assert said[0].startswith("apirec run [pid ")
    assert "--integrations: none" in said[0]
    assert "patch it: apirec run --integrations <sdk>" in said[0]
    assert "2 blocked" in unpatched.stderr
    assert openai_server.requests == before
