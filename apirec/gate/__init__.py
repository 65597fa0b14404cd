"""The write gate (DESIGN §12): nothing secret reaches a store.

Pure code: no filesystem, no SDK. Every entry passes :func:`apirec.gate.walk.scrub_entry`
on its way to any store (``apirec.stores.gated`` is the one place the stores call it), and
keys are computed from the same scrubbed form (:func:`apirec.gate.walk.scrub_arguments`), so
what is stored and what is matched are one transform. The pieces: the one rule for secret
names (:mod:`.names`), well-known token shapes (:mod:`.tokens`), credentials in URLs
(:mod:`.urls`), the user's ``scrub=`` rules (:mod:`.rules`) and the walk that applies them
(:mod:`.walk`); ``apirec scan`` uses the same detector (:func:`.walk.findings`). At import
it loads only the standard library (pydantic-core's compiled search, for long text, and
msgpack, for packed calls, load on first use); the keys and the stores import it, it imports
neither.
"""
