"""`python -m console.review`: see console/cli/review.py."""

import sys

from console.cli.review import main

sys.exit(main())
