"""A replayed pydantic model equals the recorded one, field for field (DESIGN §4, issue 11 B9).

What a plain ``model_dump`` loses: values default factories made, aliased and excluded fields,
typed values under ``Any`` and ``extra``, ``model_fields_set``, root models, and private
attributes the SDKs set after parsing (openai's ``_request_id``).
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import itertools
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel

import apirec
from apirec.codec.replay_plans import once, plan

_counter = itertools.count()


class Event(BaseModel):
    id: str = Field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")
    at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    seq: int = Field(default_factory=lambda: next(_counter))
    name: str


class Aliased(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    user_id: int = Field(serialization_alias="userId")
    secret: str = Field("none", exclude=True)
    label: str = Field(alias="Label")


class Loose(BaseModel, extra="allow"):
    payload: Any = None
    items: list[Any] = []


class Level(enum.IntEnum):
    HIGH = 2


class Holder(BaseModel):
    events: list[Event]
    by_name: dict[str, Event] = {}


class WithPrivate(BaseModel):
    value: int
    _cache: dict[str, int] = PrivateAttr(default_factory=dict)


class Item(BaseModel):
    n: int


Items = RootModel[list[Item]]


class Names(RootModel[list[str]]):
    pass


def replay(value: Any) -> Any:
    """Through the stored form: JSON text, as a recording keeps it."""
    return apirec.decode(json.loads(json.dumps(apirec.encode(value))))


def same_model(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert a.__dict__ == b.__dict__
    assert [type(v) for v in a.__dict__.values()] == [type(v) for v in b.__dict__.values()]
    assert a.__pydantic_extra__ == b.__pydantic_extra__
    assert a.__pydantic_private__ == b.__pydantic_private__
    assert a.model_fields_set == b.model_fields_set


def test_default_factory_values_replay_as_recorded_every_time():
    recorded = Event(name="start")
    first, second = replay(recorded), replay(recorded)
    same_model(first, recorded)
    same_model(second, recorded)
    assert first.model_fields_set == {"name"}  # still not "set": the factory made them


def test_nested_default_factory_values_replay_as_recorded():
    recorded = Holder(events=[Event(name="a"), Event(name="b")], by_name={"c": Event(name="c")})
    back = replay(recorded)
    assert back == recorded
    assert [e.id for e in back.events] == [e.id for e in recorded.events]
    assert back.by_name["c"].at == recorded.by_name["c"].at


class AliasedWithExtras(BaseModel, extra="allow"):
    user_id: int = Field(0, serialization_alias="userId")


def test_serialization_alias_and_excluded_fields_replay():
    recorded = Aliased(user_id=7, secret="s3", Label="x")
    back = replay(recorded)
    same_model(back, recorded)
    assert back.user_id == 7 and back.secret == "s3" and back.label == "x"


def test_an_aliased_key_never_becomes_an_extra_value():
    recorded = AliasedWithExtras(user_id=7, note="kept")
    back = replay(recorded)
    same_model(back, recorded)
    assert back.model_extra == {"note": "kept"}


def test_typed_values_under_any_and_extra_keep_their_types():
    moment = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    recorded = Loose(
        payload={"at": moment, "raw": b"\x00\xff", "pair": (1, 2)},
        items=[Decimal("1.5"), (3, 4), b"x", Level.HIGH, 1, 1.0, True],
        when=moment,
        blob=b"bytes",
        nested=Item(n=1),
    )
    back = replay(recorded)
    same_model(back, recorded)
    assert type(back.payload["at"]) is dt.datetime
    assert type(back.payload["raw"]) is bytes
    assert type(back.payload["pair"]) is tuple
    assert type(back.when) is dt.datetime and type(back.nested) is Item


def test_values_an_sdk_built_without_validation_replay_as_built():
    """openai builds responses with ``construct``: a field may hold what its type does not say."""
    recorded = Holder.model_construct(events=[Event.model_construct(name="n", seq="7")])
    back = replay(recorded)
    assert back.events[0].seq == "7"
    same_model(back.events[0], recorded.events[0])


def test_private_attributes_replay():
    recorded = WithPrivate(value=1)
    recorded._cache["k"] = 2
    back = replay(recorded)
    assert back._cache == {"k": 2}
    same_model(back, recorded)


@pytest.mark.parametrize(
    "recorded", [Items([Item(n=1), Item(n=2)]), Names(["a", "b"])], ids=["generic", "subclass"]
)
def test_root_models_replay(recorded):
    back = replay(recorded)
    same_model(back, recorded)


def test_models_that_lose_nothing_are_stored_as_before():
    """Backwards compatible: the envelope gains a key only when the dump would lose something."""
    assert apirec.encode(Item(n=1)) == {"__type__": f"{__name__}.Item", "__data__": {"n": 1}}
    stored = apirec.encode(Event(name="x"))
    assert set(stored) == {"__type__", "__data__", "__state__"}
    assert stored["__data__"] == {"name": "x"}  # the dump itself is unchanged


def test_stored_state_round_trips_byte_for_byte():
    recorded = Loose(payload=dt.date(2024, 1, 2), extra_at=Event(name="e"))
    stored = apirec.encode(recorded)
    assert apirec.encode(apirec.decode(stored)) == stored


@pytest.mark.parametrize(
    "state",
    [
        {"values": {"_not_a_field": 1}},
        {"private": {"__class__": "x"}},
        {"private": {"model_dump": "x"}},
        {"set": ["no_such_field"]},
        {"unknown_key": 1},
        ["not", "an", "object"],
    ],
)
def test_bad_state_is_a_decode_error(state):
    data = {"__type__": f"{__name__}.Item", "__data__": {"n": 1}, "__state__": state}
    with pytest.raises(apirec.DecodeError, match="Item"):
        apirec.decode(data, file="r.json")


def test_state_is_refused_on_values_that_are_not_models():
    with pytest.raises(apirec.DecodeError, match="exactly"):
        apirec.decode({"__type__": "builtins.tuple", "__data__": [], "__state__": {}})


@pytest.mark.parametrize("decoder", ["plan", "once"])
def test_fast_replay_paths_keep_state_and_give_fresh_objects(decoder):
    recorded = Loose(payload={"at": dt.date(2024, 1, 2)}, items=[[1]])
    stored = apirec.encode(recorded)
    if decoder == "plan":
        make = plan(stored)
        first, second = make(), make()
    else:
        first, second = once(json.loads(json.dumps(stored))), once(stored)
    same_model(first, recorded)
    first.payload["at"] = "changed"
    first.items[0].append(2)
    same_model(second, recorded)


# -- through the real openai SDK --------------------------------------------------------------

TARGET = "openai.resources.chat.completions.AsyncCompletions.create"
MESSAGES = [{"role": "user", "content": "llamas eat grass"}]


async def test_openai_request_id_replays(openai_server, make_client, tmp_path):
    client = make_client(openai_server.base_url)
    async with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(TARGET, name="openai.chat")
        live = await client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert live._request_id == "req_1"
    openai_server.stop()
    for _ in range(2):  # the first replay, the one that plans, and the planned ones after it
        async with apirec.recording(tmp_path, mode="replay", repeats="last") as rec:
            rec.patch(TARGET, name="openai.chat")
            replayed = await client.chat.completions.create(model="gpt-test", messages=MESSAGES)
            again = await client.chat.completions.create(model="gpt-test", messages=MESSAGES)
            planned = await client.chat.completions.create(model="gpt-test", messages=MESSAGES)
        assert planned is not again and planned.__dict__ is not again.__dict__
        for value in (replayed, again, planned):
            assert type(value) is ChatCompletion
            assert value == live
            assert value._request_id == "req_1"
            assert value.model_fields_set == live.model_fields_set


async def test_default_factory_values_replay_through_a_recording(tmp_path):
    @apirec.record(name="make_event")
    async def make_event(name: str) -> Holder:
        return Holder(events=[Event(name=name)])

    async with apirec.recording(tmp_path, mode="record"):
        live = await make_event("a")
    replays = []
    for _ in range(2):
        async with apirec.recording(tmp_path, mode="replay", repeats="last"):
            replays.append(await make_event("a"))
            replays.append(await make_event("a"))
    for value in replays:
        assert value == live
        assert value.events[0].id == live.events[0].id


class WithMachinery(BaseModel):
    value: int
    _model: type | None = PrivateAttr(default=None)
    _client: object = PrivateAttr(default=None)


def test_private_attributes_that_are_not_data_are_not_stored():
    """openai's pages keep their item class and request options privately: machinery, which a
    recording must not write (request options hold headers), and nothing a replay needs."""
    value = WithMachinery(value=1)
    value._model = Item
    value._client = object()
    assert apirec.encode(value) == {
        "__type__": f"{__name__}.WithMachinery",
        "__data__": {"value": 1},
    }


def test_cli_sees_the_types_and_state_beside_a_dump():
    from apirec.cli.inspect import readable
    from apirec.cli.verify import type_names

    stored = apirec.encode(Loose(payload=dt.date(2024, 1, 2)))
    assert set(type_names(stored)) == {f"{__name__}.Loose", "datetime.date"}
    shown = readable(stored)
    assert shown.startswith("Loose(") and "__state__" in shown and "date(" in shown


def test_a_value_apirec_cannot_store_under_any_warns_naming_the_field():
    recorded = Loose(payload=ipaddress.IPv4Address("10.0.0.1"))
    with pytest.warns(UserWarning, match=r"Loose\.payload replays as its JSON form"):
        stored = apirec.encode(recorded)
    assert apirec.decode(stored).payload == "10.0.0.1"


def test_an_sdk_bool_in_an_int_field_replays_as_built():
    recorded = Item.model_construct(n=True)
    assert replay(recorded).n is True


def test_extra_values_counted_as_set_or_not_store_nothing_more():
    """openai's ``construct`` leaves extra values out of ``model_fields_set``, validation puts
    them in; both dump them, so that alone must not make the stored form larger (or slower)."""
    built = Loose.model_construct(_fields_set={"payload"}, payload=1, reasoning="r")
    assert built.model_fields_set == {"payload"} and built.model_extra == {"reasoning": "r"}
    assert set(apirec.encode(built)) == {"__type__", "__data__"}
