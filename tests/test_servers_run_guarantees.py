"""``python -m apirec run`` with real processes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.openai_server import OpenAIServer
from tests.test_servers_run import APP, environment, stored

SWALLOW = """
import time
print("ready", flush=True)
while True:
    try:
        time.sleep(0.1)
    except BaseException as e:  # a server loop that survives anything
        print("swallowed", type(e).__name__, flush=True)
"""


def _ends_on_sigterm(argv: list[str]) -> int | None:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=environment(None))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_sigterm_still_ends_a_program_that_catches_every_exception(tmp_path: Path) -> None:
    """docs/servers.md: "otherwise apirec closes the recording and the process still ends by
    the signal". apirec turns SIGTERM into SystemExit, which such a program swallows: it
    never ends (a fixture's ``server.terminate(); server.wait()`` hangs)."""
    program = tmp_path / "swallow.py"
    program.write_text(SWALLOW)
    assert _ends_on_sigterm([sys.executable, str(program)]) == -signal.SIGTERM  # bare
    run_argv = [
        sys.executable,
        "-m",
        "apirec",
        "run",
        "--mode",
        "record",
        "--dir",
        str(tmp_path / "rec"),
        "--",
        str(program),
    ]
    assert _ends_on_sigterm(run_argv) == -signal.SIGTERM


CLEARED_CHILD = """
import os, subprocess, sys
# a Python child with a minimal environment of its own (a common way to start a worker)
env = {"PATH": os.environ["PATH"], "FAKE_OPENAI_URL": os.environ["FAKE_OPENAI_URL"],
       "OPENAI_API_KEY": "sk-from-the-child"}
argv = [sys.executable, sys.argv[1], "chat", "never recorded"]
sys.exit(subprocess.run(argv, env=env).returncode)
"""


def test_replay_never_goes_live_from_a_python_child_with_its_own_environment(
    tmp_path: Path,
) -> None:
    """docs/servers.md "Replay is replay": in replay mode a call with no recording raises
    RecordingNotFound. A Python child started with an environment of its own (no
    PYTHONPATH, no APIREC_RUN) has no recording and no guard, says nothing, and its call
    reaches the upstream live; ``apirec run`` exits 0."""
    program = tmp_path / "parent.py"
    program.write_text(CLEARED_CHILD)
    where = tmp_path / "recordings"
    where.mkdir()
    server = OpenAIServer().start()
    try:
        env = {**environment(server), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "apirec",
                "run",
                "--mode",
                "replay",
                "--dir",
                str(where),
                "--integrations",
                "openai",
                "--",
                str(program),
                str(APP),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        reached = server.requests
    finally:
        server.stop()
    assert reached == 0, (done.returncode, done.stdout, done.stderr)
    # the child had the recording: its call missed, loudly
    assert done.returncode != 0 and "RecordingNotFound" in done.stdout, done.stdout


class _HangingStream:
    """An OpenAI-compatible upstream on 127.0.0.1 that sends one chunk of a streamed chat
    answer and then stalls (a provider that hangs mid-stream)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stop = self.stop_event = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "m",
                    "choices": [
                        {"index": 0, "delta": {"content": "first "}, "finish_reason": None}
                    ],
                }
                data = f"data: {__import__('json').dumps(chunk)}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                stop.wait(120)  # never sends the rest

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def close(self) -> None:
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()


def test_sigterm_with_a_stream_half_read_from_a_stalled_upstream_ends_within_the_bound(
    tmp_path: Path,
) -> None:
    """docs/servers.md: on SIGTERM "a stream the server left open is read to its end (within
    the usual bounds) and stored" and the process ends by the signal. The bound's seconds are
    only checked between chunks: a read blocked on a stalled upstream holds the exit for the
    SDK's whole read timeout (openai: 600 s)."""
    upstream = _HangingStream()
    where = tmp_path / "recordings"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apirec",
            "run",
            "--mode",
            "record",
            "--dir",
            str(where),
            "--integrations",
            "openai",
            "--",
            str(APP),
            "stream-hang",
            "stalls",
        ],
        env={
            **environment(None),
            "FAKE_OPENAI_URL": upstream.base_url,
            "OPENAI_API_KEY": "sk-test-run-0123456789abcdef",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and '"waiting"' not in proc.stdout.readline():
            pass
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            status = None
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
        upstream.close()
    assert status == -signal.SIGTERM, err
    # the stream could not be finished within the bound: said, and never stored as complete
    assert "not stored: openai.chat.completions.create" in err, err
    for entry in stored(where):
        assert not entry["response"].get("is_streaming") or "truncated" in entry["response"]


def test_a_console_script_whose_shebang_skips_the_bootstrap_is_refused(tmp_path: Path) -> None:
    """docs/servers.md: a ``python -I``, ``-E`` or ``-S`` COMMAND "is a usage error, exit code
    2, before anything runs" (it would run with no recording, and a replay would go live). The
    launcher reads a console script's ``#!`` line to find its Python, but not the options on
    it: a script whose shebang says ``-E`` runs with no recording, and replays go live."""
    script = tmp_path / "serve"
    script.write_text(f"#!{sys.executable} -E\n" + APP.read_text())
    script.chmod(0o755)
    where = tmp_path / "recordings"
    where.mkdir()
    server = OpenAIServer().start()
    try:
        env = {
            **environment(server),
            "OPENAI_API_KEY": "sk-set-in-the-environment",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "apirec",
                "run",
                "--mode",
                "replay",
                "--dir",
                str(where),
                "--integrations",
                "openai",
                "--",
                str(script),
                "chat",
                "never recorded",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        reached = server.requests
    finally:
        server.stop()
    assert (done.returncode, reached) == (2, 0), (done.stdout, done.stderr)


def test_interpreter_options_are_read_through_env_and_options_that_take_a_value() -> None:
    from apirec.servers.launcher import site_skipped

    py = sys.executable
    assert site_skipped(["/usr/bin/env", "python", "-I", "app.py"]) == "-I"
    assert site_skipped([py, "--check-hash-based-pycs", "default", "-I", "app.py"]) == "-I"
    assert site_skipped([py, "--check-hash-based-pycs=default", "-uE", "app.py"]) == "-E"
    assert site_skipped(["env", "-u", "PYTHONPATH", py, "app.py"]) == "env -u PYTHONPATH"
    assert site_skipped(["env", "-i", py, "app.py"]) is not None
    assert site_skipped(["env", "PYTHONPATH=/elsewhere", py, "app.py"]) is not None
    assert site_skipped(["env", "-S", f"{py} -S", "app.py"]) == "-S"
    # values are not options: the script's own arguments, -W/-X values, -c code
    assert site_skipped(["env", "-C", "/tmp", "FOO=1", py, "-X", "dev", "app.py", "-I"]) is None
    assert site_skipped([py, "--check-hash-based-pycs", "default", "app.py", "-E"]) is None


def test_env_with_an_option_that_skips_the_bootstrap_is_refused_before_it_runs(
    tmp_path: Path,
) -> None:
    env_program = shutil.which("env")
    assert env_program is not None
    for argv in (
        [env_program, sys.executable, "-I", str(APP), "chat", "x"],
        [sys.executable, "--check-hash-based-pycs", "default", "-I", str(APP), "chat", "x"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "apirec", "run", "--dir", str(tmp_path), "--", *argv],
            env=environment(None),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert "-I" in done.stderr and not done.stdout
