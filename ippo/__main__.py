"""``python -m ippo`` runs the command line, like the ``ippo`` console script."""

from ippo.cli import main

raise SystemExit(main())
