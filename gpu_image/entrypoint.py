"""The image's entrypoint: exec `vllm serve` with the flags from serve_config, on $PORT.

Exec (not a child process) so vLLM is PID 1's replacement and receives Cloud Run's SIGTERM
directly when an instance is retired. Standard library only: the image has nothing else
of ours. `--print` shows the command line instead of running it (for tests and for
operators checking an image: `docker run IMAGE --print`).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence

from gpu_image import serve_config


def command(env: Mapping[str, str]) -> list[str]:
    """The vllm command line for this environment (only $PORT varies)."""
    raw = env.get("PORT", "").strip() or str(serve_config.DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"PORT={raw!r} is not a TCP port number")
    return serve_config.vllm_command(port=int(raw))


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: entrypoint.py [--print]  (exec vLLM with gpu_image/serve_config.py's flags)"
    if args in (["--help"], ["-h"]):
        print(usage)
        return 0
    try:
        cmd = command(os.environ if env is None else env)
    except ValueError as exc:
        print(f"entrypoint: {exc}", file=sys.stderr)
        return 2
    if args == ["--print"]:
        print(shlex.join(cmd))
        return 0
    if args:
        print(
            f"{usage}\nentrypoint: unexpected arguments {args!r}; vLLM flags live in "
            "gpu_image/serve_config.py (only --print is accepted)",
            file=sys.stderr,
        )
        return 2
    sys.stdout.flush()
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main())
