"""rec.patch on the targets real code has: an instance's method, methods behind other
decorators (functools.wraps-based and wrapt-based), properties; and a plain def that returns
a coroutine."""

import warnings

import pytest

import apirec
from tests import patch_target


@pytest.mark.parametrize(
    ("target", "call"),
    [
        # the instance's own attribute is patched; the class and other instances are not
        ("tests.patch_target.service.lookup", lambda s: s.lookup("a")),
        ("tests.patch_target.Service.retried", lambda s: s.retried("a")),
        ("tests.patch_target.Service.traced_call", lambda s: s.traced_call("a")),
        ("tests.patch_target.Service.status", lambda s: s.status),
    ],
)
def test_patched_targets_record_then_replay_without_keying_self(tmp_path, target, call):
    service = patch_target.service
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(target, name="svc")
        recorded = call(service)
        assert rec.stats.recorded == 1
    service.calls = 100
    with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(target, name="svc")
        assert call(service) == recorded
        assert service.calls == 100  # replayed, not called
    assert call(service)["call"] == 101  # unpatched again: a real call
    assert "lookup" not in vars(service)  # the instance is as it was


def test_methods_recorded_under_another_decorator_do_not_key_self(tmp_path):
    service = patch_target.Service()
    with apirec.recording(tmp_path, mode="record"):
        first = [service.recorded_then_retried("a"), service.recorded_then_traced("b")]
    with apirec.recording(tmp_path, mode="replay"):
        # another instance: self is not part of the key, as for any method
        other = patch_target.Service()
        assert [other.recorded_then_retried("a"), other.recorded_then_traced("b")] == first
        assert other.calls == 0


def test_a_missing_instance_attribute_is_still_a_clear_error():
    with pytest.raises(ValueError, match="'nothing_here' not found"):
        apirec.patch("tests.patch_target.service.nothing_here").start()


def test_a_plain_def_returning_a_coroutine_says_what_to_do(tmp_path):
    recorded = apirec.record(name="coro")(patch_target.returns_a_coroutine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited" left behind
        with (
            pytest.raises(apirec.EncodeError, match=r"returned a coroutine") as info,
            apirec.recording(tmp_path, mode="record"),
        ):
            recorded(1)
    assert "async def" in str(info.value) and "register_type" not in str(info.value)
    assert not list(tmp_path.glob("*.json"))
