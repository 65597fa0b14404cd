"""The network guard: under replay, no call leaves the machine unseen (DESIGN §12).

One process-wide guard over the socket layer (``core``; what it needs of a recording:
``guarded``), its wrappers (``sockets``), the rules on names and addresses (``hosts``) and
what a recording says it was recorded against (``origins``). The recorder registers its
recordings with the guard and tells it which recording a call belongs to; the guard never
imports the recorder.

Layer: beside ``apirec.streams``, under the recorder; it imports only ``apirec.errors``.
"""
