"""`python -m ocr_core.server` / `ocr-local-server`: the local OpenAI-compatible OCR server."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ._engine import ENGINES
from ._images import MAX_DECODE_SIDE
from ._settings import DEFAULT_MODEL_NAME, ServerSettings

logger = logging.getLogger("ocr_core.server")

EXIT_BAD_ARGUMENTS = 2
EXIT_ENGINE_FAILED = 3


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ocr-local-server",
        description="A local server speaking vLLM's OpenAI-compatible API over a CPU OCR engine.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--engine",
        choices=[*ENGINES, "vllm"],
        default="rapidocr",
        help="vllm execs `vllm serve` with gpu_image.serve_config's flags (needs vllm and a GPU)",
    )
    parser.add_argument(
        "--max-num-seqs",
        type=int,
        default=None,
        help="requests run at once (default: the cores this process may run on for rapidocr, "
        "8 as vLLM for the simulated engine); stated in /v1/models, so clients send no more",
    )
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--served-model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument(
        "--service-time", type=float, default=0.5, help="seconds per page (simulated engine)"
    )
    parser.add_argument(
        "--startup-delay",
        type=float,
        default=0.0,
        help="seconds /health stays 503 before the engine loads (simulates a cold start)",
    )
    parser.add_argument(
        "--engine-threads",
        type=int,
        default=None,
        help="cores one page may use (rapidocr; default: all the process may run on)",
    )
    parser.add_argument(
        "--max-waiting",
        type=int,
        default=None,
        help="requests that may wait for a slot (default: twice --max-num-seqs, at least 16); "
        "more are refused with 429 and Retry-After",
    )
    parser.add_argument(
        "--max-image-side",
        type=int,
        default=MAX_DECODE_SIDE,
        help="larger page images are decoded reduced to this longest side (px)",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds a client has to send its request headers",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        help="seconds a client has to send its request body",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return parser.parse_args(argv)


def default_slots(engine: str) -> int:
    """Pages the engine runs at once by default. The CPU engine: one per core this process
    may use (measured on 2 cores, 8 scans: 2 slots read 0.32 s/page at 754 MB peak RSS, 8
    slots 0.52 s/page at 2.2 GB: more pages at once than cores only thrash and hold memory).
    The simulated engine stands for vLLM, whose --max-num-seqs the GPU image sets to 8."""
    if engine != "rapidocr":
        return 8
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from ._logging import configure_logging, logging_config

    configure_logging(args.log_level)
    if args.engine == "vllm":
        from ._vllm import VllmUnavailable, exec_vllm

        try:
            exec_vllm(args.port, args.host, args.served_model_name)
        except VllmUnavailable as exc:
            logger.error("%s", exc)
            return EXIT_BAD_ARGUMENTS
    try:
        settings = ServerSettings(
            engine=args.engine,
            served_model_name=args.served_model_name,
            max_model_len=args.max_model_len,
            max_num_seqs=(
                default_slots(args.engine) if args.max_num_seqs is None else args.max_num_seqs
            ),
            service_time=args.service_time,
            startup_delay=args.startup_delay,
            engine_threads=args.engine_threads,
            max_waiting=args.max_waiting,
            max_image_side=args.max_image_side,
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
        )
    except ValueError as exc:
        logger.error("%s", exc)
        return EXIT_BAD_ARGUMENTS

    import uvicorn

    from ._app import create_app
    from ._http import HeaderDeadlineProtocol

    logger.info(
        "starting %s engine on http://%s:%d (model %s, %d slots)",
        settings.engine,
        args.host,
        args.port,
        settings.served_model_name,
        settings.max_num_seqs,
    )
    failures: list[str] = []

    def stop(reason: str) -> None:
        # Exit like vLLM when the engine cannot load, rather than answer 503 forever.
        failures.append(reason)
        server.should_exit = True

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, on_engine_failure=stop),
            host=args.host,
            port=args.port,
            log_config=logging_config(args.log_level),
            timeout_graceful_shutdown=5,
            http=HeaderDeadlineProtocol.with_deadline(settings.header_timeout),
        )
    )
    server.run()
    code = EXIT_ENGINE_FAILED if failures else 0
    # An engine thread cannot be interrupted mid-page, and the interpreter would wait for it
    # at exit: a page nobody waits for any more must not hold up a stop.
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
