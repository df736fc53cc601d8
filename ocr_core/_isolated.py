"""A document opened in the sandbox: every parse, text read and render runs in a worker.

The caller's process never hands untrusted bytes to pdfium or Pillow's decoders. The file is
written once to a private temporary directory (0700) and workers read it from there, so a
1000-page PDF is not pickled through a pipe for every page. Each worker keeps the last few
documents it opened, so consecutive pages of one document do not re-parse it.

A process killed outright (SIGKILL, OOM) cannot remove its copies, so each directory names its
process (`lightonocr-doc-<pid>-...`), and the first document a process opens removes the
directories of processes that are gone.

What crosses back is small and plain: the page count, a text layer, or a page image already
scaled to `longest_side` (mode, size and raw pixels). Errors cross as our own typed errors
(they pickle; see `OCRError.__reduce__`), and a worker that breached a limit comes back as
`ResourceLimitExceeded`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image

from ._config import DocumentSettings
from ._pdf import PdfSource
from ._raster import RasterSource
from ._sandbox import Sandbox

_Pixels = tuple[str, tuple[int, int], bytes]
_PREFIX = "lightonocr-doc-"
_swept = threading.Event()


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def sweep_left_copies(folder: str | None = None) -> int:
    """Remove the document copies of processes that are gone (in this user's temporary
    folder); how many directories went. A pid reused since is taken as alive: left alone."""
    removed = 0
    with contextlib.suppress(OSError):
        for entry in Path(folder or tempfile.gettempdir()).iterdir():
            pid = entry.name.removeprefix(_PREFIX).split("-", 1)[0]
            if not entry.name.startswith(_PREFIX) or not pid.isdigit():
                continue
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == os.getuid() and _process_gone(int(pid)):
                    shutil.rmtree(entry)
                    removed += 1
    return removed


class IsolatedSource:
    """The `_Source` of a document whose bytes are only ever parsed inside `sandbox`."""

    def __init__(
        self,
        data: bytes,
        kind: str,
        password: str | None,
        settings: DocumentSettings,
        sandbox: Sandbox,
    ) -> None:
        self._kind = kind
        self._password = password
        self._settings = settings
        self._sandbox = sandbox
        self._lane = sandbox.lanes.new_lane("document")
        if not _swept.is_set():
            _swept.set()
            sweep_left_copies()
        self._dir: Path | None = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        self._path = str(self._dir / "document")
        self._lock = threading.Lock()
        try:
            Path(self._path).write_bytes(data)
            self.page_count, first = sandbox.run(
                _open, kind, self._path, password, settings, lane=self._lane
            )
        except BaseException:
            self.close()
            raise
        # A raster file's first page is decoded while opening (that is how a truncated
        # image is told apart from a good one); keep it rather than decode it again.
        self._first: Image.Image | None = _image(first) if first is not None else None

    def close(self) -> None:
        self._sandbox.lanes.forget(self._lane)
        with self._lock:
            self._first = None
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def _take_first(self, index: int) -> Image.Image | None:
        with self._lock:
            first, self._first = (self._first, None) if index == 0 else (None, self._first)
        return first

    def render(self, index: int) -> Image.Image:
        if (first := self._take_first(index)) is not None:
            return first
        args = (self._kind, self._path, index, self._password, self._settings)
        return _image(self._sandbox.run(_render, *args, lane=self._lane))

    async def arender(self, index: int) -> Image.Image:
        """`render` without holding a thread while the page waits for its lane's turn."""
        if (first := self._take_first(index)) is not None:
            return first
        args = (self._kind, self._path, index, self._password, self._settings)
        return _image(await self._sandbox.arun(_render, *args, lane=self._lane))

    async def apage(
        self, index: int, use_text_layer: bool
    ) -> tuple[str | None, Image.Image | None]:
        """A page for OCR in ONE turn of the sandbox: its text layer (PDFs), and its image
        unless that text is used instead."""
        if self._kind != "pdf":
            return None, await self.arender(index)
        args = (self._kind, self._path, index, self._password, self._settings, use_text_layer)
        text, pixels = await self._sandbox.arun(_page, *args, lane=self._lane)
        return text, _image(pixels) if pixels is not None else None

    def text(self, index: int) -> str | None:
        if self._kind != "pdf":
            return None
        args = (self._kind, self._path, index, self._password, self._settings)
        return self._sandbox.run(_text, *args, lane=self._lane)

    async def atext(self, index: int) -> str | None:
        if self._kind != "pdf":
            return None
        args = (self._kind, self._path, index, self._password, self._settings)
        return await self._sandbox.arun(_text, *args, lane=self._lane)


def _image(pixels: _Pixels) -> Image.Image:
    mode, size, data = pixels
    return Image.frombytes(mode, size, data)


def _pixels(image: Image.Image) -> _Pixels:
    return image.mode, image.size, image.tobytes()


# --- in the worker ---------------------------------------------------------------------------

_Source = PdfSource | RasterSource
_OPEN: OrderedDict[tuple[str, str | None], _Source] = OrderedDict()
_KEEP_OPEN = 4


def _source(kind: str, path: str, password: str | None, settings: DocumentSettings) -> _Source:
    key = (path, password)
    source = _OPEN.get(key)
    if source is None:
        data = Path(path).read_bytes()
        source = (
            PdfSource(data, password, settings)
            if kind == "pdf"
            else RasterSource(data, kind, settings)
        )
        _OPEN[key] = source
        while len(_OPEN) > _KEEP_OPEN:
            _OPEN.popitem(last=False)[1].close()
    _OPEN.move_to_end(key)
    return source


def _open(
    kind: str, path: str, password: str | None, settings: DocumentSettings
) -> tuple[int, _Pixels | None]:
    source = _source(kind, path, password, settings)
    first = None if kind == "pdf" else _pixels(source.render(0))
    return source.page_count, first


def _render(
    kind: str, path: str, index: int, password: str | None, settings: DocumentSettings
) -> _Pixels:
    return _pixels(_source(kind, path, password, settings).render(index))


def _text(
    kind: str, path: str, index: int, password: str | None, settings: DocumentSettings
) -> str | None:
    return _source(kind, path, password, settings).text(index)


def _page(
    kind: str,
    path: str,
    index: int,
    password: str | None,
    settings: DocumentSettings,
    use_text_layer: bool,
) -> tuple[str | None, _Pixels | None]:
    source = _source(kind, path, password, settings)
    text = source.text(index)
    if use_text_layer and text is not None:
        return text, None
    return text, _pixels(source.render(index))


__all__ = ["IsolatedSource"]
