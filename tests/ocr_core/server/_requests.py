"""Building chat requests the way a vLLM client would, for the server's tests."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

MODEL = "lightonai/LightOnOCR-2-1B"


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def blank_page(width: int = 120, height: int = 80) -> str:
    """A white PNG page as a data URI: enough for the simulated engine."""
    return data_uri(encode(Image.new("RGB", (width, height), "white")))


def chat_body(url: str | None, **extra: Any) -> dict[str, Any]:
    """The model card's request: one user message holding only the image."""
    content = [] if url is None else [{"type": "image_url", "image_url": {"url": url}}]
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}
