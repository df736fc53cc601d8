"""`python -m console.golden`: see console/cli/golden.py."""

import sys

from console.cli.golden import main

sys.exit(main())
