import shlex
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
    # the directory it names is gone when it exits: it says so, and how to keep one
    first = out.splitlines()[0]
    assert "temporary directory deleted on exit" in first and "--keep DIR" in first, first


def test_cli_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["no-such-command"]) == 2


def test_demo_keep_leaves_recordings_the_cli_can_read(tmp_path):
    kept = tmp_path / "demo recordings"
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "demo", "--keep", str(kept)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(sorted(kept.glob("*.json"))) == 2
    # the commands it prints work when pasted (the path has a space: quoted)
    commands = [line.strip() for line in done.stdout.splitlines() if line.startswith("  apirec ")]
    assert len(commands) == 2
    for command in commands:
        shown = subprocess.run(
            [sys.executable, "-m", *shlex.split(command)], capture_output=True, text=True
        )
        assert shown.returncode == 0, (command, shown.stderr)
        assert "demo." in shown.stdout


def test_demo_keep_refuses_a_directory_that_holds_files(tmp_path, capsys):
    (tmp_path / "mine.json").write_text("{}")
    assert main(["demo", "--keep", str(tmp_path)]) == 2
    assert "new or empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.json"]
