"""A generic model parametrised by a type variable (how openai's ``.parse()`` builds its
results: ``ParsedChatCompletion[~ResponseFormatT]``) is stored and decoded."""

from __future__ import annotations

from typing import Generic, TypeVar

import pytest
from pydantic import BaseModel

import apirec
from apirec.codec.envelope import decode, encode

T = TypeVar("T")
U = TypeVar("U")


class Answer(BaseModel):
    answer: str


class Box(BaseModel, Generic[T]):
    value: T | None = None


def test_a_model_parametrised_by_another_type_variable_decodes_to_its_generic_class():
    box = Box[U](value=Answer(answer="a llama"))  # type: ignore[valid-type]
    data = encode(box)
    assert data["__type__"].endswith("Box[~tests.test_codec_type_variables.U]")
    decoded = decode(data)
    assert type(decoded) is type(box)  # the very class: Box[U], not Box
    assert decoded.value == Answer(answer="a llama")


def test_a_type_variable_not_defined_at_the_top_of_a_module_falls_back_to_the_origins():
    def local_variable():
        return TypeVar("V")

    box = Box[local_variable()](value=Answer(answer="a llama"))  # type: ignore[misc]
    data = encode(box)
    assert data["__type__"].endswith("Box[~V]")
    decoded = decode(data)
    assert type(decoded) is Box and decoded.value == Answer(answer="a llama")


def test_recordings_that_name_the_variable_alone_still_decode():
    data = encode(Box[U](value=Answer(answer="a llama")))  # type: ignore[valid-type]
    data["__type__"] = data["__type__"].replace("~tests.test_codec_type_variables.U", "~U")
    decoded = decode(data)
    assert type(decoded) is Box and decoded.value == Answer(answer="a llama")


def test_a_type_variable_of_a_module_not_imported_is_not_imported():
    data = encode(Box[U](value=Answer(answer="a llama")))  # type: ignore[valid-type]
    data["__type__"] = data["__type__"].replace(
        "~tests.test_codec_type_variables.U", "~no_such_package_anywhere.U"
    )
    decoded = decode(data)
    assert type(decoded) is Box  # the origin's own variable: nothing imported
    import sys

    assert "no_such_package_anywhere" not in sys.modules


def test_a_class_given_to_the_call_resolves_though_it_cannot_be_imported():
    from apirec.codec.type_resolution import given_types

    class Local(BaseModel):
        answer: str

    data = encode(Box[Local](value=Local(answer="a llama")))
    with pytest.raises(apirec.DecodeError, match="<locals>"):
        decode(data)
    with given_types([Local]):
        decoded = decode(data)
    assert type(decoded) is Box[Local] and type(decoded.value) is Local
    with pytest.raises(apirec.DecodeError):  # only while the call it was given to is replayed
        decode(data)
