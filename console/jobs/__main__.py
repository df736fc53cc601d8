"""`python -m console.jobs`: see console/cli/jobs.py."""

import sys

from console.cli.jobs import main

sys.exit(main())
