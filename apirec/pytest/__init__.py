"""The pytest plugin (``startup``, the entry point: options, marker, the ``apirec`` fixture;
``plugin``, loaded when a run first uses a recording: settings per test, the fixture's
recording) and its session bookkeeping (``session``: stats, summary, unused recordings, xdist
merging; ``usage``: the usage report of ``--apirec-usage`` for pruning after sharded runs).

Layer: the top, beside ``apirec.cli``; it may import ``apirec.integrations`` and every layer
below, and the two never import each other. Loaded by pytest through the ``pytest11`` entry
point (``apirec.pytest.startup``), never by ``import apirec``.
"""
