"""Review 21: the record budget and the code under test that runs in another process under
``apirec run`` (docs/servers.md: a backend a fixture starts; its SDK calls are recorded there
and filed under the test that caused them).

docs/pytest.md, "A budget for recording": "The budget is the run's: it holds every recording
opened while the plugin runs". `--apirec-mode` reached the server (APIREC_MODE), the budget did
not: a run with `--apirec-record-budget=1` let the server record every call it makes. Now the
plugin hands every process the run's budget and its spend file (apirec.pytest.environment).
"""

from __future__ import annotations

# The code under test: a program that asks three questions, as a backend would for a request.
PROGRAM = """
import os, openai
with openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0) as c:
    for i in range(3):
        try:
            question = [{"role": "user", "content": f"q {i}"}]
            c.chat.completions.create(model="gpt-4o", messages=question)
            print("ok", i)
        except Exception as error:
            print("refused", i, type(error).__name__)
"""

TEST = """
import subprocess, sys

def test_the_program(apirec):
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "run", "--dir", "server-recordings",
         "--integrations", "openai", "--", sys.executable, "program.py"],
        capture_output=True, text=True, timeout=120,
    )
    print(done.stdout, done.stderr)
    assert "refused" in done.stdout, done.stdout
"""


def test_the_budget_holds_the_recordings_of_a_server_under_test(
    pytester, monkeypatch, openai_server
):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n")
    pytester.makepyfile(program=PROGRAM, test_program=TEST)
    result = pytester.runpytest_subprocess("--apirec-mode=record", "--apirec-record-budget=1")
    stored = list((pytester.path / "server-recordings").glob("*.json"))
    assert len(stored) < 3, result.stdout.str()
    result.assert_outcomes(passed=1)
    # the program's spend is the run's: counted once, in the one budget, and reported
    result.stdout.fnmatch_lines(["apirec: *; recording spent * tokens of the 1 budget*"])


# The test spends the budget itself first: the program it then starts shares that budget
# (the run's one spend file), so each of its calls is refused; a budget of its own would let
# it record one.
SPENDS_FIRST = """
import os, subprocess, sys, openai

def test_the_program_after_a_call_of_its_own(apirec):
    with openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0) as c:
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "run", "--dir", "server-recordings",
         "--integrations", "openai", "--", sys.executable, "program.py"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.stdout.count("BudgetExceeded") == 3, (done.stdout, done.stderr)
"""


def test_a_program_a_test_starts_shares_the_budget_the_test_spent(
    pytester, monkeypatch, openai_server
):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n")
    pytester.makepyfile(program=PROGRAM, test_program=SPENDS_FIRST)
    result = pytester.runpytest_subprocess(
        "--apirec-mode=record", "--apirec-record-budget=1", "--apirec-integrations=openai"
    )
    result.assert_outcomes(passed=1)
    assert not list((pytester.path / "server-recordings").glob("*.json"))
    result.stdout.fnmatch_lines(
        ["apirec: 0 replayed, 1 recorded, *; recording spent * of the 1 budget*"]
    )
