"""What the docs point at exists: each ``pip install`` line of README.md, docs/ and examples/
installs this repository (apirec is not on PyPI: ``pip install apirec`` would fail, or install
someone else's package were the name ever registered) or a package apirec's extras name, and
each relative link of README.md, docs/ and examples/ resolves to a file or directory."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.doc_blocks import ROOT, SHELL, Block, blocks, pages
from tests.doc_commands import commands

# a markdown link's target: relative ones only (no scheme, no anchor-only)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
# the placeholder the pages use for the reader's clone of apirec
CLONE = "path/to/apirec"


def _name(spec: str) -> str:
    return re.split(r"[\[<>=!~;@ ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def known_packages() -> set[str]:
    """The packages apirec's pyproject names (dependencies and extras): installable by name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    specs = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        specs += extra
    return {_name(spec) for spec in specs} - {"apirec"}


def install_problems(block: Block, known: set[str]) -> list[str]:
    """The package specs of the block's ``pip install`` commands that install neither this
    repository (``path/to/apirec``, or a relative path to it from where the page's commands
    run) nor a package apirec's pyproject names."""
    wrong: list[str] = []
    for command in commands(block):  # python -m pip: pip, as the runner reads commands
        argv = list(command.argv)
        if argv[:2] != ["pip", "install"]:
            continue
        for arg in argv[2:]:
            if arg.startswith("-"):
                continue
            path = re.sub(r"\[[^\]]*\]$", "", arg)
            if path == CLONE or path.startswith(CLONE + "/"):
                continue
            if "/" in path or path.startswith("."):
                if (_run_from(block.page) / path).resolve() != ROOT:
                    wrong.append(f"{arg} (not this repository from {block.where})")
            elif _name(arg) not in known:
                wrong.append(f"{arg} (apirec is not on PyPI; no extra of apirec names it)")
    return wrong


def _run_from(page: Path) -> Path:
    """Where a page's commands run: an example's own directory, else the repository's root."""
    return page.parent if (ROOT / "examples") in page.parents else ROOT


def link_problems(page: Path) -> list[str]:
    """The relative links of ``page`` that resolve to nothing."""
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.S)  # code is not links
    wrong: list[str] = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#")[0]
        if not (page.parent / path).exists():
            shown = page.relative_to(ROOT) if ROOT in page.parents else page.name
            wrong.append(f"{shown}: {target}")
    return wrong


SHELL_BLOCKS = [b for page in pages() for b in blocks(page) if b.lang in SHELL]


def test_install_lines_install_this_repository() -> None:
    known = known_packages()
    wrong = [w for b in SHELL_BLOCKS for w in install_problems(b, known)]
    assert wrong == []


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert link_problems(page) == []


def test_the_checks_catch_a_wrong_install_and_a_broken_link(tmp_path: Path) -> None:
    page = ROOT / "examples" / "quickstart" / "README.md"  # the block's page: paths from there

    def problems(text: str) -> list[str]:
        return install_problems(Block(page, 1, "bash", text, ()), known_packages())

    assert len(problems("pip install apirec pytest-asyncio\npip install ../../docs")) == 2
    assert (
        problems("pip install ../.. openai && python -m pip install -e 'path/to/apirec[dev]'") == []
    )
    broken = tmp_path / "page.md"
    broken.write_text(
        "[servers](../examples/docs/servers.py), [this](page.md#top), [web](https://x.org)"
    )
    assert link_problems(broken) == ["page.md: ../examples/docs/servers.py"]
