"""``apirec ls`` and ``apirec drift`` fit the terminal they print to (its width, or
``COLUMNS``): long function names, test ids and file paths are cut, never wider lines. Output
that is not a terminal keeps every cell whole, for grep and files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

import apirec
from apirec.cli.app import main
from tests.terminal import run_on_terminal

LONG = "a_rather_long_package_name.with_a_deep_module.AndAClassWithALongName.a_method"


class Forecast(BaseModel):
    city: str
    degrees: int


@apirec.record(name=LONG)
def forecast(city: str) -> Forecast:
    return Forecast(city=city, degrees=21)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "a" / "deep" / "project" / "tests" / "recordings" / "of_the_weather_service"
    test_id = (
        "tests/integration/weather/test_forecasts_for_every_city_we_serve.py::"
        "TestForecasts::test_forecast[city=Saint-Remy-de-Provence-with-a-long-parameter]"
    )
    with apirec.recording(root, mode="record", test_id=test_id):
        forecast("Saint-Remy")
        forecast("Paris")
    for path in root.glob("*.json"):  # recorded by an older Forecast that had one more field
        entry = json.loads(path.read_text())
        entry["response"]["body"]["__data__"]["humidity_in_percent_at_noon"] = 40
        path.write_text(json.dumps(entry, indent=2))
    return root


def _lines(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    main(list(argv))
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("columns", [80, 100])
def test_ls_fits_the_terminal(store: Path, columns: int) -> None:
    code, shown, _ = run_on_terminal(["ls", str(store)], columns=columns)
    assert code == 0, shown
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= columns, shown
    row = lines[1]
    assert row.startswith("…") and ".a_method" in row  # the function keeps its end
    assert "  test_forec" in row  # the test keeps its start


@pytest.mark.parametrize("columns", [80, 100])
def test_drift_fits_the_terminal(store: Path, columns: int) -> None:
    code, shown, _ = run_on_terminal(["drift", str(store), "--trust", "tests"], columns=columns)
    assert code == 0, shown
    lines = shown.splitlines()
    assert any("humidity" in line for line in lines), shown
    assert max(len(line) for line in lines) <= columns, shown
    example = next(line for line in lines if "unknown" in line and ".json" in line)
    assert example.endswith(".json")  # the example file keeps its name


def test_output_that_is_not_a_terminal_keeps_every_cell_whole(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # as xdist's workers have it: not a terminal still
    lines = _lines(capsys, "ls", str(store))
    assert lines[1].startswith(LONG + " ")
    drift = "\n".join(_lines(capsys, "drift", str(store), "--trust", "tests"))
    assert str(store) in drift


NARROW = [60, 40]


def _fits(shown: str, columns: int) -> list[str]:
    lines = shown.splitlines()
    # a command to copy is printed whole (a terminal's own wrapping keeps it one line)
    too_wide = [s for s in lines if len(s) > columns and not s.startswith("  apirec ")]
    assert not too_wide, shown
    return lines


@pytest.mark.parametrize("columns", NARROW)
def test_ls_fits_a_narrow_terminal_naming_each_recording(store: Path, columns: int) -> None:
    code, shown, _ = run_on_terminal(["ls", str(store)], columns=columns)
    assert code == 0, shown
    lines = _fits(shown, columns)
    functions = [line for line in lines if line.endswith(".a_method")]
    tests = [line for line in lines if "test_forec" in line]
    assert len(functions) == len(tests) == 2, shown  # each recording's function and test
    assert "2 recordings" in shown


@pytest.mark.parametrize("columns", NARROW)
def test_drift_fits_a_narrow_terminal(store: Path, columns: int) -> None:
    code, shown, _ = run_on_terminal(["drift", str(store), "--trust", "tests"], columns=columns)
    assert code == 0, shown
    lines = _fits(shown, columns)
    assert any("humidity" in line for line in lines), shown
    assert any(line.rstrip().endswith(".json") for line in lines), shown  # the example file


@pytest.mark.parametrize("columns", NARROW)
def test_verify_fits_a_narrow_terminal(store: Path, columns: int) -> None:
    code, shown, _ = run_on_terminal(["verify", str(store)], columns=columns)
    assert code == 0, shown
    lines = _fits(shown, columns)
    assert any("Forecast  " in line for line in lines), shown  # the type keeps its end


@pytest.mark.parametrize("columns", [30])  # at 40 its table fits by cutting the test
def test_stats_fits_a_narrow_terminal(store: Path, columns: int) -> None:
    code, shown, _ = run_on_terminal(["stats", str(store), "--by", "test"], columns=columns)
    assert code == 0, shown
    lines = _fits(shown, columns)
    assert any("tests/integ" in line for line in lines), shown  # the test keeps its start
    assert any("total" in line for line in lines), shown


def _columns(line: str) -> int:
    """A line's width on a terminal, counted here apart from apirec's own measure: East Asian
    wide and full-width characters take two columns, combining marks and joiners none."""
    import unicodedata

    wide = ("W", "F")
    return sum(
        0
        if unicodedata.combining(ch) or ch in "\u200d\ufe0f"
        else 2
        if unicodedata.east_asian_width(ch) in wide
        else 1
        for ch in line
    )


@apirec.record(name="天气服务.获取未来十四天的详细天气预报和空气质量指数")
def wide_forecast(city: str) -> dict[str, str]:
    return {"city": city}


@apirec.record(name="svc.e\u0301te\u0301_cafe\u0301_re\u0301sume\u0301")
def combining(x: str) -> str:
    return x


@pytest.mark.parametrize("columns", [30, 60, 80, 120, 200])
@pytest.mark.parametrize("command", [["ls"], ["stats"], ["stats", "--by", "test"]])
def test_tables_with_wide_characters_fit_the_terminal(
    tmp_path: Path, columns: int, command: list[str]
) -> None:
    root = tmp_path / "recs"
    with apirec.recording(root, mode="record"):
        test_id = "tests/测试/test_天气.py::Test天气预报::test_北京_明天🌧️_会下雨吗[城市=北京]"
        with apirec.test_context(test_id):
            wide_forecast("北京")
        with apirec.test_context("tests/test_x.py::test_combining"):
            combining("x")
    code, shown, _ = run_on_terminal([*command, str(root)], columns=columns)
    assert code == 0, shown
    # was: the cells were measured in characters, a CJK name two columns each: too wide
    assert max(map(_columns, shown.splitlines())) <= columns, shown
