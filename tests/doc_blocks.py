"""The code blocks of README.md, docs/ and examples/, and how each is shown to be true.

A ``python`` block either runs as written (top-level ``await`` allowed; a block that defines
``test_*`` functions or ``Test*`` classes runs as a pytest module, recorded against the stand-in
API, then replayed with no keys), or is followed by a line
``<sub>... [examples/....py](...)</sub>`` linking the complete files it comes from: then
every line of the block must appear, in the same order, in those files, lines shown together
together there (a ``...`` line, a line ending ``...`` such as ``def f(): ...``, or a
``# file.py`` heading marks an omission; blank lines aside) and indented as there relative to
each other; the block must compile; and the files themselves must run in the test suite
(examples/docs/*.py as scripts, an example project's test modules and conftest.py, and the
files those import or start: ``files_the_suite_runs``). A block run as a script that defines
functions must call or use one of them. A block that needs
software apirec's CI cannot install is followed instead by ``<sub>Not run by apirec's CI:
REASON.</sub>``: it is only compiled (a syntax check), and the reason must not be empty. Shell
blocks: every command must work when pasted (tests/doc_commands.py): ``apirec ...`` (also as
``python -m apirec``, ``pipx run``, ``uv run``, ``uvx``, ``time``, ``env -u X``, by a path
such as ``.venv/bin/apirec``) is parsed whole by apirec's own parser, so a bad option, value,
choice or missing argument fails; ``pytest ...`` (also ``py.test``, ``python3 -m``, ``uv run``,
``env X=1``) has every option parsed by the real pytest's parser with the installed plugins
(tests/doc_pytest_options.py), its paths checked where a session runs, and its ``--apirec-*``
options, ``-o apirec_*`` keys and ``APIREC_*`` variables given to the real pytest and plugin,
which must accept them; ``python SCRIPT.py`` must name a script that is there; any
``APIREC_*`` variable set or exported must be one apirec's code names. The inline
``apirec ...``/``pytest ...`` spans of the prose get the same option and value checks. A
block (plain, ``console`` or shell) of ``$ COMMAND`` lines with their output, followed by
``<sub>Output checked: run in a copy of [DIR](...).</sub>`` or
``<sub>Output checked: run from the repository's root.</sub>``, is run there and compared with
what it shows, normalised as tests/doc_sessions.py says (widths, durations, UTC times, the
temporary directory, ``...``), and each command's exit status with what the page shows (a
failing command, also inside a pipe, is followed by ``$ echo $?`` and its status; any other
must exit 0); a
marker that ends ``, with s3://BUCKET on a local S3 server (moto).`` runs its commands with
that bucket served on 127.0.0.1 and the standard AWS variables pointing at it.
``toml`` and ``ini`` blocks must parse, and a pytest configuration or price table in one must
be accepted by pytest with apirec's plugin and ``--strict-config`` (tests/doc_config.py).
``json``, ``yaml`` and ``diff`` blocks (tests/doc_data.py): JSON must parse, and JSON that
shows what apirec writes (a recording, a compare report) must show only keys the code writes
there, with values of the types it writes; YAML must parse, naming only apirec's pre-commit
hooks, whose commands are checked as a shell block's; a diff's ``-`` and context lines must be
whole lines of the file it changes, and the change must apply.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# a fence, maybe indented (in a list item), maybe with an info string after the language
FENCE = re.compile(r"^(\s*)```(\w*)(?:\s.*)?$")
LINK = re.compile(r"\]\(((?:\.\./|\./)*(?:[\w.-]+/)*[\w.-]+\.py)\)")
# lines a block may leave out of its files: elisions and the name of the file that follows
ELISION = re.compile(r"^(\.\.\.|\.\.\.\s*#.*|#\s*[\w./-]+\.(py|ini|toml)(:.*)?)$")
SHELL = {"bash", "sh", "console", "shell"}
NOT_RUN = re.compile(r"^<sub>Not run by apirec's CI:(.*)</sub>$", re.S)
# where a block that shows commands at a ``$ `` prompt with their output is run, to compare it
OUTPUT_CHECKED = re.compile(
    r"^<sub>Output checked: run (?:in a copy of \[[^\]]*\]\(([^)]+)\)|(from the repository's root))"
    r"(?:, with s3://([\w.-]+) on a local S3 server \(moto\))?\.</sub>$",
    re.S,
)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    links: tuple[Path, ...]  # the complete files the block comes from
    not_run: str | None = None  # why apirec's CI cannot run it ("" if the marker gives none)
    run_in: Path | None = None  # where its commands run, to compare their output with it
    in_a_copy: bool = False  # run_in is copied first (else the commands run in it as it is)
    s3_bucket: str | None = None  # served by a local S3 server (moto) while its commands run

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if ROOT in self.page.parents else self.page
        return f"{page}:{self.line}"


def pages() -> list[Path]:
    return [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "examples").rglob("README.md")),
    ]


def blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    n = 0
    while n < len(lines):
        opening = FENCE.match(lines[n])
        if not opening:
            n += 1
            continue
        indent = len(opening.group(1))
        end = n + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        # an indented block's lines lose its fence's indentation
        text = "\n".join(
            line[indent:] if not line[:indent].strip() else line.lstrip()
            for line in lines[n + 1 : end]
        )
        rest = lines[end + 1 : end + 8]
        while rest and not rest[0].strip():
            rest.pop(0)
        links: tuple[Path, ...] = ()
        not_run = None
        run_in: Path | None = None
        in_a_copy = False
        s3_bucket = None
        if rest and rest[0].lstrip().startswith("<sub>"):
            note = "\n".join(rest[: next(i for i, x in enumerate(rest) if "</sub>" in x) + 1])
            links = tuple((page.parent / link).resolve() for link in LINK.findall(note))
            if marker := NOT_RUN.match(note.strip()):
                not_run = " ".join(marker.group(1).split()).rstrip(".")
            if checked := OUTPUT_CHECKED.match(" ".join(note.split())):
                in_a_copy = checked.group(1) is not None
                run_in = (page.parent / checked.group(1)).resolve() if in_a_copy else ROOT
                s3_bucket = checked.group(3)
        found.append(
            Block(page, n + 1, opening.group(2), text, links, not_run, run_in, in_a_copy, s3_bucket)
        )
        n = end + 1
    return found


def _plain(line: str) -> str:
    """A line as compared: without spaces (formatters space code and comments differently),
    and without a trailing ``...`` (``def f(): ...`` leaves the body out)."""
    return "".join(line.strip().removesuffix(" ...").split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _runs(block: Block) -> list[list[str]]:
    """The block's lines in runs that must be together in its files: a ``...`` line (an
    omission), a line that ends with ``...`` (``def f(): ...``: its body left out) or a
    ``# file.py`` heading ends a run; blank lines are left out."""
    runs: list[list[str]] = [[]]
    for raw in block.text.splitlines():
        if ELISION.match(raw.strip()):
            runs.append([])
        elif raw.strip():
            runs[-1].append(raw)
            if raw.rstrip().endswith("..."):  # `def f(): ...`, `f(...)`: something left out
                runs.append([])
    return [run for run in runs if run]


