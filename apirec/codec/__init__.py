"""Values <-> JSON-ready data: the typed envelopes a recording stores.

``envelope`` encodes and decodes values (``{"__type__", "__data__"}`` for typed ones);
``type_resolution`` turns a stored type name into a class without running anything a
recording could smuggle in; ``unvalidated`` rebuilds models that fail their own validation;
``model_state`` keeps beside a model's dump what validating it would lose (compared by
``same_values``); ``exception_data`` stores exceptions as data and raises them again, with
``exception_text`` keeping their ``str()``; ``replay_plans`` decodes answers that are
replayed more than once, fast and into fresh objects.

Layer: the bottom one above ``apirec.errors``. It may import only ``apirec.errors`` (and
pydantic); it knows nothing of keys, files, streams or the recorder.
"""

from apirec.codec import exception_data as _exception_data  # noqa: F401  (fills EXCEPTIONS in)
