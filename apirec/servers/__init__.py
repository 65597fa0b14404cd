"""apirec beyond the test process: servers and workers under test.

``python -m apirec run -- COMMAND`` (:mod:`apirec.servers.launcher`) runs a program with one
process-wide recording open in it and in every Python process it starts
(:mod:`apirec.servers.process`, through :mod:`apirec.servers.bootstrap`'s ``sitecustomize``);
the settings travel in ``APIREC_RUN`` (:mod:`apirec.servers.run_settings`).

Layer: below ``apirec.cli`` and ``apirec.pytest``, above ``apirec.integrations``; it may
import every layer below.
"""
