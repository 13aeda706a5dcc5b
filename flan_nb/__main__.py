"""`python -m flan_nb` is the same as the `flan-nb` command."""

from flan_nb.cli import main

raise SystemExit(main())
