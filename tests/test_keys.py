import dataclasses
import datetime as dt
import enum
import socket
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

import apirec
from apirec.keys.spec import KeySpec, compute_key


def spec_for(func, **options):
    return KeySpec(func, name=options.pop("name", "f"), **options)


def canonical(func, *args, instance=None, **kwargs):
    spec = spec_for(func)
    for_key, _ = spec.canonical(spec.bind(instance, args, kwargs))
    return for_key


def key_of(func, *args, scope=None, **kwargs):
    spec = spec_for(func)
    for_key, _ = spec.canonical(spec.bind(None, args, kwargs))
    return spec.key(for_key, scope)


def search(query, max_results=5, *, region="us", api_key=None):
    pass


def test_positional_and_keyword_spellings_give_one_key():
    assert key_of(search, "llamas", 3) == key_of(search, query="llamas", max_results=3)
    assert key_of(search, "llamas", 3) == key_of(search, max_results=3, query="llamas")


def test_arguments_equal_to_their_default_are_left_out():
    assert canonical(search, "llamas", 5, region="us") == {"query": "llamas"}
    assert key_of(search, "llamas") == key_of(search, "llamas", 5, region="us")
    assert key_of(search, "llamas") != key_of(search, "llamas", 6)


def test_adding_an_optional_parameter_keeps_old_keys():
    def v1(query):
        pass

    def v2(query, temperature=None):
        pass

    assert key_of(v1, "q") == key_of(v2, "q")


def test_key_is_32_hex_digits_and_depends_on_name_and_scope():
    key = compute_key("f", {"a": 1}, None)
    assert len(key) == 32 and int(key, 16) >= 0
    assert compute_key("g", {"a": 1}, None) != key
    assert compute_key("f", {"a": 1}, "tests/test_x.py::test_y") != key
    assert compute_key("f", {"a": 1}, None) == key


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Message(BaseModel):
    role: str
    content: str


def takes(value):
    pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": 2}, {"a": 2, "b": 1}),
        ((1, 2), [1, 2]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        (Message(role="user", content="hi"), {"content": "hi", "role": "user"}),
        (Point(1.0, 2.5), {"x": 1.0, "y": 2.5}),
        (Color.RED, "red"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (Decimal("1.10"), "1.10"),
        (Path("/"), "/"),  # a directory: its text
        (Path("/no/such/dir/out.txt"), {"absent": 1, "file": "out.txt"}),  # an output path
        (b"\x00\xff", b"\x00\xff"),
        (0.1 + 0.2, 0.3),
        (1.23456789, 1.234568),
        (-0.0, 0.0),
        ([{"z": (1,)}], [{"z": [1]}]),
    ],
)
def test_values_become_plain_data(value, expected):
    assert canonical(takes, value) == {"value": expected}


def test_dict_order_does_not_change_the_key():
    assert key_of(takes, {"a": 1, "b": [1, 2]}) == key_of(takes, {"b": [1, 2], "a": 1})


def test_float_rounding_is_configurable():
    coarse = spec_for(takes, float_digits=2)
    for_key, _ = coarse.canonical(coarse.bind(None, (3.14159,), {}))
    assert for_key == {"value": 3.14}
    assert key_of(takes, 0.30000000001) == key_of(takes, 0.3)


def test_a_float_keys_the_same_in_any_order_of_calls():
    """Rounding is memoized per function: what one call rounded first must not change how
    a later call's value (its negative zero, a value that rounds to it) is keyed."""
    values = [0.3, 0.1 + 0.2, -0.0, 0.0, 0.7, 0.70000000001, 1e-7, -1e-7, 2.5, 0.123456789]
    fresh = {repr(v): canonical(takes, v) for v in values}  # a new spec per value
    one = spec_for(takes)
    for order in (values, values[::-1]):
        for v in order:
            assert one.canonical(one.bind(None, (v,), {}))[0] == fresh[repr(v)], v
    assert fresh[repr(-0.0)] == fresh[repr(0.0)] == {"value": 0.0}
    assert str(fresh[repr(-1e-7)]["value"]) == "0.0"  # rounds to zero, without its sign


class Client:
    @apirec.record
    def method(self, x, y=1):
        pass

    @apirec.record
    @classmethod
    def klass(cls, x):
        pass

    @apirec.record
    @staticmethod
    def static(x):
        pass


def test_self_and_cls_are_left_out():
    method_spec = Client.method.__apirec_spec__
    assert method_spec.bind(Client(), (1,), {}) == {"x": 1}
    klass_spec = Client.__dict__["klass"].__apirec_spec__
    assert klass_spec.bind(Client, (1,), {}) == {"x": 1}
    static_spec = Client.__dict__["static"].__apirec_spec__
    assert static_spec.bind(None, (1,), {}) == {"x": 1}


def test_var_positional_and_var_keyword():
    def f(a, *rest, **extra):
        pass

    assert canonical(f, 1, 2, 3, flag=True) == {"a": 1, "rest": [2, 3], "flag": True}


