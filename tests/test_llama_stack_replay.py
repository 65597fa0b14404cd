"""In-place replay of llama-stack's own recordings with patch_openai(rec, keys="llama-stack").

Every chat-completion, completion, embedding and model-list recording in the fixture corpus
whose file name matches llama-stack's key formula is replayed from a temporary copy of its
directory: a real ``openai.AsyncOpenAI`` whose base URL comes from the recorded URL is called
with the recorded body, inside ``apirec.test_context(<recorded test id>)`` (outside any test
context when it is null), and must return the recorded objects or raise the recorded error.
The client's HTTP transport fails on any request, so nothing can come from the network.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import openai

import apirec
from apirec.integrations.openai import patch_openai
from tests.paths import LLAMA_STACK

FIXTURES = LLAMA_STACK
ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models")

try:
    http: Any = importlib.import_module("httpx2")
except ImportError:  # older openai SDKs are built on httpx
    http = importlib.import_module("httpx")


def llama_stack_key(request: dict[str, Any], test_id: str | None) -> str:
    """The README's formula, written out here independently of apirec's implementation."""
    normalized = {
        "method": request["method"].upper(),
        "endpoint": urlparse(request["url"]).path,
        "body": request["body"],
        "test_id": test_id,
    }
    return hashlib.sha256(json.dumps(normalized, sort_keys=True).encode()).hexdigest()


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, str):
        return re.sub(r"-?\d+\.\d{4,}", lambda m: f"{float(m.group(0)):.5f}", value)
    return value


def later_llama_stack_key(request: dict[str, Any], test_id: str | None) -> str:
    """llama-stack's later formula: the body normalised before hashing."""
    url = urlparse(request["url"])
    body = _rounded(request["body"])
    if "bedrock" in url.netloc:
        body.pop("stream_options", None)
    normalized = {"method": request["method"].upper(), "endpoint": url.path, "body": body}
    if url.path not in ("/api/tags", "/v1/models", "/v1/openai/v1/models"):
        normalized["test_id"] = test_id
    return hashlib.sha256(json.dumps(normalized, sort_keys=True).encode()).hexdigest()


def named_key(path: Path) -> str:
    stem = path.stem
    return stem.split("-")[1] if stem.startswith("models-") else stem


Case = tuple[Path, dict[str, Any]]


def corpus(root: Path) -> tuple[list[Case], list[Case], list[Path]]:
    """Recordings of these kinds: (name matches the formula, the later formula, neither)."""
    matching, later, other = [], [], []
    files = sorted(root.glob("seeds/*.json")) + sorted(root.glob("sample/*/recordings/*.json"))
    for path in files:
        entry = json.loads(path.read_text())
        request = entry["request"]
        if request.get("endpoint") not in ENDPOINTS or "body" not in request:
            continue
        if llama_stack_key(request, entry.get("test_id")) == named_key(path):
            matching.append((path, entry))
        elif later_llama_stack_key(request, entry.get("test_id")) == named_key(path):
            later.append((path, entry))
        else:
            other.append(path)
    return matching, later, other


def expected_models(path: Path, entry: dict[str, Any]) -> list[Any]:
    """llama-stack's rule: the lists recorded for this key from this URL (else all), merged."""
    siblings = [json.loads(p.read_text()) for p in path.parent.glob(f"models-{named_key(path)}-*")]
    same_url = [e for e in siblings if e["request"]["url"] == entry["request"]["url"]]
    chosen = same_url or siblings
    if len(chosen) == 1:
        return apirec.decode(chosen[0]["response"]["body"])
    by_id = {m["__data__"]["id"]: m for e in chosen for m in e["response"]["body"]}
    return apirec.decode([by_id[k] for k in sorted(by_id)])


