import asyncio
import json
import threading

import pytest
from pydantic import BaseModel

import apirec


class Reply(BaseModel):
    text: str
    n: int


class Service:
    """Stands for a slow, paid provider; counts the calls that really happen."""

    def __init__(self):
        self.calls = 0

    @apirec.record(name="svc.sync")
    def ask(self, prompt: str, *, temperature: float = 0.0) -> Reply:
        self.calls += 1
        return Reply(text=f"{prompt}!", n=self.calls)

    @apirec.record(name="svc.async")
    async def aask(self, prompt: str) -> Reply:
        self.calls += 1
        await asyncio.sleep(0)
        return Reply(text=f"{prompt}?", n=self.calls)

    @apirec.record(name="svc.class")
    @classmethod
    def classy(cls, x: int) -> dict:
        cls.class_calls = getattr(cls, "class_calls", 0) + 1
        return {"x": x, "calls": cls.class_calls}

    @apirec.record(name="svc.static")
    @staticmethod
    async def static(x: int) -> tuple:
        Service.static_calls = getattr(Service, "static_calls", 0) + 1
        return (x, Service.static_calls)


counter = {"n": 0}


@apirec.record
def plain(x):
    counter["n"] += 1
    return [x, counter["n"]]


def files(path):
    return sorted(p.name for p in path.glob("*.json"))


def test_decorator_keeps_name_doc_and_nature():
    assert plain.__name__ == "plain"
    assert Service.ask.__doc__ is None and Service.aask.__name__ == "aask"
    import inspect

    assert inspect.iscoroutinefunction(Service.aask)
    assert not inspect.iscoroutinefunction(Service.ask)
    assert list(inspect.signature(Service.ask).parameters) == ["self", "prompt", "temperature"]


def test_no_recording_calls_through():
    svc = Service()
    assert svc.ask("a").n == 1 and svc.ask("a").n == 2


async def test_record_then_replay_every_kind_of_callable(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="record") as rec:
        recorded = [
            svc.ask("hi"),
            await svc.aask("hi"),
            Service.classy(3),
            await Service.static(4),
            plain(5),
            Service.ask(svc, "hi", temperature=0.5),
        ]
    assert rec.stats.recorded == 6 and len(files(store_dir)) == 6
    calls = (svc.calls, Service.class_calls, Service.static_calls, counter["n"])

    with apirec.recording(store_dir, mode="replay") as rec:
        replayed = [
            Service().ask(prompt="hi"),
            await Service().aask("hi"),
            Service.classy(x=3),
            await Service.static(4),
            plain(5),
            svc.ask("hi", temperature=0.5),
        ]
    assert replayed == recorded
    assert [type(v) for v in replayed] == [type(v) for v in recorded]
    assert (svc.calls, Service.class_calls, Service.static_calls, counter["n"]) == calls
    assert rec.stats.replayed == 6 and rec.stats.recorded == 0


def test_replay_miss_names_function_key_and_arguments(store_dir):
    with apirec.recording(store_dir), pytest.raises(apirec.RecordingNotFound) as info:
        Service().ask("never recorded", temperature=0.25)
    error = info.value
    assert isinstance(error, AssertionError)
    message = str(error)
    assert "svc.sync" in message and error.function == "svc.sync"
    assert error.key in message and len(error.key) == 32
    assert '"prompt": "never recorded"' in message and '"temperature": 0.25' in message
    assert error.arguments == {"prompt": "never recorded", "temperature": 0.25}
    assert str(store_dir) in message and "record-if-missing" in message


def test_record_if_missing_records_once_then_replays(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="record-if-missing") as rec:
        first = svc.ask("x")
    with apirec.recording(store_dir, mode="record-if-missing") as rec:
        again = svc.ask("x")
        other = svc.ask("y")
    assert again == first and svc.calls == 2 and other.n == 2
    assert rec.stats.replayed == 1 and rec.stats.recorded == 1


def test_record_mode_overwrites(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="record"):
        svc.ask("x")
        svc.ask("x")
    with apirec.recording(store_dir, mode="record"):
        svc.ask("x")  # one call now: the old two-answer sequence is replaced
    assert files(store_dir) == [files(store_dir)[0]] and svc.calls == 3
    with apirec.recording(store_dir):
        assert svc.ask("x").n == 3


def test_live_mode_calls_through_and_stores_nothing(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="live") as rec:
        svc.ask("x")
        svc.ask("x")
    assert svc.calls == 2 and files(store_dir) == [] and rec.stats.live == 2


