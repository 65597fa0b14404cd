"""The fixture README.md (section "Migrating from llama-stack's recorder") shows, in place of
OGX's api_recorder: each test's calls replay from recordings/ beside its file."""

from pathlib import Path

import pytest

import apirec
from apirec import integrations


@pytest.fixture(autouse=True)  # conftest.py, instead of api_recorder
def recordings(request):
    with apirec.recording(Path(request.path).parent / "recordings") as rec:
        integrations.patch(rec, "openai", keys="llama-stack")  # their keys and file names
        yield rec
