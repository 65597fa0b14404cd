"""A recording used as a decorator: active for each call of a function, for the whole life of
a generator (a yield fixture, sync or async), or for each test method of a class."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Protocol, TypeVar, cast

T = TypeVar("T")

# Names of the methods a decorated class has wrapped: pytest's default and unittest's prefix,
# and the convention of mock.patch and time-machine.
TEST_PREFIX = "test"


class Block(Protocol):
    """What decorating needs of a recording: both kinds of ``with``."""

    def __enter__(self) -> Any: ...
    def __exit__(self, *exc_info: object) -> None: ...
    async def __aenter__(self) -> Any: ...
    async def __aexit__(self, *exc_info: object) -> None: ...


def decorate(block: Block, target: T) -> T:
    """``target`` (function, generator function or class) run inside ``block``."""
    if isinstance(target, type):
        return _decorate_class(block, target)  # type: ignore[return-value]
    if not callable(target):
        raise TypeError(
            f"apirec.recording(...) decorates a function or a class, not {type(target).__name__}"
        )
    func: Callable[..., Any] = target
    if inspect.isasyncgenfunction(func):
        return cast(T, _async_generator(block, func))
    if inspect.isgeneratorfunction(func):
        return cast(T, _generator(block, func))
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            async with block:
                return await func(*args, **kwargs)

        return run_async  # type: ignore[return-value]

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with block:
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


def _generator(block: Block, func: Callable[..., Generator[Any, Any, Any]]) -> Any:
    @functools.wraps(func)
    def run_generator(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        block.__enter__()
        try:
            result = yield from func(*args, **kwargs)
        except GeneratorExit:
            # close() before the end: the generator's cleanup has run; a normal close
            block.__exit__(None, None, None)
            raise
        except BaseException as error:
            block.__exit__(type(error), error, error.__traceback__)
            raise
        block.__exit__(None, None, None)
        return result

    return run_generator


def _async_generator(block: Block, func: Callable[..., AsyncGenerator[Any, Any]]) -> Any:
    @functools.wraps(func)
    async def run_async_generator(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        await block.__aenter__()
        inner = func(*args, **kwargs)
        try:
            try:
                value = await inner.__anext__()
                while True:  # `yield from` for async generators: pass asend/athrow through
                    try:
                        sent = yield value
                    except GeneratorExit:
                        raise
                    except BaseException as thrown:
                        value = await inner.athrow(thrown)
                    else:
                        value = await inner.asend(sent)
            except StopAsyncIteration:
                pass
            finally:
                await inner.aclose()  # runs the body's cleanup when closed early
        except GeneratorExit:
            await block.__aexit__(None, None, None)
            raise
        except BaseException as error:
            await block.__aexit__(type(error), error, error.__traceback__)
            raise
        await block.__aexit__(None, None, None)

    return run_async_generator


def _decorate_class(block: Block, cls: type) -> type:
    """Wrap each ``test*`` method (inherited ones too) and return the class itself, so that
    pytest and unittest still collect it; other methods and attributes are left alone."""
    for name in dir(cls):
        if not name.startswith(TEST_PREFIX):
            continue
        raw = inspect.getattr_static(cls, name)
        if isinstance(raw, staticmethod | classmethod):
            setattr(cls, name, type(raw)(decorate(block, raw.__func__)))
        elif inspect.isfunction(raw):
            setattr(cls, name, decorate(block, raw))
    return cls