class NoNetwork:
    """An HTTP transport that fails: replay must never reach it."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(str(request.url))
        raise AssertionError(f"replay tried the network: {request.method} {request.url}")


async def replay_one(copy: Path, entry: dict[str, Any], transport: NoNetwork) -> Any:
    request = entry["request"]
    endpoint, url, body = request["endpoint"], request["url"], request["body"]
    assert url.endswith(endpoint), url
    client = openai.AsyncOpenAI(
        base_url=url[: -len(endpoint)],
        api_key="sk-replay",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(transport)),
    )
    async with client, apirec.recording(copy, mode="replay") as rec:
        patch_openai(rec, keys="llama-stack")
        # test_context(None): no test, although this runs inside one (the plugin's node id)
        with apirec.test_context(entry.get("test_id")):
            return await call_sdk(client, endpoint, body, entry["response"].get("is_streaming"))


async def call_sdk(client: Any, endpoint: str, body: dict[str, Any], streamed: bool) -> Any:
    if endpoint == "/v1/models":
        return [model async for model in client.models.list(**body)]
    create = {
        "/v1/chat/completions": client.chat.completions.create,
        "/v1/completions": client.completions.create,
        "/v1/embeddings": client.embeddings.create,
    }[endpoint]
    result = await create(**body)
    return [chunk async for chunk in result] if streamed else result


async def check(copy: Path, path: Path, entry: dict[str, Any], transport: NoNetwork) -> str | None:
    """None when the recording replays as recorded, else what went wrong."""
    response = entry["response"]
    try:
        result = await replay_one(copy, entry, transport)
    except openai.APIStatusError as error:
        if not response.get("is_exception"):
            return f"raised {error!r}"
        data = response["exception_data"]
        if type(error) is not getattr(openai, data["type"]):
            return f"raised {type(error).__name__}, recorded {data['type']}"
        if (error.status_code, error.body) != (data["status_code"], data["body"]):
            return f"error {error.status_code} {error.body!r} differs from the recorded one"
        return None
    except Exception as error:
        return f"raised {type(error).__name__}: {error}"
    if response.get("is_exception"):
        return f"returned {type(result).__name__}, recorded an exception"
    if path.name.startswith("models-"):
        expected = expected_models(path, entry)
    else:
        expected = apirec.decode(response["body"])
    if result != expected:
        return "returned objects differ from the recorded ones"
    return None


def kind_suffix(response: dict[str, Any]) -> str:
    if response.get("is_exception"):
        return " (error)"
    return " (streamed)" if response.get("is_streaming") else ""


async def replay_all(cases: list[Case], tmp_path: Path) -> tuple[list[str], dict[str, int]]:
    """Replay each case from a copy of its directory: (failures, replayed count per kind)."""
    transport = NoNetwork()
    failures: list[str] = []
    kinds: dict[str, int] = {}
    for path, entry in cases:
        copy = tmp_path / path.parent.relative_to(FIXTURES)
        if not copy.exists():
            shutil.copytree(path.parent, copy)
        problem = await check(copy, path, entry, transport)
        if problem:
            failures.append(f"{path.relative_to(FIXTURES)}: {problem}")
            continue
        kind = entry["request"]["endpoint"] + kind_suffix(entry["response"])
        kinds[kind] = kinds.get(kind, 0) + 1
    assert not transport.requests
    return failures, kinds


def report(title: str, replayed: int, total: int, kinds: dict[str, int]) -> None:
    print(f"\n{title}: {replayed} of {total} replayed")
    for kind, n in sorted(kinds.items()):
        print(f"  {n:4d}  {kind}")


async def test_llama_stack_recordings_replay_in_place(tmp_path, capsys):
    assert FIXTURES.is_dir(), f"fixture recordings not found at {FIXTURES}"
    matching, later, other = corpus(FIXTURES)
    seeds = [p for p, _ in matching if p.parent.name == "seeds"]
    assert len(seeds) == 5, "every seed's file name matches the formula"

    failures, kinds = await replay_all(matching, tmp_path)
    replayed = len(matching) - len(failures)
    with capsys.disabled():
        report("llama-stack recordings named by the formula", replayed, len(matching), kinds)
        print(f"  ({len(later)} named by llama-stack's later formula, {len(other)} by neither)")
    assert not failures, "\n".join(failures)
    assert replayed == len(matching) > 100


async def test_recordings_named_by_the_later_formula_replay_too(tmp_path, capsys):
    _, later, _ = corpus(FIXTURES)
    failures, kinds = await replay_all(later, tmp_path)
    replayed = len(later) - len(failures)
    with capsys.disabled():
        report("llama-stack recordings named by its later formula", replayed, len(later), kinds)
    assert not failures, "\n".join(failures)
    assert replayed == len(later) > 0


CONFTEST = """
from pathlib import Path

import pytest

import apirec
from apirec.integrations.openai import patch_openai


@pytest.fixture(autouse=True)
def recordings(request):
    directory = Path(request.path).parent / "recordings"
    with apirec.recording(directory) as rec:
        patch_openai(rec, keys="llama-stack")
        yield rec
"""

SUITE = """
import openai
import pytest

