"""``python -m cognises``: the command line."""

from cognises.cli import main

raise SystemExit(main())
