"""Where the tests' data lives: inside the repository, never beside it."""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
LLAMA_STACK = DATA / "llama_stack"
OGX = DATA / "ogx"
