"""The ``apirec`` command line (also ``python -m apirec``).

Exit codes: 0 ok, 1 problems found, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from apirec.cli.ages import add_filters as add_age_filters
from apirec.cli.common import USAGE, UsageError, error
from apirec.errors import StoreError

Command = Callable[[argparse.Namespace], int]


def _commands() -> dict[str, Command]:
    from apirec.cli import drift, inspect, maintain, repair, run, scan, verify

    return {
        "ls": inspect.ls,
        "show": inspect.show,
        "diff": inspect.diff,
        "verify": verify.verify,
        "repair": repair.repair,
        "prune": maintain.prune,
        "convert": maintain.convert,
        "drift": drift.drift,
        "scan": scan.scan,
        "run": run.run,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="apirec", description="Record and replay function calls.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="record two slow calls, then replay them offline")
    demo.add_argument(
        "--keep", metavar="DIR", help="write the recordings to DIR (new or empty) and keep them"
    )

    ls = commands.add_parser("ls", help="list recordings: function, test, key, kind, age, size")
    ls.add_argument("path", nargs="?", default=".", help="directory (searched recursively) or file")
    _filters(ls)
    add_age_filters(ls)
    ls.add_argument("--json", action="store_true", help="one JSON list, for scripts")

    show = commands.add_parser("show", help="one recording, decoded for reading")
    show.add_argument("target", metavar="KEY|FILE")
    show.add_argument("--dir", default=".", help="where to look for KEY (default: .)")
    show.add_argument("--full", action="store_true", help="do not shorten stream chunks")
    show.add_argument("--json", action="store_true", help="the stored JSON as it is")

    diff = commands.add_parser("diff", help="what differs between two recordings (exit 1)")
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    diff.add_argument("--dir", default=".", help="where to look for keys (default: .)")
    diff.add_argument("-U", "--context", type=int, default=3, help="lines of context")

    verify = commands.add_parser("verify", help="decode every recording as replay would")
    verify.add_argument("path", metavar="DIR")
    verify.add_argument("--trust", action="append", metavar="PKG", help="may import PKG")
    verify.add_argument("--strict", action="store_true", help="unresolved types fail too")

    repair = commands.add_parser(
        "repair", help="rewrite damaged msgpack stores without the damage, keeping a backup"
    )
    repair.add_argument("path", metavar="DIR", help="msgpack stores under DIR, recursively")

    drift = commands.add_parser(
        "drift", help="check recordings against the classes installed now (exit 1: broken)"
    )
    drift.add_argument("path", metavar="DIR", help="JSON files and msgpack stores, recursively")
    drift.add_argument("--trust", action="append", metavar="PKG", help="check PKG's types")
    drift.add_argument("--json", action="store_true", help="one JSON report, for scripts")

    prune = commands.add_parser("prune", help="delete the recordings matching the filters")
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

    convert = commands.add_parser("convert", help="copy a store into the other format")
    convert.add_argument("src", metavar="SRC")
    convert.add_argument("dst", metavar="DST")
    convert.add_argument("--to", choices=["json", "msgpack"], required=True)

    from apirec.cli.scan import add_parser as add_scan

    add_scan(commands)
    from apirec.cli.run import add_parser as add_run

    add_run(commands)
    return parser


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--function", metavar="PATTERN", help="substring, or glob with * ? [")
    parser.add_argument("--test", metavar="PATTERN", help="test id: substring, or glob")


def _demo_directory(keep: str) -> Path:
    """The demo writes only to a new or empty directory: it never mixes with recordings."""
    directory = Path(keep)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(f"demo --keep {keep}: give a new or empty directory")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if args.command == "demo":
        from apirec.demo import run

        try:
            return run(_demo_directory(args.keep) if args.keep else None)
        except UsageError as e:
            error(str(e))
            return USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        return _commands()[args.command](args)
    except UsageError as e:
        error(str(e))
        return USAGE
    except StoreError as e:
        error(str(e))
        return 1
    except BrokenPipeError:  # `apirec ls | head`
        sys.stderr.close()
        return 0
