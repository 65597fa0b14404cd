"""The subcommands of the ``apirec`` command line; :mod:`apirec.cli` parses and dispatches."""
