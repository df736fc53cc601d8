"""`python -m console.backfill` (also each Cloud Run Jobs task's command): see
console/cli/backfill.py."""

import sys

from console.cli.backfill import main

sys.exit(main())
