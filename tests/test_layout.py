"""The repository stands alone and its folders are the architecture (DESIGN.md section 9).

The layers themselves are checked by ``lint-imports`` (contracts in pyproject.toml); these
tests check what import-linter cannot: no module circles at all, what ``import apirec`` loads,
the public entry points, and that nothing reads a path outside the repository.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

import apirec

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "apirec"
LAYERS = [
    "cli",
    "pytest",
    "servers",
    "integrations",
    "record",
    "streams",
    "guard",
    "keys",
    "stores",
    "gate",
    "codec",
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every apirec module ``path`` imports, at any depth of the file (functions and
    ``TYPE_CHECKING`` blocks included): a circle through a lazy import is still a circle."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circles_between_modules():
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    graph = {
        # a package's __init__ re-exporting its own modules is not a circle through them
        name: {m for m in _imports(path, modules) if m != name and not name.startswith(m + ".")}
        for name, path in files.items()
    }
    assert _cycle(graph) is None


def test_relative_imports_are_not_used():
    # absolute imports name the layer they cross into, which is what the contracts check
    relative = [
        str(p.relative_to(REPO))
        for p in PACKAGE.rglob("*.py")
        if any(
            isinstance(n, ast.ImportFrom) and n.level > 0
            for n in ast.walk(ast.parse(p.read_text()))
        )
    ]
    assert relative == []


def test_at_most_four_loose_modules_at_the_top():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "demo.py", "errors.py"]
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert folders == sorted(LAYERS)


@pytest.mark.parametrize("layer", [*LAYERS, "stores.msgpack"])
def test_every_subpackage_says_what_it_is_for_and_what_it_may_import(layer):
    module = importlib.import_module(f"apirec.{layer}")
    doc = module.__doc__ or ""
    assert len(doc.split()) >= 20, f"apirec.{layer} needs a docstring that explains the layer"
    if layer != "stores.msgpack":  # a part of the stores layer, not a layer of its own
        assert "import" in doc, f"apirec.{layer}'s docstring must say what it may import"


def test_import_apirec_loads_no_plugin_cli_integration_or_sdk():
    code = (
        "import sys, apirec\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'pytest', '_pytest', 'openai'}"
        " or m.startswith(('apirec.pytest', 'apirec.cli', 'apirec.integrations'))]\n"
        "print(sorted(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.strip() == "[]"


def test_public_entry_points():
    from apirec.cli import main
    from apirec.integrations.openai import patch_openai
    from apirec.stores.convert import convert
    from apirec.stores.msgpack import MsgpackStore

    assert all(callable(x) for x in (main, patch_openai, convert, MsgpackStore))
    assert all(hasattr(apirec, name) for name in apirec.__all__)
    assert callable(apirec.record)  # the decorator, not the subpackage of the same name
    plugins = importlib.metadata.entry_points(group="pytest11")
    assert [ep.value for ep in plugins if ep.name == "apirec"] == ["apirec.pytest.startup"]
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert [ep.value for ep in scripts if ep.name == "apirec"] == ["apirec.cli:main"]


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False
    ).stdout
    if listed:
        return [REPO / name for name in listed.decode().split("\0") if name]
    skip = {".git", ".venv", ".ci-venv", "__pycache__", ".mypy_cache", ".ruff_cache"}
    return [p for p in REPO.rglob("*") if p.is_file() and not skip & set(p.parts)]


def test_nothing_tracked_reads_a_path_outside_the_repository():
    outside = re.compile(
        r"\.\./shared|shared/fixtures|\"shared\" / \"fixtures\"|parents\[\d\]\.parent"
    )
    found = []
    for path in _tracked_files():
        if path.suffix not in {".py", ".md", ".toml", ".cfg", ".ini", ".txt", ""}:
            continue
        if path.resolve() == Path(__file__).resolve() or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        found += [f"{path.relative_to(REPO)}: {m.group()}" for m in outside.finditer(text)]
    assert found == []


def test_the_test_recordings_live_in_the_repository_with_their_provenance():
    data = REPO / "tests" / "data" / "llama_stack"
    assert len(list((data / "seeds").glob("*.json"))) == 5
    assert len(list(data.rglob("*.json"))) == 221
    readme = (data / "README.md").read_text()
    assert "MIT" in readme and "llama-stack" in readme and "SHA-256" in readme


def test_ci_runs_the_readme_first_screen_commands_in_a_fresh_virtualenv():
    # The README's first screen is what a new user pastes: both commands make and activate a
    # virtualenv first (the dev extra pulls ~110 packages), and .ci/run does the same steps,
    # then runs the README's test command exactly.
    readme = (REPO / "README.md").read_text()
    first = readme[readme.index("```bash") : readme.index("```", readme.index("```bash") + 7)]
    commands = [line for line in first.splitlines()[1:] if line and not line.startswith("#")]
    assert len(commands) == 2
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    assert all(command.startswith(venv) for command in commands)
    install, run = commands[1].removeprefix(venv).split(" && ")
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == run == "python -m pytest -n 2"
    assert install.replace("install ", "install --quiet ") in ci
    assert any(line.startswith("python3 -m venv ") for line in ci)
    assert "source .ci-venv/bin/activate" in ci
