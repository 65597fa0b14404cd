"""Run a function right after a module is first imported, without importing it now.

The pytest plugin sets placeholder API keys for the SDKs a replaying run names, and must know
each SDK's key variables before the first client is built; finding all of a generated SDK's
imports it (openai's import alone costs ~0.4 s). A run that never imports the SDK should not
pay that, so the plugin sets the ones it knows at once and waits for the SDK's own import for
the rest: :func:`after_import` runs its callback the moment the module has been executed,
before the importer gets it back, or at once if the module is already imported. A namespace
package (no ``__init__.py``) has no loader to wait on: its callback runs only if it was
imported already.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

Callback = Callable[[], None]

_lock = threading.Lock()
_waiting: dict[str, list[Callback]] = {}


def after_import(name: str, callback: Callback) -> Callable[[], None]:
    """Call ``callback()`` once ``name`` is imported (now, if it is); returns a function
    that forgets the callback if it has not run yet."""
    if name in sys.modules:
        callback()
        return _nothing
    with _lock:
        _waiting.setdefault(name, []).append(callback)
        if not any(isinstance(f, _Watcher) for f in sys.meta_path):
            sys.meta_path.insert(0, _Watcher())

    def forget() -> None:
        with _lock:
            callbacks = _waiting.get(name, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                _waiting.pop(name, None)
            if not _waiting:
                sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Watcher)]

    return forget


def _nothing() -> None:
    return None


class _Watcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader the other finders give a watched module."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _waiting:
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _Watcher):
                continue
            find = getattr(finder, "find_spec", None)
            spec: importlib.machinery.ModuleSpec | None = (
                find(fullname, path, target) if find is not None else None
            )
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Then(spec.loader, fullname)
                return spec
        return None


class _Then(importlib.abc.Loader):
    """The module's own loader, then the callbacks waiting for it."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader, self._name = loader, name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        # nothing sees this wrapper, not even the module's own body as it runs
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        with _lock:
            callbacks = _waiting.pop(self._name, [])
            if not _waiting:
                sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Watcher)]
        for callback in callbacks:
            callback()

    def __getattr__(self, name: str) -> Any:
        # get_resource_reader, is_package, get_code...: the real loader's
        return getattr(self._loader, name)
