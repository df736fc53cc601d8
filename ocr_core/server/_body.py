"""Reading a JSON request body from an untrusted client, with every size and time bounded.

The body is counted as it streams in, so a chunked body (no Content-Length) stops at the cap
like any other; it must arrive within a deadline, so a Content-Length that promises more
than is sent cannot hold the request forever; and its JSON is refused before parsing when
it holds more containers and values than a chat request ever does, because a few bytes per
value (`[{},{},...]`) become tens of bytes per Python object, and deep nesting exhausts the
parser's recursion.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request

from ._errors import RequestError

# What real chat requests never come near: a page request has a few dozen values.
MAX_JSON_VALUES = 20_000
# vLLM (FastAPI) answers a body its JSON parser cannot take with this message.
PARSE_ERROR = "There was an error parsing the body"
_CLOSE = {"Connection": "close"}  # the rest of the body is not read: do not reuse the socket


class ClientGone(Exception):
    """The client closed the connection before its request was complete."""


def check_media_type(request: Request) -> None:
    """vLLM accepts only `application/json` request bodies."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise RequestError("Unsupported Media Type: Only 'application/json' is allowed")


async def read_body(
    request: Request, *, limit: int, deadline_s: float, reserve: Callable[[int], None]
) -> bytes:
    """The whole body, at most `limit` bytes, within `deadline_s`; 413/408 otherwise.

    `reserve` is told of each chunk before it is kept (the server's body budget).
    """
    too_large = RequestError(
        f"the request body is larger than {limit} bytes", status=413, headers=_CLOSE
    )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    try:
        async with asyncio.timeout(deadline_s), contextlib.aclosing(request.stream()) as stream:
            async for chunk in stream:
                if len(body) + len(chunk) > limit:
                    raise too_large
                reserve(len(chunk))
                body += chunk
    except TimeoutError:
        raise RequestError(
            f"the request body did not arrive within {deadline_s:g} s",
            status=408,
            headers=_CLOSE,
        ) from None
    except ClientDisconnect:
        raise ClientGone("the client closed the connection while sending its body") from None
    return bytes(body)


def parse_json(raw: bytes) -> Any:
    """The decoded JSON, or vLLM's 400 for a body it cannot parse."""
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if values > MAX_JSON_VALUES:
        raise RequestError(f"{PARSE_ERROR}: more than {MAX_JSON_VALUES} JSON values or containers")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise RequestError(f"{PARSE_ERROR}: {type(exc).__name__}: {exc}") from None
