"""A replaying run's placeholder API keys wait for the SDK's own import (issue 19).

Finding an SDK's key variables imports the SDK; done when the run started, a project with
``apirec_integrations = openai`` in its ini paid openai's import (~0.45 s of CPU) on every
pytest run, also runs that never touch openai. Now the plugin waits for the run to import the
SDK, and sets the placeholders then, before any client of it can be built.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from apirec.integrations.after_import import after_import

INI = "[pytest]\napirec_integrations = openai\n"


def test_a_configured_run_that_never_imports_the_sdk_does_not_import_it(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_plain():
            assert "openai" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_client_built_when_its_test_module_is_imported_gets_the_placeholder(
    pytester, monkeypatch
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    pytester.makeini(INI)
    pytester.makepyfile(
        test_client="""
        import os
        import openai

        CLIENT = openai.OpenAI(base_url="http://127.0.0.1:9/v1")  # at collection, no key

        def test_client():
            assert CLIENT.api_key == os.environ["OPENAI_API_KEY"] == "apirec-replay-placeholder"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_run_that_records_sets_no_placeholder(pytester, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    pytester.makeini(INI)
    pytester.makepyfile(
        test_client="""
        import os
        import openai

        def test_no_key():
            assert "OPENAI_API_KEY" not in os.environ
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--apirec-mode=record")
    result.assert_outcomes(passed=1)


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A module of our own on sys.path, not imported yet."""
    name = f"apirec_probe_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def watchers() -> list[object]:
    return [f for f in sys.meta_path if type(f).__name__ == "_Watcher"]


def test_the_callback_runs_once_the_module_has_run_and_leaves_no_trace(probe):
    seen: list[int] = []
    after_import(probe, lambda: seen.append(sys.modules[probe].VALUE))
    assert seen == [] and len(watchers()) == 1  # not imported by waiting for it
    module = __import__(probe)
    assert seen == [42]
    assert watchers() == []
    assert type(module.__loader__).__name__ == "SourceFileLoader"  # the real loader again
    assert type(module.__spec__.loader).__name__ == "SourceFileLoader"


def test_a_module_already_imported_runs_the_callback_at_once(probe):
    __import__(probe)
    seen: list[str] = []
    after_import(probe, lambda: seen.append("now"))
    assert seen == ["now"] and watchers() == []


def test_a_forgotten_callback_never_runs(probe):
    seen: list[str] = []
    forget = after_import(probe, lambda: seen.append("ran"))
    forget()
    assert watchers() == []
    __import__(probe)
    assert seen == []


def test_a_module_that_fails_to_import_keeps_its_error(tmp_path, monkeypatch):
    (tmp_path / "apirec_probe_broken.py").write_text(
        textwrap.dedent(
            """
            raise RuntimeError("broken on purpose")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[str] = []
    forget = after_import("apirec_probe_broken", lambda: seen.append("ran"))
    try:
        with pytest.raises(RuntimeError, match="broken on purpose"):
            __import__("apirec_probe_broken")
        assert seen == []
    finally:
        forget()
        sys.modules.pop("apirec_probe_broken", None)
    assert watchers() == []


def test_a_watched_module_runs_with_its_own_loader(tmp_path, monkeypatch):
    name = f"apirec_probe_loader_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "import importlib.machinery\n"
        "LOADER = type(__loader__).__name__\n"
        "SPEC_LOADER = type(__spec__.loader).__name__\n"
        "IS_SOURCE = isinstance(__loader__, importlib.machinery.SourceFileLoader)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    forget = after_import(name, lambda: None)
    try:
        module = __import__(name)
    finally:
        forget()
        sys.modules.pop(name, None)
    assert (module.LOADER, module.SPEC_LOADER, module.IS_SOURCE) == (
        "SourceFileLoader",
        "SourceFileLoader",
        True,
    )


def test_an_sdks_key_variables_are_found_once_per_process(tmp_path, monkeypatch):
    """Finding them scans the SDK's client classes and sources (~0.8 ms): once, not at every
    recording that patches it (a suite patches it once per test)."""
    import inspect

    import apirec
    import apirec.integrations
    from apirec.integrations import stainless

    scanned: list[object] = []
    real = inspect.getsource

    def counting(obj: object) -> str:
        scanned.append(obj)
        return real(obj)  # type: ignore[arg-type]

    monkeypatch.setattr(inspect, "getsource", counting)
    stainless.credential_variables.cache_clear()
    for _ in range(3):
        with apirec.recording(tmp_path, mode="replay") as rec:
            apirec.integrations.patch(rec, "openai")
    assert scanned, "the scan never ran: nothing measured"
    first = len(scanned)
    with apirec.recording(tmp_path, mode="replay") as rec:
        apirec.integrations.patch(rec, "openai")
    assert len(scanned) == first
