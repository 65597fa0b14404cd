"""Stands for third-party code that tests patch (it must not know about apirec)."""

CALLS = {"fetch": 0, "module_function": 0}


class Remote:
    def fetch(self, what):
        CALLS["fetch"] += 1
        return {"what": what, "call": CALLS["fetch"]}


class Child(Remote):
    pass


def module_function(x):
    CALLS["module_function"] += 1
    return x * 2


# -- methods behind other decorators, properties, instances (tests/test_patch_targets.py) ----

import functools  # noqa: E402

import wrapt  # noqa: E402

import apirec  # noqa: E402


def retry(func):
    """A retry decorator written the usual way (functools.wraps)."""

    @functools.wraps(func)
    def again(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ConnectionError:
            return func(*args, **kwargs)

    return again


@wrapt.decorator
def traced(wrapped, instance, args, kwargs):
    """A tracing decorator written with wrapt."""
    return wrapped(*args, **kwargs)


class Service:
    def __init__(self):
        self.calls = 0

    def lookup(self, what):
        self.calls += 1
        return {"what": what, "call": self.calls}

    @retry
    def retried(self, what):
        self.calls += 1
        return {"retried": what, "call": self.calls}

    @traced
    def traced_call(self, what):
        self.calls += 1
        return {"traced": what, "call": self.calls}

    @retry
    @apirec.record(name="patch_target.Service.recorded_then_retried")
    def recorded_then_retried(self, what):
        self.calls += 1
        return {"rr": what, "call": self.calls}

    @traced
    @apirec.record(name="patch_target.Service.recorded_then_traced")
    def recorded_then_traced(self, what):
        self.calls += 1
        return {"rt": what, "call": self.calls}

    @property
    def status(self):
        self.calls += 1
        return {"status": "ok", "call": self.calls}


service = Service()


def returns_a_coroutine(x):
    """A plain def that hands back a coroutine (the caller awaits it)."""

    async def later():
        return x

    return later()
