"""A replaying run holds the key variables known without importing an SDK from its start;
only the ones found in the SDK's own classes wait for the run to import it.

Found by review when every key waited for the import: mistralai (a namespace package, which
the import watcher cannot wrap) never got its placeholder; a process a test started no longer
inherited one; a key a test set for itself at the run's first ``import openai`` stood in for
the run's placeholder for good.
"""

from __future__ import annotations

import pytest

KEYS = ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "AZURE_OPENAI_API_KEY", "MISTRAL_API_KEY")


@pytest.fixture
def no_keys(monkeypatch):
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)


def test_mistralai_a_namespace_package_gets_its_placeholder(pytester, no_keys):
    pytest.importorskip("mistralai.client")
    pytester.makeini("[pytest]\napirec_integrations = mistralai\n")
    pytester.makepyfile(
        test_mistral="""
        import os
        from mistralai.client import Mistral

        # the usual way to build it: the key read from the environment, at import
        CLIENT = Mistral(api_key=os.environ["MISTRAL_API_KEY"])

        def test_key():
            assert os.environ["MISTRAL_API_KEY"] == "apirec-replay-placeholder"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


CHILD = """
import subprocess
import sys

def test_child_builds_a_client():
    code = "import openai; openai.OpenAI(base_url='http://127.0.0.1:9/v1'); print('built')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "built" in done.stdout, done.stderr[-400:]
"""


def test_a_child_process_of_a_replaying_run_builds_its_client(pytester, no_keys):
    """The run holds OPENAI_API_KEY from its start: the processes its tests start inherit
    it, also when the run itself never imports openai."""
    pytester.makeini("[pytest]\napirec_integrations = openai\n")
    pytester.makepyfile(test_child=CHILD)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_key_set_for_one_test_when_the_sdk_is_first_imported_is_not_the_runs(pytester, no_keys):
    """The run's first ``import openai`` comes in a test that set its own key for itself
    (monkeypatch); once monkeypatch puts the environment back, a session fixture's client
    (built by a later test) still gets the run's placeholder."""
    pytester.makeini("[pytest]\napirec_integrations = openai\n")
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def client():
            import openai
            return openai.OpenAI(base_url="http://127.0.0.1:9/v1")
        """
    )
    pytester.makepyfile(
        test_1="""
        def test_own_key(monkeypatch):
            monkeypatch.setenv("OPENAI_API_KEY", "sk-own")
            import openai
            assert openai.OpenAI(base_url="http://127.0.0.1:9/v1").api_key == "sk-own"
        """,
        test_2="""
        def test_uses_client(client):
            assert client.api_key == "apirec-replay-placeholder"
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
