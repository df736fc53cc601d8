"""`python -m console.jobs`: see console/jobs/_cli.py."""

import sys

from console.jobs._cli import main

sys.exit(main())
