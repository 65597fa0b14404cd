"""The one matcher of ``--test`` and ``--function`` patterns (ls, prune and the rest): names,
node ids, test files, directories, and globs over them; never a substring."""

from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache


def test_matches(test_id: str | None, pattern: str | None) -> bool:
    """Whether the node id ``test_id`` is ``pattern``, as pytest would take it:

    - a node id, whole or its end after a ``/`` or ``::`` (``test_one``,
      ``test_a.py::test_one``, ``TestA::test_one[x]``), exactly; without ``[...]`` it is
      every parametrized instance too (``test_p`` is ``test_p[one]``, not ``test_p1``);
    - a glob over the same: ``*`` and ``?`` only, matched one ``::`` part at a time, so ``*``
      never crosses ``::`` (``test_week*`` is no test of ``test_weekly.py``), except a last
      ``::*``, which is every test below (``test_a.py::*`` covers ``TestK::test_two``);
      ``[`` and ``]`` are literal, as in pytest's parametrized ids (``test_add[1-2]`` is
      that test, not ``test_add1``);
    - a class's node id (``tests/t.py::TestK``, nested ``TestA::TestB``): every test in it;
    - a test file (ending in ``.py``): every test in it; a directory (a path that is no node
      id, ``tests``, ``tests/unit`` or ``tests/unit/``): every test under it;
    - a path's part is normalised as pytest does (``./tests``, ``tests//unit``,
      ``a/../a/t.py``; an absolute path is taken from the current directory).

    A pattern with a ``/`` is a path from the root: only the whole id
    (``tests/t.py::test_x`` is not ``integration/tests/t.py::test_x``).
    """
    if pattern is None:
        return True
    if test_id is None:  # a shared recording has no test: only --shared selects it
        return False
    pattern = _normalised(pattern)
    file = test_id.split("::", 1)[0]
    is_path = "/" in pattern.split("[", 1)[0]
    if "::" not in pattern and "[" not in pattern and pattern.endswith(".py"):
        return _glob(file if is_path else file.rsplit("/", 1)[-1], pattern)
    if is_path:
        if _node_matches(test_id, pattern) or _in_class(test_id, pattern):
            return True
        return "::" not in pattern and _in_directory(file, pattern)
    if "::" not in pattern and "[" not in pattern and _in_directory(file, pattern):
        return True  # a directory at the root, as pytest takes it (tests)
    return any(_node_matches(t, pattern) for t in _tails(test_id, ("/", "::")))


def _normalised(pattern: str) -> str:
    """The path part of ``pattern`` (before ``::``) as pytest takes it: ``./tests``,
    ``tests//unit``, ``tests/unit/../unit`` and ``tests/`` are ``tests``, ``tests/unit``...;
    an absolute path is taken from the current directory (the rootdir, where node ids start)."""
    path, sep, rest = pattern.partition("::")
    if "[" in path or not ("/" in path or path.startswith(".")):  # test_p[a/b]: no path
        return pattern
    if os.path.isabs(path):
        path = os.path.relpath(path)
    return os.path.normpath(path) + sep + rest


def _in_class(node_id: str, pattern: str) -> bool:
    """``pattern`` is a class's node id (``t.py::TestK``, ``t.py::TestA::TestB``, globs
    too): every test in it, at any depth, as pytest selects them."""
    if "::" not in pattern or "[" in pattern:
        return False
    wanted = pattern.split("::")
    parts = _parts(node_id)
    return len(parts) > len(wanted) and all(map(_glob, parts[: len(wanted)], wanted))


def function_matches(function: str | None, pattern: str | None) -> bool:
    """Whether the function name is ``pattern``: the whole name or its end after a ``.``
    (``create``, ``Completions.create``), exactly, or as a shell-style glob."""
    if pattern is None:
        return True
    if function is None:
        return False
    tails = _tails(function, (".",))
    return pattern in tails or any(fnmatch.fnmatchcase(t, pattern) for t in tails)


def _in_directory(file: str, pattern: str) -> bool:
    """The test file ``file`` is under the directory ``pattern`` (a glob too), at any depth."""
    directory = pattern.rstrip("/")
    return bool(directory) and (_glob(file, directory) or _glob(file, directory + "/*"))


def _node_matches(node_id: str, pattern: str) -> bool:
    """``node_id`` is ``pattern``, exactly or as a glob matched part by ``::`` part; a
    pattern without ``[`` is also each parametrized instance of the test it names."""
    if node_id == pattern or _parts_match(_parts(node_id), pattern.split("::")):
        return True
    head, bracket, _ = node_id.partition("[")
    return bool(bracket) and "[" not in pattern and _node_matches(head, pattern)


def _parts(node_id: str) -> list[str]:
    head, bracket, params = node_id.partition("[")  # a parameter's "::" is no separator
    parts = head.split("::")
    parts[-1] += bracket + params
    return parts


def _parts_match(parts: list[str], wanted: list[str]) -> bool:
    if len(wanted) > 1 and wanted[-1] == "*":  # FILE::* or TestK::*: every test below
        head = wanted[:-1]
        return len(parts) > len(head) and all(map(_glob, parts[: len(head)], head))
    return len(parts) == len(wanted) and all(map(_glob, parts, wanted))


def _glob(value: str, pattern: str) -> bool:
    return value == pattern or _glob_re(pattern).fullmatch(value) is not None


@lru_cache(maxsize=256)
def _glob_re(pattern: str) -> re.Pattern[str]:
    """``pattern`` with ``*`` (any characters) and ``?`` (one) as wildcards, all else literal:
    the brackets of pytest's parametrized ids are not character classes."""
    wild = {"*": ".*", "?": "."}
    return re.compile("".join(wild.get(c) or re.escape(c) for c in pattern), re.DOTALL)


def _tails(value: str, separators: tuple[str, ...]) -> list[str]:
    """``value`` and each end of it after a separator; separators inside the parameters of a
    parametrized test (``[...]``) do not count."""
    head = value.split("[", 1)[0]
    tails = [value]
    for separator in separators:
        at = head.find(separator)
        while at >= 0:
            tails.append(value[at + len(separator) :])
            at = head.find(separator, at + 1)
    return tails
