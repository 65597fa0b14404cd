"""The ``apirec`` command line's arguments, built with argparse alone.

Nothing here imports a command, a store or the codec: ``apirec --help`` and a mistyped option
cost the interpreter's start and ``import apirec``, and each command's module is imported only
when it runs (:mod:`apirec.cli.app`).
"""

from __future__ import annotations

import argparse
from typing import Any

# command -> what it does (its line in `apirec --help`, the first of `apirec COMMAND --help`)
# and an example to copy
ABOUT = {
    "demo": ("record two slow calls, then replay them offline", "apirec demo"),
    "ls": (
        "list recordings: function, test, key, kind, error, tokens, time it took live, age, size",
        "apirec ls tests/recordings --function 'openai.chat.*'",
    ),
    "show": ("one recording, decoded for reading", "apirec show 5d86152f --dir tests/recordings"),
    "diff": (
        "what differs between two recordings (exit 1)",
        "apirec diff 5d86152f dd8c0bb6 --dir tests/recordings",
    ),
    "verify": (
        "decode every recording as replay would (exit 1: problems)",
        "apirec verify tests/recordings --trust openai",
    ),
    "repair": (
        "rewrite damaged msgpack stores without the damage, keeping a backup",
        "apirec repair tests/recordings",
    ),
    "drift": (
        "check recordings against the classes installed now (exit 1: broken)",
        "apirec drift tests/recordings --trust openai",
    ),
    "prune": (
        "delete the recordings matching the filters",
        "apirec prune tests/recordings --test 'tests/test_chat.py::test_old*' --dry-run",
    ),
    "convert": (
        "copy a store into the other format",
        "apirec convert tests/recordings /tmp/recordings-json --to json",
    ),
    "scan": (
        "find secret-shaped values in recordings (exit 1: some found)",
        "apirec scan tests/recordings",
    ),
    "stats": (
        "what the recorded calls took live and spent: calls, seconds, tokens (and cost)",
        "apirec stats tests/recordings --by model --prices prices.toml",
    ),
    "push": (
        "upload the objects recordings refer to that the remote store lacks",
        "apirec push tests/recordings --remote s3://my-bucket/apirec --jobs 16",
    ),
    "pull": (
        "fetch every object the recordings refer to into the local cache (exit 1: missing)",
        "apirec pull tests/recordings --jobs 16",
    ),
    "gc": (
        "delete a remote store's objects that no recording or usage report refers to",
        "apirec gc s3://my-bucket/apirec tests/recordings --usage main.json pr.json --dry-run",
    ),
    "run": (
        "run a program with a recording active in it and its Python children",
        "apirec run --mode record --integrations openai -- uvicorn app:app",
    ),
}

RUN_DESCRIPTION = """\
Run COMMAND (python app.py, app.py, -m module, uvicorn app:app, a console script) with one
process-wide recording open in it and in every Python process it starts, the SDKs given by
--integrations patched into it. Each option falls back to an environment variable:
APIREC_MODE (else replay), APIREC_DIR (else ./recordings), APIREC_STORE (else json),
APIREC_INTEGRATIONS (comma-separated, else none); a replay blocks the network as in tests
(APIREC_BLOCK_NETWORK, APIREC_ALLOW_HOSTS). The exit status is COMMAND's.
"""