SATURN = "Which planet has rings around it with a name starting with letter S?"


@pytest.mark.parametrize("kind", ["openai_client"], ids=["openai_client-txt=openai/gpt-4o-saturn"])
async def test_response_streaming_basic(kind, recordings):
    # where nothing listens: only the base URL's path goes into llama-stack's key
    client = openai.AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-x", max_retries=0)
    async with client:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": SATURN}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert "Saturn" in text
    assert recordings.stats.replayed == 1
"""


def test_a_migrated_suite_replays_llama_stacks_files_under_the_plugin(pytester):
    """The plugin's node id is llama-stack's test id: a seed replays in its own test."""
    from .plugin_helpers import INI

    seed = FIXTURES / "seeds/007c4711219f0fe25bd410d6dd8b18eae1251c3e83ab1f8d1d85ce86f5e197f3.json"
    test_id = json.loads(seed.read_text())["test_id"]
    assert test_id.startswith("tests/integration/responses/test_basic_responses.py::")
    suite = pytester.path / "tests/integration/responses"
    (suite / "recordings").mkdir(parents=True)
    shutil.copy(seed, suite / "recordings" / seed.name)
    pytester.makeini(INI.format(extra=""))
    pytester.makeconftest(CONFTEST)
    (suite / "test_basic_responses.py").write_text(SUITE)

    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    assert f"{test_id} PASSED" in result.stdout.str()


PRUNE_CONFTEST = """
import json
from pathlib import Path

import openai
import pytest

from apirec.integrations.openai import patch_openai


@pytest.fixture(autouse=True)
def llama_stack_keys(apirec):
    patch_openai(apirec, keys="llama-stack")


@pytest.fixture
def replay(request):
    async def run(name):
        entry = json.loads((Path(request.path).parent / "recordings" / name).read_text())
        url, endpoint, body = (entry["request"][k] for k in ("url", "endpoint", "body"))
        base = url[: -len(endpoint)]
        async with openai.AsyncOpenAI(base_url=base, api_key="sk-x", max_retries=0) as client:
            if endpoint == "/v1/models":
                return [m async for m in client.models.list()]
            stream = await client.chat.completions.create(**body)
            return [chunk async for chunk in stream]

    return run
"""

PRUNED_SUITES = {
    # a model list, filed as models-<key>-<digest>.json
    "test_reasoning.py": ("test_reasoning_multi_turn_passthrough", "txt=openai/gpt-4o"),
    # a stream named by llama-stack's later formula
    "test_file_search.py": (
        "test_response_file_search_filter_by_region",
        "openai_client-txt=openai/gpt-4o",
    ),
}
PRUNED_FILES = {
    "test_reasoning.py": "models-05ff718017e0be20d3e932cf24ad415060375d28464bb0fb98df8d34aff7f191"
    "-431d334e.json",
    "test_file_search.py": "008c7f9317b753a832cc8ccd2f0edb02c3f3e1c627674b60562eea08af29953d.json",
}


def test_prune_keeps_files_found_under_other_names_or_keys(pytester):
    """--apirec-prune deletes what the tests that ran did not use, never what they replayed."""
    from .plugin_helpers import INI

    source = FIXTURES / "sample/responses/recordings"
    suite = pytester.path / "tests/integration/responses"
    (suite / "recordings").mkdir(parents=True)
    for module, (function, param) in PRUNED_SUITES.items():
        name = PRUNED_FILES[module]
        shutil.copy(source / name, suite / "recordings" / name)
        (suite / module).write_text(
            f"import pytest\n\n"
            f"@pytest.mark.parametrize('name', [{name!r}], ids=[{param!r}])\n"
            f"async def {function}(name, replay, apirec):\n"
            f"    assert await replay(name)\n"
            f"    assert apirec.stats.replayed == 1\n"
        )
    # a recording of one of these tests that no call asks for: the one prune deletes
    unused = json.loads((source / PRUNED_FILES["test_reasoning.py"]).read_text())
    unused["request"]["body"] = {"extra_query": {"unused": True}}
    (suite / "recordings" / ("f" * 64 + ".json")).write_text(json.dumps(unused))
    pytester.makeini(INI.format(extra=""))
    pytester.makeconftest(PRUNE_CONFTEST)

    pytester.runpytest("--apirec-prune").assert_outcomes(passed=2)
    assert sorted(p.name for p in (suite / "recordings").glob("*.json")) == sorted(
        PRUNED_FILES.values()
    )
