"""Ready-made patches for SDKs you do not own, and other recorders' file formats.

SDK-specific code lives here and only here: the core never imports an SDK.
"""