def test_sequences_replay_in_order_then_a_call_past_the_end_is_a_miss(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="record"):
        recorded = [svc.ask("poll").n for _ in range(3)]
    assert recorded == [1, 2, 3] and len(files(store_dir)) == 3
    with apirec.recording(store_dir) as rec:
        assert [svc.ask("poll").n for _ in range(3)] == [1, 2, 3]
        with pytest.raises(apirec.SequenceExhausted) as caught:
            svc.ask("poll")  # one call more than were recorded
    assert isinstance(caught.value, apirec.RecordingNotFound)
    assert (caught.value.call_number, caught.value.recorded) == (4, 3)
    assert "call 4 of svc.sync() but 3 answers were recorded" in str(caught.value)
    assert "repeats='last'" in str(caught.value)
    assert rec.stats.missed == 1 and rec.misses == [caught.value]
    with apirec.recording(store_dir):  # a new recording starts the sequence again
        assert svc.ask("poll").n == 1


def test_repeats_last_replays_the_last_answer_again_past_the_end(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="record"):
        [svc.ask("poll").n for _ in range(3)]
    with apirec.recording(store_dir, repeats="last"):
        assert [svc.ask("poll").n for _ in range(5)] == [1, 2, 3, 3, 3]


def test_every_replay_hands_out_fresh_objects(store_dir):
    @apirec.record(name="mutable")
    def mutable():
        return {"items": [Reply(text="a", n=1)], "meta": {"tags": ["x"]}}

    with apirec.recording(store_dir, mode="record"):
        mutable()
    with apirec.recording(store_dir, repeats="last"):  # the one answer, replayed twice
        first = mutable()
        first["items"][0].text = "changed"
        first["items"].append(None)
        first["meta"]["tags"].append("y")
        second = mutable()
    assert second == {"items": [Reply(text="a", n=1)], "meta": {"tags": ["x"]}}


def test_each_answer_is_written_when_its_call_returns(store_dir, request):
    svc = Service()
    with apirec.recording(store_dir, mode="record"):
        svc.ask("first")
        stored = files(store_dir)
        assert len(stored) == 1
        data = json.loads((store_dir / stored[0]).read_text())
        assert data["response"]["body"]["__data__"] == {"text": "first!", "n": 1}
        assert data["request"]["function"] == "svc.sync"
        assert data["request"]["args"] == {"prompt": "first"}
        assert data["request"]["key"] == stored[0].removesuffix(".json")
        # the pytest plugin runs every test in apirec.test_context(node id)
        assert data["test_id"] == request.node.nodeid
        svc.ask("second")
        assert len(files(store_dir)) == 2


def test_test_context_scopes_keys(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="record"):
        with apirec.test_context("tests/test_a.py::test_one"):
            svc.ask("same")
        with apirec.test_context("tests/test_a.py::test_two"):
            svc.ask("same")
    stored = [json.loads((store_dir / f).read_text()) for f in files(store_dir)]
    assert sorted(s["test_id"] for s in stored) == [
        "tests/test_a.py::test_one",
        "tests/test_a.py::test_two",
    ]
    with apirec.recording(store_dir), apirec.test_context("tests/test_a.py::test_two"):
        assert svc.ask("same").n == 2
    with apirec.recording(store_dir), pytest.raises(apirec.RecordingNotFound):
        svc.ask("same")  # outside both tests


def test_shared_functions_are_recorded_once_for_all_tests(store_dir):
    @apirec.record(name="models.list", shared=True)
    def list_models():
        return ["gpt-4o"]

    with apirec.recording(store_dir, mode="record"), apirec.test_context("t1"):
        list_models()
    with apirec.recording(store_dir), apirec.test_context("t2"):
        assert list_models() == ["gpt-4o"]


def test_recordings_nest_and_the_innermost_wins(tmp_path):
    svc = Service()
    outer, inner = tmp_path / "outer", tmp_path / "inner"
    with apirec.recording(outer, mode="record"):
        svc.ask("a")
        with apirec.recording(inner, mode="record"):
            svc.ask("b")
        svc.ask("c")
    assert len(files(outer)) == 2 and len(files(inner)) == 1


def test_recording_is_active_for_threads_and_tasks_created_before_it(store_dir):
    svc = Service()
    start, done = threading.Event(), threading.Event()
    results = []

    def worker():
        start.wait(5)
        results.append(svc.ask("from an old thread"))
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()  # its context was copied before the recording existed
    with apirec.recording(store_dir, mode="record"):
        start.set()
        assert done.wait(5)
    thread.join()
    assert len(files(store_dir)) == 1


async def test_recording_as_a_decorator(store_dir):
    svc = Service()

    @apirec.recording(store_dir, mode="record")
    async def run():
        return await svc.aask("deco")

    recorded = await run()

    @apirec.recording(store_dir)
    def replay_sync():
        return svc.ask("nope-not-recorded")

    with pytest.raises(apirec.RecordingNotFound):
        replay_sync()

    @apirec.recording(store_dir)
    async def replay():
        return await svc.aask("deco")

    assert await replay() == recorded and svc.calls == 1
    assert await replay() == recorded  # each activation starts the sequences again


def test_async_with(store_dir):
    svc = Service()

    async def main():
        async with apirec.recording(store_dir, mode="record"):
            return await svc.aask("q")

    assert asyncio.run(main()).text == "q?"
    assert len(files(store_dir)) == 1


