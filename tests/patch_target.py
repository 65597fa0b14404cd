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
