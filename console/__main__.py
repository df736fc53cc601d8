"""`python -m console`: the worker and the UI (and the local OCR server) as one unit."""

import sys

from console._supervisor import main

sys.exit(main())
