"""A generic model parametrised by a type variable (how openai's ``.parse()`` builds its
results: ``ParsedChatCompletion[~ResponseFormatT]``) is stored and decoded."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

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
    assert data["__type__"].endswith("Box[~U]")
    decoded = decode(data)
    assert isinstance(decoded, Box)
    assert decoded.value == Answer(answer="a llama")
