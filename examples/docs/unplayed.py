"""docs/how-it-works.md: answers left unplayed when the code now stops one step earlier."""

from __future__ import annotations

import os
import tempfile

import apirec

STEPS = {"n": 3}  # how many tool calls the agent makes


@apirec.record(name="tools.step")
def step(n: int) -> str:
    return f"step {n} done"


def run_agent() -> list[str]:
    return [step(n) for n in range(STEPS["n"])]


def main() -> None:
    with apirec.recording("tests/recordings", test_id="agent", mode="record"):
        run_agent()
    with apirec.recording("tests/recordings", test_id="agent") as rec:
        run_agent()
    assert rec.unplayed() == [], rec.unplayed()  # like assert_complete() of a scripted model

    STEPS["n"] = 2  # the agent changed: it stops one step earlier
    with apirec.recording("tests/recordings", test_id="agent") as rec:
        run_agent()
    [left] = rec.unplayed()
    assert (left.test_id, left.function, left.slot) == ("agent", "tools.step", 0), left
    print("unplayed:", left)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        main()
