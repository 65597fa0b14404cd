"""A replayed exception has the recorded type, ``str()``, ``args`` and standard attributes
(DESIGN §5; issue 11 B10), also when its arguments were not plain data."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import pytest

import apirec


class URL:
    """Like yarl's URL: not data apirec stores, with a ``str()``."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"URL({self._text!r})"


class RequestInfo(NamedTuple):
    url: URL
    method: str
    real_url: URL


class ClientResponseError(Exception):
    """aiohttp's ``ClientResponseError``: ``__str__`` reads ``request_info.real_url``, and
    ``request_info`` is not data."""

    def __init__(
        self, request_info: RequestInfo, history: tuple[Any, ...], *, status: int, message: str
    ) -> None:
        self.request_info = request_info
        self.status = status
        self.message = message
        self.history = history
        super().__init__(request_info, history)

    def __str__(self) -> str:
        return f"{self.status}, message={self.message!r}, url={str(self.request_info.real_url)!r}"


class Opaque:
    def __str__(self) -> str:
        return "opaque thing"

    def __repr__(self) -> str:
        return "<Opaque>"


def _os_error(cls: type[OSError], code: int, path: str, other: str | None = None) -> OSError:
    if other is None:
        return cls(code, os.strerror(code), path)
    return cls(code, os.strerror(code), path, None, other)


def _unicode_decode() -> UnicodeDecodeError:
    try:
        b"ok \xff".decode("utf-8")
    except UnicodeDecodeError as e:
        return e
    raise AssertionError


def _unicode_encode() -> UnicodeEncodeError:
    try:
        "caf\u00e9".encode("ascii")
    except UnicodeEncodeError as e:
        return e
    raise AssertionError


def _real_file_not_found(tmp: Path) -> OSError:
    try:
        (tmp / "missing.txt").open()
    except FileNotFoundError as e:
        return e
    raise AssertionError


ERRORS = {
    "decimal-arg": lambda tmp: ValueError(Decimal("1.50")),
    "path-arg": lambda tmp: RuntimeError(Path("/srv/data.bin")),
    "several-typed-args": lambda tmp: ValueError("bad", Decimal("2"), (1, 2), b"\x00"),
    "unencodable-arg": lambda tmp: RuntimeError(Opaque()),
    "unencodable-among-args": lambda tmp: RuntimeError("x", Opaque()),
    "unicode-decode": lambda tmp: _unicode_decode(),
    "unicode-encode": lambda tmp: _unicode_encode(),
    "file-not-found": _real_file_not_found,
    "os-error-two-paths": lambda tmp: _os_error(OSError, errno.EXDEV, "/a", "/b"),
    "permission": lambda tmp: _os_error(PermissionError, errno.EACCES, "/root/x"),
    "aiohttp-like": lambda tmp: ClientResponseError(
        RequestInfo(URL("http://h/a"), "GET", URL("http://h/b?q=1")),
        (),
        status=404,
        message="Not Found",
    ),
}
OS_ATTRIBUTES = ("errno", "strerror", "filename", "filename2")
UNICODE_ATTRIBUTES = ("encoding", "object", "start", "end", "reason")


def _storable(value: Any) -> bool:
    try:
        apirec.encode(value)
    except apirec.EncodeError:
        return False
    return True


def assert_same_error(replayed: BaseException, recorded: BaseException) -> None:
    assert type(replayed) is type(recorded)
    assert str(replayed) == str(recorded)
    if all(_storable(a) for a in recorded.args):
        assert replayed.args == recorded.args
        assert [type(a) for a in replayed.args] == [type(a) for a in recorded.args]
    else:
        assert len(replayed.args) == len(recorded.args)
        assert repr(replayed.args) == repr(recorded.args)
    names = OS_ATTRIBUTES if isinstance(recorded, OSError) else ()
    names += UNICODE_ATTRIBUTES if isinstance(recorded, UnicodeError) else ()
    for name in names:
        assert getattr(replayed, name) == getattr(recorded, name), name


