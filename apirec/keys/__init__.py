"""When two calls are the same: binding arguments, canonical values, key specs.

``binding`` maps a call's arguments to parameter names; ``canonical`` turns values into plain,
stable, redacted data (``marks`` holds what it leaves to resolve into the key and stored views,
``sentinels`` recognises the SDKs' not-given values it drops, ``functions`` turns Python
functions passed as tools into the schema they are keyed by); ``spec`` holds
:class:`KeySpec` (what a decorated function's key is made of) and the ``Keying`` protocol
through which other recorders' formats key calls.

Layer: above ``apirec.stores`` and ``apirec.codec``; it may import those and
``apirec.errors``, never the recorder, streams or anything that patches.
"""