def _found_at(run: list[str], source: list[str], at: int) -> tuple[int, int] | None:
    """Where in ``source`` (from ``at``) the run's lines are, one after the other (blank lines
    of the source aside) and indented alike (each line's indentation in the file minus its
    indentation in the block the same for all); the index of its first line and the one after
    its last, or None."""
    plain = [_plain(line) for line in run]
    for start in range(at, len(source)):
        if _plain(source[start]) != plain[0]:
            continue
        shift = _indent(source[start]) - _indent(run[0])
        n, i = start, 0
        while i < len(run) and n < len(source):
            if not source[n].strip() and plain[i]:
                n += 1
                continue
            if _plain(source[n]) != plain[i] or _indent(source[n]) - _indent(run[i]) != shift:
                break
            n, i = n + 1, i + 1
        if i == len(run):
            return start, n
    return None


def missing_lines(block: Block) -> list[str]:
    """The block's lines its linked files do not hold as the block shows them: in order,
    together unless a ``...`` marks an omission between them, and indented as there relative
    to the first line of their run (an omission may leave a level out: ``with x:`` then
    ``...`` then a line of the module); for a run not so found, its first line that is not."""
    source = [line for path in block.links for line in path.read_text("utf-8").splitlines()]
    missing: list[str] = []
    at = 0
    for run in _runs(block):
        found = _found_at(run, source, at)
        if found is None:  # the longest start of the run that is there: the line after it
            size = max((k for k in range(1, len(run)) if _found_at(run[:k], source, at)),
                       default=0)  # fmt: skip
            missing.append(run[size].strip())
            continue
        at = found[1]
    return missing


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports, as dotted names relative to its search roots (a relative
    import is named from the file's own directory); also each ``from X import Y`` as X.Y."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}".lstrip(".") for alias in node.names)
    return {name for name in names if name}


def files_the_suite_runs(scripts: list[Path], projects: set[Path]) -> set[Path]:
    """The example files the test suite runs: the scripts of examples/docs (run as scripts),
    the example projects' test modules and conftest.py files (run by pytest in the project),
    and every file of examples/ one of those imports (found beside it, or from its project's
    directory or ``src/``), or names as a file to start (``"notes_server.py"``)."""
    running = set(scripts)
    for project in projects:
        running.update(
            p
            for p in project.rglob("*.py")
            if p.name == "conftest.py" or p.name.startswith("test_") or p.name.endswith("_test.py")
        )
    examples = ROOT / "examples"
    todo = list(running)
    while todo:
        path = todo.pop()
        text = path.read_text("utf-8")
        roots = [path.parent, *(p for p in path.parents if examples in p.parents)]
        roots += [root / "src" for root in roots]
        found = set()
        for name in _imports(path):
            relative = name.replace(".", "/")
            for root in roots:
                found.update(
                    p for p in (root / f"{relative}.py", root / relative / "__init__.py")
                    if p.is_file()
                )  # fmt: skip
        found.update(p for p in examples.rglob("*.py") if f'"{p.name}"' in text)
        todo += sorted(found - running)
        running |= found
    return running


# an inline code span of prose that is a command to paste
SPAN = re.compile(r"(?<!`)`((?:apirec|pytest) [^`\n]+)`(?!`)")


def inline_commands(page: Path) -> list[Block]:
    """The inline code spans of the page's prose that start with ``apirec `` or ``pytest ``,
    each as a one-line ``bash`` block (at its line), to be checked as a shell block's commands
    are; spans with placeholders the reader fills in (``...``, ``[OPTIONS]``, ``<x>``,
    ``COMMAND``) and mentions of a command alone (``apirec ls``) are left out."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    fenced = False
    for n, line in enumerate(lines):
        if FENCE.match(line) or (fenced and line.strip() == "```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        for span in SPAN.findall(line):
            words = span.split()
            placeholder = "..." in span or re.search(r"[\[<{|]|\b[A-Z][A-Z_]{2,}\b", span)
            if len(words) > 2 and not placeholder:
                found.append(Block(page, n + 1, "bash", span, ()))
    return found
