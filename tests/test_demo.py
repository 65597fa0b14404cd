import subprocess
import sys

from apirec.cli.app import main


def test_python_m_apirec_demo_records_then_replays_offline():
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "demo"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "demo.web_search" in out and "demo.chat" in out
    assert "replayed objects equal the recorded ones: True" in out
    assert "API key stored anywhere: False" in out
    # one row per call, with a 32-hex key and both timings
    rows = [line.split() for line in out.splitlines() if line.startswith("demo.")]
    assert len(rows) == 2
    for row in rows:
        assert len(row[1]) == 32 and int(row[1], 16) >= 0
        assert row[2].endswith("ms") and row[3].endswith("ms")


def test_cli_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
