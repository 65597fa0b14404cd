"""The public API's annotations resolve at run time, although ``import apirec`` is lazy.

Introspection that evaluates annotations (``typing.get_type_hints``,
``inspect.signature(eval_str=True)``: pydantic's ``validate_call``, typer, sphinx-autodoc-typehints,
FastAPI dependencies) must work on every public function and class, also in a fresh process
where nothing but ``import apirec`` has run. Found in the review of issue 19.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

import apirec


def _public_callables() -> list[tuple[str, object]]:
    found = []
    for name in apirec.__all__:
        obj = getattr(apirec, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            found.append((name, obj))
        if inspect.isclass(obj):  # and its methods
            found += [
                (f"{name}.{attr}", f)
                for attr, f in vars(obj).items()
                if inspect.isfunction(f) and (not attr.startswith("_") or attr == "__init__")
            ]
    return found


def test_every_public_function_and_class_has_resolvable_annotations():
    names = [name for name, _ in _public_callables()]
    assert {"recording", "record", "patch", "Recording", "Recording.patch"} <= set(names)
    for _, obj in _public_callables():
        typing.get_type_hints(obj)  # raises NameError for a name bound only for mypy


def test_recording_returns_the_recording_class():
    hints = typing.get_type_hints(apirec.recording)
    assert hints["return"] is apirec.Recording
    assert "StoreErrors" in str(hints["store_errors"]) or hints["store_errors"] is not str


def test_signature_with_eval_str_in_a_fresh_process():
    """Before anything but ``import apirec``: the annotations load what they name."""
    code = (
        "import apirec, inspect, typing\n"
        "print(inspect.signature(apirec.recording, eval_str=True).return_annotation.__name__)\n"
        "for name in apirec.__all__:\n"
        "    obj = getattr(apirec, name)\n"
        "    if inspect.isfunction(obj) or inspect.isclass(obj):\n"
        "        typing.get_type_hints(obj)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.split() == ["Recording", "ok"]


def test_inspect_signature_without_eval_still_works():
    assert "store_errors" in inspect.signature(apirec.recording).parameters


def test_the_recorder_subpackage_is_imported_by_from_import():
    """``apirec.record`` is the decorator (the public contract); its subpackage's modules are
    reached with ``from apirec.record import recording`` or plain ``import
    apirec.record.recording`` (``import apirec.record.recording as r`` walks attributes and
    finds the decorator: docs/architecture.md says so)."""
    code = (
        "import apirec.record.recording\n"
        "import sys\n"
        "from apirec.record import recording as r\n"
        "import apirec\n"
        "assert r is sys.modules['apirec.record.recording'], r\n"
        "assert callable(apirec.record) and not isinstance(apirec.record, type(sys))\n"
        "print(r.__name__, apirec.record.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.split() == ["apirec.record.recording", "record"]
