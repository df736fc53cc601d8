"""`python -m console.golden`: see console/golden/_cli.py."""

import sys

from console.golden._cli import main

sys.exit(main())
