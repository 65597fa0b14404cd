"""The ``apirec`` command line's arguments, built with argparse alone.

Nothing here imports a command, a store or the codec: ``apirec --help`` and a mistyped option
cost the interpreter's start and ``import apirec``, and each command's module is imported only
when it runs (:mod:`apirec.cli.app`).
"""

from __future__ import annotations

import argparse


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="apirec", description="Record and replay function calls.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="record two slow calls, then replay them offline")

    ls = commands.add_parser("ls", help="list recordings: function, test, key, kind, age, size")
    ls.add_argument("path", nargs="?", default=".", help="directory (searched recursively) or file")
    _filters(ls)
    _age_filters(ls)
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

    scan = commands.add_parser("scan", help="find secret-shaped values in recordings (exit 1)")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="directories or files")
    scan.add_argument("--json", action="store_true", help="one JSON list, for scripts")
    return parser


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--function", metavar="PATTERN", help="substring, or glob with * ? [")
    parser.add_argument("--test", metavar="PATTERN", help="test id: substring, or glob")


def _age_filters(parser: argparse.ArgumentParser) -> None:
    # parsed by apirec.cli.ages.AgeFilter when the command runs
    parser.add_argument(
        "--older-than", metavar="AGE", help="only recordings older than AGE (30d, 12h, 90m)"
    )
    parser.add_argument("--newer-than", metavar="AGE", help="only recordings younger than AGE")
