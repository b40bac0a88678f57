"""Subcommands of the ``ippo`` command line, one module each (see ``ippo.cli``)."""
