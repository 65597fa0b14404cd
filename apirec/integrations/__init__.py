"""Ready-made patches for SDKs you do not own, and other recorders' file formats.

SDK-specific code lives here and only here: the core never imports an SDK, and each module
imports its SDK itself, so a missing SDK is an error when it is used, never at ``import
apirec``.

The package's names load on first use: the pytest plugin's start-up imports its light modules
(:mod:`apirec.integrations.known`, :mod:`~apirec.integrations.key_holders`,
:mod:`~apirec.integrations.after_import`) without the registry, which loads the key rules.

Layer: below ``apirec.cli`` and ``apirec.pytest``, above ``apirec.record``; it may import every
layer below.
"""

from typing import TYPE_CHECKING

from apirec.record.lazy_module import lazy_attributes as _lazy_attributes

if TYPE_CHECKING:
    from apirec.integrations.registry import Options, UnknownIntegration, patch

__all__ = ["Options", "UnknownIntegration", "patch"]
_LAZY = dict.fromkeys(__all__, "apirec.integrations.registry")
__getattr__ = _lazy_attributes("apirec.integrations", _LAZY, globals())
