"""``@apirec.record`` on a test function itself: refused when it is decorated.

Replay returns a call's stored answer instead of running the function, so a recorded test
would pass without its body ever running again. Decorate what the test calls, or give the
test a recording (the ``apirec`` fixture or marker).
"""

from __future__ import annotations

import fnmatch
import inspect
import os
from collections.abc import Callable
from typing import Any

# pytest's default python_files and python_functions: where and how it finds tests
_TEST_FILES = ("test_*.py", "*_test.py")


def refuse_a_test(func: Callable[..., Any]) -> None:
    """Raise ``TypeError`` when ``func`` is a test pytest would collect from a test file."""
    raw = inspect.unwrap(getattr(func, "__func__", func))
    code = getattr(raw, "__code__", None)
    if code is None or not getattr(raw, "__name__", "").startswith("test"):
        return
    where = os.path.basename(code.co_filename)
    if not any(fnmatch.fnmatch(where, pattern) for pattern in _TEST_FILES):
        return
    raise TypeError(
        f"@apirec.record on the test {raw.__qualname__} ({code.co_filename}:"
        f"{code.co_firstlineno}): replay would return its stored result without running its "
        "body. Decorate the functions it calls, or give the test a recording: the apirec "
        "fixture or @pytest.mark.apirec"
    )
