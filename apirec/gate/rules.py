"""The user's ``scrub=`` rules: extra patterns (and callables ``str -> str``) for the gate.

A pattern's matches are replaced by ``<redacted>`` in every string value the gate sees
(request arguments, the function name, answers, errors); a callable gets each such string
and returns it as stored. Applied after the built-in rules, on both sides: keys are computed
from the same scrubbed form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from apirec.gate.detect import PLACEHOLDER

Scrub = str | re.Pattern[str] | Callable[[str], str]


@dataclass(frozen=True)
class Rules:
    """Compiled ``scrub=`` rules; empty (false) when there are none."""

    patterns: tuple[re.Pattern[str], ...] = ()
    functions: tuple[Callable[[str], str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.patterns or self.functions)

    def __add__(self, other: Rules) -> Rules:
        if other is NO_RULES:
            return self
        if self is NO_RULES:
            return other
        return Rules(self.patterns + other.patterns, self.functions + other.functions)

    def apply_patterns(self, text: str) -> str:
        """Only the patterns: for bytes that are not UTF-8 text, read one character per byte
        (a callable is given text only)."""
        for pattern in self.patterns:
            text = pattern.sub(PLACEHOLDER, text)
        return text

    def apply(self, text: str) -> str:
        for pattern in self.patterns:
            text = pattern.sub(PLACEHOLDER, text)
        for function in self.functions:
            text = self.call(function, text)
        return text

    @staticmethod
    def call(function: Callable[[str], str], text: str) -> str:
        result = function(text)
        if not isinstance(result, str):
            raise TypeError(
                f"scrub= callable {function!r} returned {type(result).__name__}, not str"
            )
        return result


NO_RULES = Rules()  # the one empty value: compile_rules gives it for no rules


def compile_rules(scrub: Iterable[Scrub] | Rules | None) -> Rules:
    """``scrub=[...]`` as :class:`Rules`: a regular expression (text or compiled) or a
    callable per item; a bad pattern is a ValueError naming it."""
    if scrub is None:
        return NO_RULES
    if isinstance(scrub, Rules):
        return scrub if scrub else NO_RULES
    if isinstance(scrub, str) or callable(scrub):
        raise TypeError("scrub= takes a list of patterns or callables, not a single one")
    patterns: list[re.Pattern[str]] = []
    functions: list[Callable[[str], str]] = []
    for item in scrub:
        if isinstance(item, re.Pattern):
            patterns.append(item)
        elif isinstance(item, str):
            try:
                patterns.append(re.compile(item))
            except re.error as e:
                raise ValueError(
                    f"scrub=: {item!r} is not a valid regular expression: {e}"
                ) from None
        elif callable(item):
            functions.append(item)
        else:
            raise TypeError(
                f"scrub= takes regular expressions and callables (str -> str), "
                f"not {type(item).__name__}"
            )
    return Rules(tuple(patterns), tuple(functions)) if patterns or functions else NO_RULES