def build() -> argparse.ArgumentParser:
    from apirec import __version__

    parser = argparse.ArgumentParser(
        prog="apirec",
        description="Record and replay function calls.",
        epilog="apirec COMMAND --help says more about each command.",
    )
    parser.add_argument("--version", action="version", version=f"apirec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = _command(commands, "demo")
    demo.add_argument(
        "--keep", metavar="DIR", help="write the recordings to DIR (new or empty) and keep them"
    )

    ls = _command(commands, "ls")
    ls.add_argument(
        "path",
        nargs="?",
        help="directory (searched recursively) or file (default: every recordings/ directory "
        "under .)",
    )
    _filters(ls)
    _age_filters(ls)
    ls.add_argument("--json", action="store_true", help="one JSON list, for scripts")

    show = _command(commands, "show")
    show.add_argument("target", metavar="KEY|FILE")
    show.add_argument("--dir", default=".", help="where to look for KEY (default: .)")
    show.add_argument("--full", action="store_true", help="do not shorten stream chunks")
    show.add_argument("--json", action="store_true", help="the stored JSON as it is")
    show.add_argument(
        "--remote",
        metavar="URL",
        help="where a body kept remotely is fetched from (default: the ini key apirec_remote "
        "of the pytest configuration above the recording, then APIREC_REMOTE)",
    )

    diff = _command(commands, "diff")
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    diff.add_argument("--dir", default=".", help="where to look for keys (default: .)")
    diff.add_argument("-U", "--context", type=int, default=3, help="lines of context")
    _remote(diff, "where a body kept remotely is fetched from, when not in the local cache")

    verify = _command(commands, "verify")
    _quiet(verify)
    verify.add_argument("path", metavar="DIR")
    verify.add_argument("--trust", action="append", metavar="PKG", help="may import PKG")
    verify.add_argument("--strict", action="store_true", help="unresolved types fail too")
    _remote(verify, "where objects not in the local cache are checked")

    repair = _command(commands, "repair")
    repair.add_argument("path", metavar="DIR", help="msgpack stores under DIR, recursively")

    drift = _command(commands, "drift")
    _quiet(drift)
    drift.add_argument("path", metavar="DIR", help="JSON files and msgpack stores, recursively")
    drift.add_argument("--trust", action="append", metavar="PKG", help="check PKG's types")
    drift.add_argument("--json", action="store_true", help="one JSON report, for scripts")
    _remote(drift, "where a body kept remotely is fetched from, when not in the local cache")

    prune = _command(commands, "prune")
    _quiet(prune)
    prune.add_argument("path", metavar="DIR")
    _filters(prune)
    prune.add_argument("--shared", action="store_true", help="only shared (test-less) ones")
    prune.add_argument(
        "--usage",
        nargs="+",
        metavar="REPORT",
        help="usage reports of pytest --apirec-usage (one per shard): only what no report "
        "used, of tests some report ran in full",
    )
    prune.add_argument(
        "--rootdir",
        default=".",
        metavar="DIR",
        help="the pytest rootdir the reports' paths are relative to (default: .)",
    )
    prune.add_argument("-n", "--dry-run", action="store_true", help="list, delete nothing")

    convert = _command(commands, "convert")
    _quiet(convert)
    convert.add_argument("src", metavar="SRC")
    convert.add_argument("dst", metavar="DST")
    convert.add_argument("--to", choices=["json", "msgpack"], required=True)
    _remote(convert, "the remote store the recordings' references name")
    convert.add_argument(
        "--upload",
        action="store_true",
        help="move the payloads over 64 KiB kept locally (blobs/, large bytes and answer "
        "bodies) to the remote store, as a run with the remote stores them",
    )

    scan = _command(commands, "scan")
    _quiet(scan)
    scan.add_argument("paths", nargs="+", metavar="PATH", help="directories or files")
    scan.add_argument("--json", action="store_true", help="one JSON list, for scripts")
    _remote(scan, "where a body kept remotely is fetched from, when not in the local cache")

    stats = _command(commands, "stats")
    stats.add_argument("paths", nargs="+", metavar="DIR", help="directories or files")
    stats.add_argument(
        "--by", choices=["test", "function", "model"], default="function", help="group by"
    )
    stats.add_argument(
        "--prices", metavar="FILE", help="a TOML or JSON table of dollars per million tokens"
    )
    stats.add_argument("--json", action="store_true", help="one JSON report, for scripts")

    for name, verb, towards in (("push", "upload", "to"), ("pull", "fetch", "from")):
        transfer = _command(commands, name)
        _quiet(transfer)
        transfer.add_argument(
            "paths", nargs="+", metavar="DIR", help="recordings under DIR, recursively"
        )
        _remote(transfer, f"the remote store to {verb} {towards}")
        _jobs(transfer, f"objects to {verb} at once")
        if name == "push":
            transfer.add_argument(
                "--check",
                action="store_true",
                help="read back each object the remote has and replace it if it is altered",
            )

    gc = _command(commands, "gc")
    _quiet(gc)
    gc.add_argument("remote", metavar="REMOTE", help="the remote store's URL")
    gc.add_argument(
        "paths",
        nargs="*",
        metavar="DIR",
        help="checkouts' recordings whose objects stay (also accepted after --usage)",
    )
    gc.add_argument(
        "--usage",
        nargs="+",
        default=[],
        metavar="REPORT",
        help="usage reports of pytest --apirec-usage (one per branch or shard): their objects "
        "stay, and so does every object stored after the oldest report's run began",
    )
    gc.add_argument(
        "--min-age",
        default="1h",
        type=_age("--min-age", zero=True),
        metavar="AGE",
        help="keep objects stored less than AGE ago (default: 1h): a run recording now "
        "uploads them before its recordings are anywhere",
    )
    gc.add_argument("-n", "--dry-run", action="store_true", help="list, delete nothing")
    _jobs(gc, "objects to delete at once")

    what, example = ABOUT["run"]
    run = commands.add_parser(
        "run",
        help=what,
        description=what[0].upper() + what[1:] + ".",
        usage="apirec run [--mode M] [--dir DIR] [--store S] [--integrations a,b] -- COMMAND...",
        epilog=f"{RUN_DESCRIPTION}\nexample:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--mode", type=_mode, help="live, record, replay, record-if-missing")
    run.add_argument("--dir", help="the recordings directory (from here)")
    run.add_argument("--store", type=_store, help="json or msgpack")
    run.add_argument(
        "--integrations",
        action="append",
        type=_integrations,
        metavar="a,b",
        help="SDKs to patch (repeatable)",
    )
    run.add_argument("program", nargs=argparse.REMAINDER, metavar="COMMAND")
    return parser


def _command(commands: Any, name: str) -> argparse.ArgumentParser:
    what, example = ABOUT[name]
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=what,
        description=what[0].upper() + what[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress line on the terminal (stderr)"
    )


def _remote(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--remote",
        metavar="URL",
        help=f"{what} (default: apirec_remote in the pytest ini file, then APIREC_REMOTE)",
    )


def _jobs(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "-j", "--jobs", type=_positive, default=8, metavar="N", help=f"{what} (default: 8)"
    )


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return n


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--function",
        metavar="PATTERN",
        help="the function's name or its end after a '.' (openai.chat.completions.create, "
        "completions.create), or a glob ('openai.chat.*')",
    )
    parser.add_argument(
        "--test",
        metavar="PATTERN",
        help="as pytest takes it: a node id or its end (test_one, test_a.py::test_one), a "
        "test file, a directory, or a glob with * and ? ('[' is literal)",
    )


