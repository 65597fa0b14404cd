"""The recorder: the decorator and patches, ``Recording``, modes, context, settings, answers.

A call flows ``wrapping`` (``@record``, ``patch``) -> ``context`` (which recording is active)
-> ``recording`` (``Recording``: the mode decides replay or call through) -> ``stored_answers``
(which stored answer this call gets, saving new ones). ``settings`` and ``modes`` say how a
recording is configured; ``other_names`` finds answers stored under another format's names;
``miss_diagnostics`` writes the message of a replay miss; ``recorded_hosts`` tells the network
guard (``apirec.guard``, which each recording registers with) what a store was recorded
against.

Layer: above ``apirec.streams`` and ``apirec.guard``; it may import every layer below
(streams, guard, keys, stores, codec, errors). Nothing here imports pytest or an SDK.

Note: ``apirec.record`` as an attribute is the public decorator; import this package's modules
by their full names (``from apirec.record.recording import Recording``).
"""
