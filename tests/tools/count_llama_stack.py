"""How many recordings of llama-stack's (OGX's) suite apirec finds under its own name.

Not run in CI: point it at a checkout of github.com/llamastack/llama-stack and it reads every
``tests/integration/**/recordings/*.json``, recomputes the keys apirec looks a call up under
(:mod:`apirec.integrations.llama_stack_rules`, newest formula first) from the request stored in
the file, and counts the files whose name is one of them, per kind of call::

    python -m tests.tools.count_llama_stack /path/to/llama-stack [--misses]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any

from apirec.integrations.llama_stack_rules import (
    FORMULAS,
    http_keys,
    inference_key,
    inference_keys,
    tool_key,
)


def kind_and_keys(entry: dict[str, Any]) -> tuple[str, list[str]]:
    """The kind of call a recording holds and the keys apirec tries for it, in order."""
    request = entry.get("request") or {}
    test_id = entry.get("test_id")
    if "tool_name" in request:
        return f"tool {request.get('provider')}", [
            tool_key(request.get("provider", ""), request["tool_name"], request.get("kwargs"))
        ]
    if "payload" in request:
        url = str(request.get("url", ""))
        kind = "rerank" if "/rerank" in url else url.rsplit("/", 1)[-1].split(":")[0]
        return f"http {kind}", http_keys(
            url, request.get("method", "POST"), request["payload"], request.get("test_id", test_id)
        )
    if "provider" in request:  # pypdf's file processor: never replayed since 5d63477df
        return "file processor (not replayed upstream)", []
    if "url" in request and "body" in request:
        endpoint = str(request.get("endpoint"))
        return f"{request.get('method', 'POST')} {endpoint}", inference_keys(
            request.get("method", "POST"), request["url"], request["body"], test_id
        )
    return "other", []


def found(path: Path, keys: list[str]) -> bool:
    """Whether ``path`` is named by one of ``keys`` (model lists: ``models-<key>-<digest>``)."""
    stem = path.stem
    return (stem.split("-")[1] if stem.startswith("models-") else stem) in keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--misses", action="store_true", help="list the files not found")
    args = parser.parse_args(argv)
    files = sorted(args.checkout.glob("tests/integration/**/recordings/**/*.json"))
    totals: collections.Counter[str] = collections.Counter()
    hits: collections.Counter[str] = collections.Counter()
    by_formula: collections.Counter[str] = collections.Counter()
    misses = []
    for path in files:
        entry = json.loads(path.read_text())
        kind, keys = kind_and_keys(entry)
        totals[kind] += 1
        if found(path, keys):
            hits[kind] += 1
            by_formula[_formula_of(path, entry)] += 1
        else:
            misses.append((kind, path))
    print(f"{'kind':<40} {'files':>6} {'found':>6}")
    for kind, total in totals.most_common():
        print(f"{kind:<40} {total:>6} {hits[kind]:>6}")
    print(f"{'all':<40} {sum(totals.values()):>6} {sum(hits.values()):>6}")
    print("inference files found per formula:", dict(by_formula))
    if args.misses:
        for kind, path in misses:
            print(f"miss  {kind:<32} {path.relative_to(args.checkout)}")
    return 0


def _formula_of(path: Path, entry: dict[str, Any]) -> str:
    request = entry.get("request") or {}
    if "body" not in request or "url" not in request:
        return "http/tool"
    stem = path.stem.split("-")[1] if path.stem.startswith("models-") else path.stem
    for formula in FORMULAS:
        key = inference_key("POST", request["url"], request["body"], entry.get("test_id"), formula)
        if key == stem:
            return formula.version
    return "?"


if __name__ == "__main__":
    sys.exit(main())
