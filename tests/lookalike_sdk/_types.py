"""The not-given sentinels, shaped like every Stainless-generated SDK's ``_types``."""

from __future__ import annotations

from typing import Literal


class NotGiven:
    """A parameter the caller did not give (its ``None`` means something else)."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


not_given = NotGiven()
NOT_GIVEN = NotGiven()  # a second instance, as the SDKs keep for backwards compatibility


class Omit:
    """Leave this out of the request (a default header, say)."""

    def __bool__(self) -> Literal[False]:
        return False


omit = Omit()
