"""Reading a webhook request safely: the body capped before it is read, JSON parsed without a crash."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from starlette.requests import Request

_LENGTH = re.compile(r"[0-9]{1,19}", re.ASCII)
_SHA256_HEADER = re.compile(r"sha256=[0-9a-f]{64}", re.ASCII)
NOT_JSON = object()


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be over `limit` bytes (by Content-Length, or while streaming).

    Nothing beyond the limit is read: a declared length over it is refused before the first byte, and a
    chunked body is counted as it arrives.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not _LENGTH.fullmatch(declared) or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON value of `body`, or NOT_JSON for bytes that are not UTF-8 JSON or nest too deep to parse."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return NOT_JSON


def well_formed_signature(header: str) -> bool:
    """Whether an X-Hub-Signature-256 header looks like one ("sha256=" and 64 hex digits), before any body is read."""
    return bool(_SHA256_HEADER.fullmatch(header))


def signature_matches(app_secret: str, body: bytes, header: str) -> bool:
    """Meta's HMAC-SHA256 of the raw body with the app secret, compared as bytes in constant time."""
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode("utf-8", "replace"), expected.encode())
