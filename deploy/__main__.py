"""`python -m deploy ...`: see deploy/_cli.py."""

import sys

from deploy._cli import main

sys.exit(main())