def test_binding_errors_read_like_python():
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        canonical(search, "q", nope=1)
    with pytest.raises(TypeError, match="positional arguments"):
        canonical(search, "q", 1, 2)
    with pytest.raises(TypeError, match=r"missing 1 required argument.*'query'"):
        canonical(search, max_results=3)


def test_parameters_a_decorator_supplies_are_not_required():
    import functools

    def with_session(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            return f(*args, session="s", **kwargs)

        return wrapper

    @with_session
    def fetch(query, session):
        pass

    assert canonical(fetch, "q") == {"query": "q"}


def test_ignore_parameters_and_dotted_paths():
    def create(messages, extra_headers=None, request_id=None):
        pass

    spec = spec_for(create, ignore=["request_id", "extra_headers.X-Trace-Id"])
    bound = spec.bind(
        None, (["hi"],), {"extra_headers": {"X-Trace-Id": "t1", "X-Team": "a"}, "request_id": "r1"}
    )
    for_key, for_store = spec.canonical(bound)
    assert for_key == {"extra_headers": {"X-Team": "a"}, "messages": ["hi"]}
    assert for_store == for_key
    other = spec.bind(
        None, (["hi"],), {"extra_headers": {"X-Trace-Id": "t2", "X-Team": "a"}, "request_id": "r2"}
    )
    assert spec.key(spec.canonical(other)[0], None) == spec.key(for_key, None)


def test_ignored_parameter_may_be_unhashable():
    def call(query, client=None):
        pass

    spec = spec_for(call, ignore=["client"])
    with socket.socket() as client:
        for_key, _ = spec.canonical(spec.bind(None, ("q",), {"client": client}))
    assert for_key == {"query": "q"}


def test_secrets_are_left_out_of_the_key_and_redacted_when_stored():
    def create(model, api_key=None, extra_headers=None, options=None):
        pass

    spec = spec_for(create)
    kwargs = {
        "api_key": "sk-live-1",
        "extra_headers": {"Authorization": "Bearer abc", "X-Team": "a"},
        "options": {"nested": {"password": "hunter2"}, "max_tokens": 5},
    }
    for_key, for_store = spec.canonical(spec.bind(None, ("gpt",), kwargs))
    assert "api_key" not in for_key
    assert for_key["extra_headers"] == {"X-Team": "a"}
    assert for_key["options"] == {"max_tokens": 5, "nested": {}}
    assert for_store["api_key"] == "<redacted>"
    assert for_store["extra_headers"]["Authorization"] == "<redacted>"
    assert for_store["options"]["nested"]["password"] == "<redacted>"
    assert for_store["options"]["max_tokens"] == 5  # "max_tokens" is not a secret
    # the secret's value does not change the key; its absence does not either
    kwargs2 = dict(kwargs, api_key="sk-live-2")
    assert spec.canonical(spec.bind(None, ("gpt",), kwargs2))[0] == for_key
    no_key = {k: v for k, v in kwargs.items() if k != "api_key"}
    assert spec.canonical(spec.bind(None, ("gpt",), no_key))[0] == for_key


def test_user_redaction_rules_add_to_the_defaults():
    def call(query, session_hint=None, api_key=None):
        pass

    spec = spec_for(call, redact=["session_hint"])
    _, stored = spec.canonical(spec.bind(None, ("q",), {"session_hint": "s", "api_key": "k"}))
    assert stored == {"api_key": "<redacted>", "query": "q", "session_hint": "<redacted>"}


def test_normalize_sees_the_canonical_mapping():
    def chat(prompt, seed=None):
        pass

    seen = []

    def drop_dates(args):
        seen.append(dict(args))
        return {**args, "prompt": args["prompt"].split(" at ")[0]}

    spec = spec_for(chat, normalize=drop_dates)
    k1 = spec.key(spec.canonical(spec.bind(None, ("hello at 10:01",), {}))[0], None)
    k2 = spec.key(spec.canonical(spec.bind(None, ("hello at 11:30",), {}))[0], None)
    assert k1 == k2
    assert seen[0] == {"prompt": "hello at 10:01"}


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (lambda: 1, "function"),
        (object(), "builtins.object"),
        (socket.socket, "type"),
    ],
)
def test_unhashable_argument_names_parameter_and_type(value, type_name):
    with pytest.raises(apirec.UnhashableArgument) as info:
        canonical(takes, value)
    message = str(info.value)
    assert "'value'" in message and type_name in message
    assert "ignore=" in message
    assert info.value.parameter == "value"
    assert isinstance(info.value, TypeError)


def test_unhashable_value_nested_in_a_dict_names_its_path():
    with pytest.raises(apirec.UnhashableArgument, match=r"value\.inner\[1\]"):
        canonical(takes, {"inner": [1, object()]})


def test_shared_functions_ignore_the_test_scope():
    spec = spec_for(takes, shared=True)
    assert spec.key({"value": 1}, "test_a") == spec.key({"value": 1}, "test_b")
    plain = spec_for(takes)
    assert plain.key({"value": 1}, "test_a") != plain.key({"value": 1}, "test_b")


def test_integers_beyond_64_bits_have_a_key():
    assert key_of(takes, 10**30) != key_of(takes, 10**30 + 1)
    assert key_of(takes, [10**30]) == key_of(takes, value=[10**30])