def _age_filters(parser: argparse.ArgumentParser) -> None:
    # checked here, read by apirec.cli.ages.AgeFilter when the command runs
    parser.add_argument(
        "--older-than",
        type=_age("--older-than"),
        metavar="AGE",
        help="only recordings older than AGE (30d, 12h, 90m)",
    )
    parser.add_argument(
        "--newer-than",
        type=_age("--newer-than"),
        metavar="AGE",
        help="only recordings younger than AGE",
    )


# Values checked when the arguments are parsed (a usage error, exit 2, as a bad choice is),
# by the same functions the commands use when they run; each returns the text as given.
# Their modules are imported only when the option is given.


def _age(option: str, zero: bool = False) -> Any:
    def check(text: str) -> str:
        from apirec.record.expiry import parse_max_age

        if not (zero and text.strip() == "0"):  # gc's --min-age 0 needs no unit
            try:
                parse_max_age(text, option)
            except ValueError as e:
                raise argparse.ArgumentTypeError(str(e).removeprefix(f"{option}: ")) from None
        return text

    return check


def _mode(text: str) -> str:
    from apirec.record.modes import parse_mode

    try:
        parse_mode(text, source="--mode")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _store(text: str) -> str:
    from apirec.servers.run_settings import check_store

    try:
        return check_store(text, text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _integrations(text: str) -> str:
    from apirec.integrations.registry import module_for
    from apirec.record.settings import split_hosts

    try:
        for name in split_hosts(text):
            module_for(name)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text
