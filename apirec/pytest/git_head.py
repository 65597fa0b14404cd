"""The commit a directory's git checkout is at, read from ``.git`` (no subprocess, no git).

For usage reports (:mod:`apirec.pytest.usage`): which commit a shard ran on. Handles a plain
``.git`` directory, a ``.git`` file pointing elsewhere (worktrees, submodules), a detached
HEAD, loose refs and ``packed-refs``. Anything else (not a checkout, an unreadable or
unusual layout) is None: the report says it does not know.
"""

from __future__ import annotations

import re
from pathlib import Path

_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def head_commit(directory: Path) -> str | None:
    """The full hash HEAD names in the checkout holding ``directory``, or None."""
    try:
        git_dir = _git_dir(directory.resolve())
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if _SHA.fullmatch(head):
            return head  # detached
        if not head.startswith("ref: "):
            return None
        return _resolve(git_dir, head[5:].strip())
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _git_dir(directory: Path) -> Path | None:
    for folder in (directory, *directory.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # "gitdir: <path>", relative to the file's folder
            text = dot_git.read_text(encoding="utf-8").strip()
            if not text.startswith("gitdir: "):
                return None
            return (folder / text[8:].strip()).resolve()
    return None


def _resolve(git_dir: Path, ref: str) -> str | None:
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return None
    common = git_dir
    commondir = git_dir / "commondir"  # a worktree's refs live in the main repository's
    if commondir.is_file():
        common = (git_dir / commondir.read_text(encoding="utf-8").strip()).resolve()
    for base in dict.fromkeys((git_dir, common)):
        loose = base / ref
        if loose.is_file():
            sha = loose.read_text(encoding="utf-8").strip()
            return sha if _SHA.fullmatch(sha) else None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _SHA.fullmatch(sha):
                return sha
    return None
