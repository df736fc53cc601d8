"""Inputs and instruments for client tests: page images of known colours, an unsigned JWT,
a sleep that records instead of waiting."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from PIL import Image


def tiff_pages(colours: list[str], size: tuple[int, int] = (48, 64)) -> bytes:
    """A multi-page TIFF, one solid page per colour: the server's answer names each colour."""
    frames = [Image.new("RGB", size, colour) for colour in colours]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def png(colour: str = "white", size: tuple[int, int] = (48, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped ID token (the client reads `exp` without verifying the signature)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = json.dumps({"alg": "RS256", "typ": "JWT"}).encode()
    return ".".join([part(header), part(json.dumps(claims).encode()), part(b"signature")])


class RecordingSleep:
    """Stands in for asyncio.sleep in retry waits: records the wait, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
