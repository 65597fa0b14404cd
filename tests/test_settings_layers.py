"""``apirec.record.layers.first_given``: the first layer that gives a value wins, and the
``Given`` it returns is a value (it was a frozen dataclass; as a plain class it must still
compare and hash by value)."""

from __future__ import annotations

import pytest

from apirec.record.layers import Given, first_given


def test_the_first_layer_that_gives_a_value_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIREC_TEST_LAYER", "from the environment")
    assert first_given(
        command_line=("--apirec-x", None), ini=("ini apirec_x", ""), environment="APIREC_TEST_LAYER"
    ) == Given("", "ini apirec_x")  # "" at a layer decides; None says nothing
    assert first_given(environment="APIREC_TEST_LAYER") == Given(
        "from the environment", "environment variable APIREC_TEST_LAYER"
    )
    monkeypatch.setenv("APIREC_TEST_LAYER", "")  # the shell's way of unsetting it
    assert first_given(environment="APIREC_TEST_LAYER") is None


def test_a_given_value_compares_and_hashes_by_value() -> None:
    assert Given(1, "a") == Given(1, "a")
    assert Given(1, "a") != Given(1, "b")
    assert Given(1, "a") != (1, "a")
    assert len({Given(1, "a"), Given(1, "a"), Given(2, "a")}) == 2
    assert repr(Given(1, "a")) == "Given(value=1, source='a')"
