"""onnxruntime sessions sized to the machine the local server runs on (see `_engine`)."""

from __future__ import annotations

import os
from typing import Any


def cpu_cores() -> int:
    """The cores this process may run on (its affinity mask, which a container may narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def session_options(threads: int) -> Any:
    """onnxruntime options for a machine shared with other pages and other processes.

    Threads do not spin while waiting for work: rapidocr leaves spinning on, and on two
    cores shared with the console and a test suite the spinning threads took the CPU from
    the ones with work (a dense page's recognition used 11.6 s of CPU with spinning, 7.6 s
    on one thread without). The memory arena stays off, as rapidocr has it, so a page's
    buffers go back when it is done instead of staying at the largest page's size.
    """
    import onnxruntime as ort  # type: ignore[import-untyped]  # lazy: server extra

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = False
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def resize_sessions(ocr: Any, threads: int) -> None:
    """Replace rapidocr's three sessions with ones sized to the machine.

    Detection runs one large image: its convolutions split well over `threads`. A line
    crop is too small to split (two threads read a dense page's lines no faster than one),
    so the classifier and recogniser get one thread each and the lines of a page are read
    side by side instead (see `Recognizer`).
    """
    import onnxruntime as ort

    for holder, count in (
        (ocr.text_det.infer, threads),
        (ocr.text_cls.infer, 1),
        (ocr.text_rec.session, 1),
    ):
        path = holder.session._model_path
        holder.session = ort.InferenceSession(
            path, session_options(count), providers=["CPUExecutionProvider"]
        )


__all__ = ["cpu_cores", "resize_sessions", "session_options"]
