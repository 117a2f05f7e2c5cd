"""`python -m crm`: the same command line as the `crm` script."""

from crm.cli import main

raise SystemExit(main())
