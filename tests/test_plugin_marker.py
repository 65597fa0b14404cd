"""@pytest.mark.apirec(...): the options of apirec.recording(), no fixture needed."""

import pytest

from .plugin_helpers import setup, stored


def test_marker_activates_a_recording_with_its_options(pytester):
    setup(pytester)
    pytester.makepyfile(
        """
        import pytest, provider

        pytestmark = pytest.mark.apirec("cassettes", mode="record-if-missing")

        def test_marked_module():
            assert provider.add(5) == {"sum": 6}

        @pytest.mark.apirec(mode="replay", trusted_modules=["provider"], strict_types=True)
        def test_marked_function(apirec):
            assert apirec.settings.trusted_modules == ("provider",)
            assert apirec.settings.path.name == "recordings"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    entries = stored(pytester.path / "cassettes")
    assert [e["test_id"] for e in entries] == [
        "test_marker_activates_a_recording_with_its_options.py::test_marked_module"
    ]
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["apirec: 1 replayed, 0 recorded, 0 live, 0 missed; *"])


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('"a", "b"', "*takes one positional path*"),
        ("record_mode='all'", "*unknown option(s) record_mode; it takes path, mode, store*"),
        ("mode='sometimes'", "*'sometimes' is not a valid record mode (@pytest.mark.apirec on *"),
    ],
)
def test_bad_marker_options_are_clear_errors(pytester, marker, message):
    setup(pytester)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.apirec({marker})
        def test_x():
            pass
        """
    )
    result = pytester.runpytest()
    assert result.ret != 0
    assert message.strip("*") in result.stdout.str() + result.stderr.str()


def test_marker_on_one_parameter_only(pytester):
    setup(pytester)
    pytester.makepyfile(
        """
        import pytest, apirec
        from apirec.record.context import active_recording

        @pytest.mark.parametrize(
            "marked", [pytest.param(True, marks=pytest.mark.apirec(mode="live")), False]
        )
        def test_it(request, marked):
            assert ("apirec" in request.fixturenames) is marked
            assert (active_recording() is not None) is marked

        class TestClass:
            pytestmark = pytest.mark.apirec(mode="live")

            def test_in_class(self):
                assert active_recording().mode == "live"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["apirec: 0 replayed, 0 recorded, 0 live, 0 missed; *"])


def test_markers_help_shows_the_runs_options_as_the_defaults_of_a_marked_test(pytester):
    # --apirec-store applies to marked tests too: the help must not promise store='json'
    setup(pytester)
    pytester.makepyfile(
        """
        import pytest, provider

        @pytest.mark.apirec(mode="record-if-missing")
        def test_marked(apirec):
            assert apirec.settings.store == "msgpack"
            assert provider.add(5) == {"sum": 6}
        """
    )
    pytester.runpytest("--apirec-store=msgpack").assert_outcomes(passed=1)
    result = pytester.runpytest("--markers")
    line = next(line for line in result.stdout.lines if line.startswith("@pytest.mark.apirec("))
    assert "store='json'" not in line and "mode=None" not in line, line
    for option in ("path", "mode", "store", "block_network", "integrations", "repeats"):
        assert f"{option}=<the run's" in line, (option, line)
    from apirec.pytest.plugin import MARKER_OPTIONS

    for option in MARKER_OPTIONS:  # every option the marker takes is in its help
        assert f"{option}=" in line, (option, line)
