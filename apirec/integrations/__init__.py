"""Ready-made patches for SDKs you do not own, and other recorders' file formats.

SDK-specific code lives here and only here: the core never imports an SDK, and each module
imports its SDK itself, so a missing SDK is an error when it is used, never at ``import
apirec``.

Layer: below ``apirec.cli`` and ``apirec.pytest``, above ``apirec.record``; it may import every
layer below.
"""

from apirec.integrations.registry import Options, UnknownIntegration, patch

__all__ = ["Options", "UnknownIntegration", "patch"]
