"""`python -m migration plan|run|verify|status`: see migration/cli.py."""
import sys

from migration.cli import main

sys.exit(main())
