"""The plugin named on the command line: ``-p apirec`` (its entry point) or ``-p
apirec.pytest.plugin`` (its module, in configs written before the start-up was split off),
with pytest's autoloading of plugins on or off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), and
both at once: each gives the options, ini keys, marker, fixture and summary, registered once.

Real pytest processes (``runpytest_subprocess``): autoloading is decided at a process's start.
"""

from __future__ import annotations

import pytest

from .plugin_helpers import PROVIDER, stored

# the other plugins are blocked: their keys would be unknown when autoloading is off
INI = """
[pytest]
addopts = -p no:cacheprovider -p no:asyncio -p no:hypothesispytest -p no:xdist -p no:anyio
filterwarnings = error
apirec_dir = recs
"""

TESTS = """
import pytest
import provider

@pytest.mark.apirec(store="json")
def test_marked():
    assert provider.add(2, b=3) == {"sum": 5}

def test_fixture(apirec):
    assert provider.add(4) == {"sum": 5}
    assert apirec.mode.value == pytest.apirec_expected_mode
"""

CONFTEST = """
import pytest

def pytest_configure(config):
    pytest.apirec_expected_mode = config.getoption("apirec_mode") or "replay"
"""


@pytest.mark.parametrize(
    ("plugins", "autoload"),
    [
        (["-p", "apirec.pytest.plugin"], False),
        (["-p", "apirec.pytest.plugin"], True),
        (["-p", "apirec"], False),
        (["-p", "apirec", "-p", "apirec.pytest.plugin"], False),
        (["-p", "apirec.pytest.plugin", "-p", "apirec"], True),
    ],
    ids=["module-no-autoload", "module-autoload", "entry-point-no-autoload", "both", "both-rev"],
)
def test_the_plugin_named_with_p_records_and_replays(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, plugins: list[str], autoload: bool
) -> None:
    if autoload:
        monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    else:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini(INI)
    pytester.makepyfile(provider=PROVIDER, conftest=CONFTEST, test_calls=TESTS)

    # the option, the ini key (apirec_dir), the marker under --strict-markers, the fixture
    recorded = pytester.runpytest_subprocess(*plugins, "--strict-markers", "--apirec-mode=record")
    recorded.assert_outcomes(passed=2)
    assert recorded.ret == 0
    assert len(stored(pytester.path / "recs")) == 2

    replayed = pytester.runpytest_subprocess(*plugins, "--strict-markers")
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["apirec: 2 replayed, 0 recorded, 0 live, 0 missed; *"])

    helped = pytester.runpytest_subprocess(*plugins, "--help")
    helped.stdout.fnmatch_lines(["*--apirec-mode=MODE*", "*apirec_integrations*"])
    assert helped.ret == 0
