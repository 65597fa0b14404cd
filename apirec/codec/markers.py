"""The keys of a stored typed value, ``{"__type__": ..., "__data__": ..., "__state__": ...}``.

Apart from :mod:`apirec.codec.envelope` so that code which only reads stored data (the stores,
``apirec ls``) can name them without importing pydantic.
"""

TYPE = "__type__"
DATA = "__data__"
STATE = "__state__"  # what validating a model's dump would lose (apirec.codec.model_state)