def test_unhashable_argument_fails_before_calling(store_dir):
    @apirec.record(name="takes_client")
    def takes_client(client, query):
        raise AssertionError("must not be called")

    with (
        apirec.recording(store_dir, mode="record"),
        pytest.raises(apirec.UnhashableArgument) as info,
    ):
        takes_client(object(), "q")
    assert "'client'" in str(info.value) and "builtins.object" in str(info.value)
    assert files(store_dir) == []


def test_iterator_results_are_recorded_as_streams(store_dir):
    # Streams are covered in depth by test_streams.py; here: no longer refused.
    @apirec.record(name="returns_iterator")
    def returns_iterator():
        return iter([1, 2, 3])

    with apirec.recording(store_dir, mode="record"):
        assert list(returns_iterator()) == [1, 2, 3]
    (entry,) = [json.loads(p.read_text()) for p in store_dir.glob("*.json")]
    assert entry["response"] == {"body": [1, 2, 3], "is_streaming": True, "stream_kind": "sync"}


def test_result_of_an_unknown_type_is_an_encode_error(store_dir):
    @apirec.record(name="weird")
    def weird():
        return threading.Lock()

    with (
        apirec.recording(store_dir, mode="record"),
        pytest.raises(apirec.EncodeError, match="register_type"),
    ):
        weird()
    assert files(store_dir) == []


def test_a_corrupt_recording_names_the_file_and_others_still_replay(store_dir):
    svc = Service()
    with apirec.recording(store_dir, mode="record"):
        svc.ask("good")
        svc.ask("bad")
    by_prompt = {
        json.loads((store_dir / f).read_text())["request"]["args"]["prompt"]: store_dir / f
        for f in files(store_dir)
    }
    by_prompt["bad"].write_text('{"test_id": null, "response": {"body": ')
    with apirec.recording(store_dir):
        with pytest.raises(apirec.StoreError) as info:
            svc.ask("bad")
        assert str(by_prompt["bad"]) in str(info.value) and "not valid JSON" in str(info.value)
        assert svc.ask("good").text == "good!"


# -- patching code you do not own ------------------------------------------------------------

from tests import patch_target  # noqa: E402


def test_rec_patch_records_and_is_undone_on_exit(store_dir):
    original = patch_target.Remote.__dict__["fetch"]
    with apirec.recording(store_dir, mode="record") as rec:
        rec.patch("tests.patch_target.Remote.fetch")
        assert patch_target.Remote.__dict__["fetch"] is not original
        recorded = patch_target.Remote().fetch("a")
    assert patch_target.Remote.__dict__["fetch"] is original
    stored = json.loads((store_dir / files(store_dir)[0]).read_text())
    assert stored["request"]["function"] == "tests.patch_target.Remote.fetch"

    with apirec.recording(store_dir) as rec:
        rec.patch("tests.patch_target.Remote.fetch")
        assert patch_target.Remote().fetch("a") == recorded
    assert patch_target.CALLS["fetch"] == 1


def test_patch_is_undone_when_the_block_raises(store_dir):
    original = patch_target.Remote.__dict__["fetch"]
    with pytest.raises(RuntimeError), apirec.recording(store_dir) as rec:
        rec.patch("tests.patch_target.Remote.fetch")
        raise RuntimeError("boom")
    assert patch_target.Remote.__dict__["fetch"] is original


def test_patching_twice_does_not_stack_wrappers(store_dir):
    with apirec.recording(store_dir, mode="record") as rec:
        rec.patch("tests.patch_target.module_function", name="first")
        rec.patch("tests.patch_target.module_function", name="second")
        inner = patch_target.module_function.__wrapped__
        assert not hasattr(inner, "__apirec_spec__")
        patch_target.module_function(1)
    assert patch_target.module_function.__name__ == "module_function"
    assert not hasattr(patch_target.module_function, "__apirec_spec__")
    assert len(files(store_dir)) == 1
    stored = json.loads((store_dir / files(store_dir)[0]).read_text())
    assert stored["request"]["function"] == "second"


async def test_apirec_patch_on_its_own_and_inherited_methods(store_dir):
    assert "fetch" not in patch_target.Child.__dict__
    with apirec.patch("tests.patch_target.Child.fetch", name="child.fetch"):
        with apirec.recording(store_dir, mode="record"):
            recorded = patch_target.Child().fetch("z")
        with apirec.recording(store_dir):
            assert patch_target.Child().fetch("z") == recorded
    assert "fetch" not in patch_target.Child.__dict__


def test_patch_of_a_missing_target_is_a_clear_error():
    with pytest.raises(ValueError, match="'nothing_here' not found"):
        apirec.patch("tests.patch_target.Remote.nothing_here").start()
    with pytest.raises(ValueError, match="no module"):
        apirec.patch("no_such_module_anywhere.f").start()
