"""OCR engines behind the local server: page image in, markdown text out.

`rapidocr` runs PaddleOCR's detection and recognition models with onnxruntime on the CPU;
the models ship inside the rapidocr wheel, so loading needs no network. `simulated` does no
OCR: it holds a slot for a fixed service time and answers deterministically, which is what
throughput benchmarks and fast console tests need.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from ._layout import TextBox, to_markdown

ENGINES = ("rapidocr", "simulated")


@dataclass(frozen=True, slots=True)
class EngineResult:
    """One page's text and how it was obtained."""

    text: str
    boxes: int = 0
    seconds: float = 0.0


class Engine(Protocol):
    """What the server needs from an engine. `read` is blocking; the server calls it in a thread."""

    name: str

    def read(self, image: Image.Image) -> EngineResult: ...


class RapidOcrEngine:
    """PaddleOCR models through rapidocr_onnxruntime, with our own reading order."""

    name = "rapidocr"

    def __init__(self, threads: int | None = None) -> None:
        from rapidocr_onnxruntime import RapidOCR  # server extra, imported only when used

        options: dict[str, Any] = {}
        if threads:
            # Several pages run at once; one onnxruntime pool per call would oversubscribe the CPU.
            options = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
        self._ocr = RapidOCR(**options)

    def read(self, image: Image.Image) -> EngineResult:
        import numpy as np

        started = time.perf_counter()
        pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]  # rapidocr expects BGR like cv2
        found, _ = self._ocr(np.ascontiguousarray(pixels))
        boxes = [TextBox.from_quad(quad, text) for quad, text, _score in found or ()]
        return EngineResult(to_markdown(boxes), len(boxes), time.perf_counter() - started)


class SimulatedEngine:
    """Fixed service time per page and text that depends only on the image size."""

    name = "simulated"

    def __init__(self, service_time: float = 0.5) -> None:
        if service_time < 0:
            raise ValueError("service_time must be >= 0")
        self.service_time = service_time

    def read(self, image: Image.Image) -> EngineResult:
        started = time.perf_counter()
        time.sleep(self.service_time)
        width, height = image.size
        text = f"simulated page {width}x{height}\n\nThis text stands in for the OCR of one page."
        return EngineResult(text, 0, time.perf_counter() - started)


def load_engine(name: str = "rapidocr", **opts: Any) -> Engine:
    """Build an engine by name; `opts` go to its constructor (`service_time`, `threads`)."""
    if name == "rapidocr":
        return RapidOcrEngine(**opts)
    if name == "simulated":
        return SimulatedEngine(**opts)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