@pytest.mark.parametrize("which", ERRORS)
def test_replayed_exception_keeps_type_str_args_and_attributes(tmp_path, which):
    recorded = ERRORS[which](tmp_path)

    @apirec.record(name="fails")
    def fails(n: int) -> None:
        raise recorded

    with apirec.recording(tmp_path / "rec", mode="record"), pytest.raises(type(recorded)):
        fails(1)
    for _ in range(2):
        with (
            apirec.recording(tmp_path / "rec", mode="replay"),
            pytest.raises(type(recorded)) as info,
        ):
            fails(1)
        assert_same_error(info.value, recorded)


@pytest.mark.parametrize("which", ERRORS)
def test_exceptions_in_values_round_trip_through_the_codec(tmp_path, which):
    recorded = ERRORS[which](tmp_path)
    stored = json.loads(json.dumps(apirec.encode({"error": recorded})))
    replayed = apirec.decode(stored)["error"]
    assert_same_error(replayed, recorded)
    assert apirec.encode({"error": replayed}) == stored  # stable when stored again


def test_aiohttp_like_error_reads_what_its_str_needs(tmp_path):
    recorded = ERRORS["aiohttp-like"](tmp_path)
    replayed = apirec.decode(json.loads(json.dumps(apirec.encode(recorded))))
    assert str(replayed.request_info.real_url) == "http://h/b?q=1"
    assert (replayed.status, replayed.message) == (404, "Not Found")


class PrivateStr(Exception):
    """``__str__`` reads a private attribute holding data."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self._table = {code: "looked up"}

    def __str__(self) -> str:
        return f"{self.args[0]}: {self._table[self.args[0]]}"


class GlobalStr(Exception):
    """``__str__`` reads a process-wide table that no recording has."""

    live: ClassVar[dict[object, str]] = {}

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self._key = object()
        GlobalStr.live[self._key] = f"code {code} seen live"

    def __str__(self) -> str:
        return GlobalStr.live[self._key]


def test_str_reads_recorded_private_data():
    recorded = PrivateStr(3)
    replayed = apirec.decode(json.loads(json.dumps(apirec.encode(recorded))))
    assert type(replayed) is PrivateStr
    assert str(replayed) == "3: looked up" and replayed.args == (3,)


def test_str_comes_back_even_when_the_class_cannot_rebuild_it():
    recorded = GlobalStr(3)
    stored = json.loads(json.dumps(apirec.encode(recorded)))
    replayed = apirec.decode(stored)
    assert isinstance(replayed, GlobalStr)
    assert type(replayed).__mro__[1] is GlobalStr  # apirec's subclass, named alike
    assert type(replayed).__qualname__ == "GlobalStr"
    assert str(replayed) == "code 3 seen live" and replayed.args == (3,)
    assert apirec.encode(replayed) == stored


def test_older_exception_data_still_replays():
    """Files written before typed args: ``args`` holds only the plain ones."""
    old = {"type": "builtins.ValueError", "message": "bad", "args": ["bad"], "attributes": {}}
    stored = {"__type__": "builtins.ValueError", "__data__": old}
    replayed = apirec.decode(stored)
    assert type(replayed) is ValueError and replayed.args == ("bad",) and str(replayed) == "bad"


@dataclasses.dataclass
class ClientConfig:
    api_key: str


class ConfiguredError(Exception):
    def __init__(self, message: str, config: ClientConfig) -> None:
        super().__init__(message)
        self.config = config
        self.when = (Path("/a"), b"raw")


def test_objects_on_an_exception_are_not_written_only_values_are(tmp_path):
    recorded = ConfiguredError("refused", ClientConfig(api_key="sk-secret"))

    @apirec.record(name="configured")
    def fails() -> None:
        raise recorded

    with apirec.recording(tmp_path, mode="record"), pytest.raises(ConfiguredError):
        fails()
    (path,) = tmp_path.glob("*.json")
    assert "sk-secret" not in path.read_text()
    with apirec.recording(tmp_path, mode="replay"), pytest.raises(ConfiguredError) as info:
        fails()
    assert str(info.value) == "refused" and info.value.when == (Path("/a"), b"raw")
    assert not hasattr(info.value, "config")


def test_a_long_message_replays_whole():
    recorded = RuntimeError(Decimal("1." + "7" * 30_000))
    replayed = apirec.decode(json.loads(json.dumps(apirec.encode(recorded))))
    assert type(replayed) is RuntimeError and str(replayed) == str(recorded)
