"""Patches of one target undone in any order: the latest one still active is in place, and
the original comes back when the last one stops, whatever the order they close in."""

import itertools
import json

import pytest

import apirec
from tests import patch_target

TARGETS = {
    # defined on the module itself: restored by setting it back
    "tests.patch_target.module_function": lambda: vars(patch_target).get("module_function"),
    # inherited: the patch adds it to Child, and removing it must leave Child as it was
    "tests.patch_target.Child.fetch": lambda: vars(patch_target.Child).get("fetch"),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_patches_of_one_target_stop_in_any_order(target, order):
    installed = TARGETS[target]
    before = installed()
    patches = [apirec.patch(target, name=f"p{i}").start() for i in range(3)]
    assert installed().__apirec_spec__.name == "p2"
    for done, i in enumerate(order, start=1):
        patches[i].stop()
        open_ = [p for p in range(3) if p not in order[:done]]
        if open_:
            assert installed().__apirec_spec__.name == f"p{max(open_)}"
        else:
            assert installed() is before
    patches[order[0]].stop()  # stopping twice changes nothing
    assert installed() is before


def test_a_recording_closed_first_leaves_the_other_ones_patch_working(tmp_path):
    first = apirec.recording(tmp_path / "first", mode="record")
    second = apirec.recording(tmp_path / "second", mode="record")
    first.__enter__()
    first.patch("tests.patch_target.module_function", name="first")
    second.__enter__()
    second.patch("tests.patch_target.module_function", name="second")
    with pytest.warns(apirec.NothingRecordedWarning):  # its calls went to the second one
        first.__exit__(None, None, None)  # not the last opened: closes out of order
    assert patch_target.module_function(21) == 42
    second.__exit__(None, None, None)
    assert not hasattr(patch_target.module_function, "__apirec_spec__")  # unpatched for good
    (stored,) = (tmp_path / "second").glob("*.json")
    assert json.loads(stored.read_text())["request"]["function"] == "second"
