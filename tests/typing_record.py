"""Checked by mypy in CI (not collected by pytest): @record keeps signatures."""

from typing import assert_type

import apirec


@apirec.record
def plain(x: int, y: str = "a") -> list[int]:
    return [x]


@apirec.record(name="n", ignore=["y"])
async def configured(x: int, y: str = "a") -> dict[str, int]:
    return {y: x}


class Service:
    @apirec.record
    def method(self, q: str) -> float:
        return 1.0


async def check() -> None:
    assert_type(plain(1), list[int])
    assert_type(await configured(1, y="b"), dict[str, int])
    assert_type(Service().method("q"), float)
    with apirec.recording("r", mode=apirec.Mode.REPLAY) as rec:
        assert_type(rec, apirec.Recording)
