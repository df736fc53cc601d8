"""`python -m console`: the worker and the UI (and the local OCR server) as one unit.

Streamlit's own options (`--server.port N`, `--server.address A`, `--theme.base dark`, ...)
pass through to the UI; anything else is refused with the usage (exit 2), and `--help`
prints it (exit 0), before anything starts.
"""

import argparse
import re
import sys

from console._supervisor import main

# A Streamlit config option on the command line: --section.name VALUE or --section.name=VALUE.
_STREAMLIT_OPTION = re.compile(r"--[A-Za-z]+\.[A-Za-z]+(=.*)?")


def _checked(argv: list[str]) -> list[str]:
    parser = argparse.ArgumentParser(
        prog="python -m console",
        description="Start the console: its worker, its UI (and the local OCR server) as one "
        "unit; Ctrl-C stops all of it.",
        epilog="Streamlit options (--server.port N, --server.address A, ...) pass through to "
        "the UI. The store, the service and the roles come from LIGHTONOCR_* variables.",
    )
    _, rest = parser.parse_known_args(argv)
    index = 0
    while index < len(rest):
        token = rest[index]
        if not _STREAMLIT_OPTION.fullmatch(token):
            parser.error(f"unrecognized argument: {token}")
        index += 1 if "=" in token else 2
        if index > len(rest):
            parser.error(f"{token} needs a value")
    return argv


sys.exit(main(_checked(sys.argv[1:])))
