"""A budget for recording: once the live calls of a run have spent it, the next live call is
refused with :class:`~apirec.errors.BudgetExceeded` before it is made.

The budget is tokens (``"200k"``, ``"1.5M"``, ``"50000"``: input and output together) or
dollars (``"$2.50"``, priced with a price table). What was spent is read from the ledger of
every answer the run's live calls got (:mod:`apirec.stores.ledger`), appended as one line per
answer to a file the run's processes share (pytest-xdist's workers, and the processes the
tests start, which find it through ``APIREC_RECORD_BUDGET_SPENT``: one budget for the run).
A live call whose answer reports no usage spends nothing but its time; when that answer names a
model (an LLM's answer, an openai stream without ``include_usage``), what it spent is not known
and the next live call is refused, as a dollar budget refuses once an answer is not priced.

Calls in flight hold part of the budget: a call is *reserved* (a line in the same file) before
it is made and released when its answer is counted, so calls made at the same time (threads,
``asyncio.gather``, xdist workers) cannot all pass a check the first of them will exhaust. A
call in flight is reckoned at the largest answer the run has counted so far (the estimate);
before any answer is counted its cost is unknown, and a call waits for the calls in flight
of other threads, tasks and processes to end. A call is made while what was spent and what
the calls in flight hold is under the budget; else it waits for them, and is refused once
they have spent it. One call may still take the budget past its end (its cost is known only
once it is made): the overrun is at most one answer, as when calls are made one by one. The
calls in flight of its own process are waited for only :data:`_OWN_WAIT` seconds: they may
never end while it waits (streams ``asyncio.gather`` opened before reading either), so after
that it is made while nothing is counted (the overrun is then the process's calls in flight),
and refused if the estimate says they may spend the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import itertools
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from apirec.errors import BudgetExceeded, called
from apirec.record import closing
from apirec.record.savings import ENV_PRICES, Prices, cost_of, price_of, prices_of
from apirec.stores.files import process_alive
from apirec.stores.gated import gated_text
from apirec.stores.ledger import money_text, tokens_count

_TOKENS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
_DOLLARS = re.compile(r"^\s*\$\s*(\d+(?:\.\d+)?)\s*$")
_SHELL_ATE_DOLLARS = re.compile(r"^\s*\.\d+\s*$")  # what is left of an unquoted $2.50
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


@dataclass(frozen=True)
class Budget:
    text: str  # as given
    tokens: int | None  # a budget of tokens, or
    dollars: float | None  # of dollars (needs prices)
    prices: Prices | None
    ledger: Path  # one line per recorded answer: "<tokens> <dollars>"

    @classmethod
    def parse(cls, text: str, prices: Prices | None, ledger: Path) -> Budget:
        """``ValueError`` naming what is wrong with ``text``."""
        dollars = _DOLLARS.match(text)
        if dollars:
            if not prices:
                raise ValueError(
                    f"record budget {text!r} is in dollars: give the prices too "
                    f"(--apirec-prices=FILE), or a budget in tokens such as '200k'"
                )
            return cls(text, None, float(dollars.group(1)), prices, ledger)
        tokens = _TOKENS.match(text)
        if not tokens and _SHELL_ATE_DOLLARS.match(text):  # $2.50 unquoted: the shell's $2
            raise ValueError(
                f"record budget {text!r}: a shell replaces '$2' in an unquoted $2.50 with "
                f"nothing; quote a budget in dollars ('--apirec-record-budget=$2.50' in single "
                f"quotes)"
            )
        if not tokens:
            raise ValueError(
                f"record budget {text!r}: give tokens ('200k', '1.5M', '50000') or dollars "
                f"('$2.50')"
            )
        amount = Decimal(tokens.group(1)) * _SCALE[tokens.group(2).lower()]
        if amount != amount.to_integral_value():  # 2.50: a forgotten $, not 2.5 tokens
            dollars_too = (
                ""
                if tokens.group(2)
                else f"; for dollars, write '${text.strip()}' (in single quotes on a command "
                f"line: '--apirec-record-budget=${text.strip()}')"
            )
            raise ValueError(
                f"record budget {text!r}: a budget in tokens is a whole number of tokens "
                f"('200k', '1.5k', '50000'){dollars_too}"
            )
        return cls(text, int(amount), None, prices, ledger)

    def _read(self) -> _Book:
        try:
            lines = self.ledger.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            return _Book()
        book = _Book()
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] == _NO_USAGE:  # an answer that reported no usage
                if unquote(parts[1]) not in book.unreported:
                    book.unreported.append(unquote(parts[1]))
                continue
            if len(parts) == 1 and parts[0][0] in "+-":  # a call reserved, or released
                held = parts[0][1:]
                if parts[0][0] == "+":
                    book.in_flight.add(held)
                else:
                    book.in_flight.discard(held)
                continue
            if len(parts) in (2, 3):  # a line being written by another process is not whole
                tokens, dollars = int(parts[0]), float(parts[1])
                book.tokens += tokens
                book.dollars += dollars
                book.answers += 1
                book.largest = (max(book.largest[0], tokens), max(book.largest[1], dollars))
            if len(parts) == 3 and unquote(parts[2]) not in book.unpriced:
                book.unpriced.append(unquote(parts[2]))
        return book

    def spent(self) -> tuple[int, float]:
        """Tokens and dollars the run's live answers spent, all processes together."""
        book = self._read()
        return book.tokens, book.dollars

    def _spent_text(self, tokens: int, dollars: float) -> str:
        return money_text(dollars) if self.dollars is not None else tokens_count(tokens)

    def spent_text(self) -> str:
        return self._spent_text(*self.spent())

    def check(self, function: str) -> None:
        """Refuse a live call of ``function`` once the budget is spent, or, for a budget in
        dollars, once an answer of a model the prices do not list was counted."""
        self._refuse_if_spent(function, self._read())

    def _refuse_if_spent(self, function: str, book: _Book) -> None:
        if book.unreported:
            names = ", ".join(repr(m) for m in book.unreported)
            raise BudgetExceeded(
                f"{called(function)} was not called: this run recorded answers of {names} that "
                f"reported no usage: what they spent is not known, so the record budget of "
                f"{self.text} cannot be kept. Ask the provider for usage (an openai stream: "
                f"stream_options={{'include_usage': True}}), or record without a budget.",
                budget=self.text,
                spent=f"{self._spent_text(book.tokens, book.dollars)} and the unknown usage of "
                f"{names}",
            )
        if self.dollars is not None and book.unpriced:
            names = ", ".join(repr(m) for m in book.unpriced)
            raise BudgetExceeded(
                f"{called(function)} was not called: the record budget of {self.text} is in "
                f"dollars and this run recorded answers of a model the prices do not list "
                f"({names}): their cost is not known, so the budget cannot be kept. Add the "
                f"model to the price table (--apirec-prices), or give a budget in tokens such "
                f"as '200k'.",
                budget=self.text,
                spent=f"{self._spent_text(book.tokens, book.dollars)} and tokens of unpriced "
                f"{names}",
            )
        if self._measure(book.tokens, book.dollars) >= self._limit:
            spent = self._spent_text(book.tokens, book.dollars)
            raise BudgetExceeded(
                f"{called(function)} was not called: the live calls of this run have spent {spent} "
                f"of the record budget of {self.text} (--apirec-record-budget). Raise the "
                f"budget, or record fewer tests at a time.",
                budget=self.text,
                spent=spent,
            )

    @property
    def _limit(self) -> float:
        return float(self.tokens if self.tokens is not None else self.dollars or 0.0)

    def _measure(self, tokens: float, dollars: float) -> float:
        return float(tokens) if self.tokens is not None else dollars

    # -- calls in flight ----------------------------------------------------------------

    def reserve(self, function: str) -> str:
        """Hold the budget for one call of ``function`` about to be made (see the module's
        docstring): waits for the calls in flight of others while they may spend what is
        left; :class:`BudgetExceeded` once it is spent. Returns what :meth:`spend` or
        :meth:`release` gives back."""
        try:
            return self._reserve(function)
        except BudgetExceeded as e:
            closing.missed(e)  # a refusal the code under test swallows still fails its test
            raise

    def _reserve(self, function: str) -> str:
        owner = _owner(None)
        # it blocks its thread: the calls in flight there (a task's stream) cannot end meanwhile
        blocked = owner.rsplit(".", 2)[0] + "."
        began = time.monotonic()
        for pause in _pauses():
            held = self._try_reserve(function, owner, _patience(blocked, began))
            if held is not None:
                return held
            time.sleep(pause)
        raise self._waited_too_long(function)

    async def reserve_async(self, function: str) -> str:
        """:meth:`reserve` for a call made by a task: it waits without holding the loop."""
        try:
            return await self._reserve_async(function)
        except BudgetExceeded as e:
            closing.missed(e)
            raise

    async def _reserve_async(self, function: str) -> str:
        owner = _owner(asyncio.current_task())
        began = time.monotonic()
        for pause in _pauses():
            held = self._try_reserve(function, owner, _patience(owner, began))
            if held is not None:
                return held
            await asyncio.sleep(pause)
        raise self._waited_too_long(function)

    def _try_reserve(self, function: str, owner: str, blocked: str) -> str | None:
        """The call's reservation, or None while the calls in flight of others may spend
        what is left (wait, then ask again). ``blocked``: the prefix of the calls that cannot
        end while this one waits (its thread's, for a sync call; its task's, for a task)."""
        with self._locked() as fd:
            book = self._read()
            self._refuse_if_spent(function, book)
            in_flight = {held for held in book.in_flight if _alive(held)}
            known = book.answers > 0
            estimate = self._measure(*book.largest)
            held_so_far = self._measure(book.tokens, book.dollars) + len(in_flight) * estimate
            if in_flight and not (known and held_so_far < self._limit):
                if any(not held.startswith(blocked) for held in in_flight):
                    return None  # theirs will end: wait for them
                if known:  # only this thread's or task's own calls: they cannot end meanwhile
                    raise self._held_by_own_calls(function, len(in_flight))
            held = f"{owner}{next(_COUNTER)}"
            os.write(fd, f"+{held}\n".encode("ascii"))
            return held

    def release(self, held: str) -> None:
        """A reserved call that got no answer to count (refused, failed, cancelled)."""
        self._append(f"-{held}\n")

    def _held_by_own_calls(self, function: str, calls: int) -> BudgetExceeded:
        spent = self.spent_text()
        return BudgetExceeded(
            f"{called(function)} was not called: the live calls of this run have spent {spent} of "
            f"the record budget of {self.text} (--apirec-record-budget), and the calls this "
            f"code made that are still in flight ({calls}: a stream not read to its end) may "
            f"spend the rest. Read them first, or raise the budget.",
            budget=self.text,
            spent=spent,
        )

    def _waited_too_long(self, function: str) -> BudgetExceeded:
        spent = self.spent_text()
        return BudgetExceeded(
            f"{called(function)} was not called: it waited {_WAIT:.0f}s for the live calls in "
            f"flight (other threads, tasks or workers) that may spend the rest of the record "
            f"budget of {self.text} (--apirec-record-budget; {spent} spent), and they did not end.",
            budget=self.text,
            spent=spent,
        )

    # -- what was spent -----------------------------------------------------------------

    def spend(self, ledger: dict[str, Any], held: str | None = None) -> None:
        """Count the answer of a live call (its ``ledger``), releasing its reservation."""
        usage = ledger.get("usage") or {}
        model = ledger.get("model")
        if model is not None and not usage:  # a model's answer, its usage not reported
            named = quote(gated_text(str(model)), safe="")
            self._append(f"{_NO_USAGE} {named}\n" + (f"-{held}\n" if held is not None else ""))
            return
        tokens = int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
        dollars = 0.0
        price = price_of(self.prices, model) if self.prices else None
        line = f"{tokens} {dollars!r}"
        if price is not None:
            dollars = cost_of(usage.get("input_tokens", 0), usage.get("output_tokens", 0), price)
            line = f"{tokens} {dollars!r}"
        elif self.dollars is not None and tokens:  # tokens a dollar budget cannot price
            # the name is printed (BudgetExceeded, the summary): through the write gate first
            named = gated_text(str(model or "no model named"))
            line += f" {quote(named, safe='')}"
        self._append(f"{line}\n" + (f"-{held}\n" if held is not None else ""))

    def _append(self, text: str) -> None:
        # one short write under the lock: processes sharing the file never interleave a line,
        # and a reservation never sees half of another
        with self._locked() as fd:
            os.write(fd, text.encode("ascii"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        fd = os.open(self.ledger, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # lets the lock go


@dataclass
class _Book:
    """What the spend file says: spent, answers counted, the largest one, calls in flight."""

    tokens: int = 0
    dollars: float = 0.0
    answers: int = 0
    largest: tuple[int, float] = (0, 0.0)
    unpriced: list[str] = field(default_factory=list)
    unreported: list[str] = field(default_factory=list)  # models whose answers had no usage
    in_flight: set[str] = field(default_factory=set)


_NO_USAGE = "?"  # the spend file's mark of an answer that reported no usage
_COUNTER = itertools.count()
_WAIT = 600.0  # seconds a call waits for others in flight (a stream left unread in a thread)


def _pauses() -> Iterator[float]:
    """How long to sleep between looks at the calls in flight, until :data:`_WAIT` is up."""
    waited, pause = 0.0, 0.005
    while waited < _WAIT:
        yield pause
        waited += pause
        pause = min(pause * 2, 0.1)


_OWN_WAIT = 10.0  # seconds a call waits for the calls in flight of its own process


def _patience(blocked: str, began: float) -> str:
    """The prefix of the calls in flight a call no longer waits for: its thread's (or task's)
    at first; after :data:`_OWN_WAIT`, its whole process's. A call of this process may be
    unable to end while this one waits (two streams opened by ``asyncio.gather`` before
    either is read, a stream a worker thread keeps unread), so waiting for it could last
    until :data:`_WAIT` for nothing; other processes' calls end on their own."""
    if time.monotonic() - began < _OWN_WAIT:
        return blocked
    return blocked.split(".", 1)[0] + "."


def _owner(task: object) -> str:
    """Who makes a call: process, thread and task; ends with ``.`` (the call's number follows)."""
    return f"{os.getpid()}.{threading.get_ident()}.{id(task) if task is not None else 0}."


def _alive(held: str) -> bool:
    """Whether the process that reserved ``held`` still runs (a worker that crashed mid-call
    holds nothing)."""
    return process_alive(int(held.split(".", 1)[0]))


# The run's budget, for every recording that carries none of its own (a conftest's
# ``with apirec.recording(...)``, the recording of a program a test starts under ``apirec run``,
# any child process): the pytest plugin sets these variables for the run
# (apirec.pytest.environment). The spend file is the run's, so every process counts into the
# one budget; a budget with no spend file named is no run's, and holds nothing.
ENV_BUDGET = "APIREC_RECORD_BUDGET"
ENV_SPENT = "APIREC_RECORD_BUDGET_SPENT"


def run_budget() -> Budget | None:
    """The run's budget, from the environment (read at each live call: cheap, cached)."""
    text, spent = os.environ.get(ENV_BUDGET), os.environ.get(ENV_SPENT)
    if not text or not spent:
        return None
    return _budget_from(text, spent, os.environ.get(ENV_PRICES) or None)


@functools.lru_cache(maxsize=4)
def _budget_from(text: str, spent: str, prices: str | None) -> Budget:
    table = prices_of({}) if prices else None  # APIREC_PRICES, read once per table
    try:
        return Budget.parse(text, table, Path(spent))
    except ValueError as e:
        raise ValueError(f"environment variable {ENV_BUDGET}: {e}") from None


def budget_of(extra: Mapping[str, Any]) -> Budget | None:
    """The budget a recording with these settings' ``extra`` keeps: its own, else the run's."""
    found = extra.get("budget")
    if isinstance(found, Budget):
        return found
    return run_budget()
