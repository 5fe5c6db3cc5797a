"""Request size limit: an ingest body over `NETRA_MAX_INGEST_BYTES` is refused with 413.

The limit is checked three times, so no oversized body is ever held whole: against the
declared Content-Length before reading, while the body streams in (chunked uploads), and
against the decompressed size of a gzip body (OTLP exporters compress by default).
"""

from __future__ import annotations

import zlib
from typing import Any, Callable

from fastapi import Depends, Request

from netra.config import Settings
from netra.server.deps import get_settings
from netra.server.errors import BadPayloadError, PayloadTooLargeError, UnsupportedMediaTypeError

GZIP_WINDOW = 16 + zlib.MAX_WBITS


async def limited_body(request: Request, settings: Settings = Depends(get_settings)) -> bytes:
    """Return the request body, decompressed; raise PayloadTooLargeError past the limit."""
    limit = settings.max_ingest_bytes
    _check_declared(request.headers.get("content-length"), limit)
    raw = await _read(request, limit)
    return decode(raw, request.headers.get("content-encoding", "identity"), limit)


def too_large(limit: int) -> PayloadTooLargeError:
    """Return the error of a body over `limit` bytes."""
    return PayloadTooLargeError(f"request body exceeds the limit of {limit} bytes (NETRA_MAX_INGEST_BYTES); "
                                "send smaller batches")


def _check_declared(length: str | None, limit: int) -> None:
    if length is not None and length.strip().isdigit() and int(length) > limit:
        raise too_large(limit)


async def _read(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(GZIP_WINDOW)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise BadPayloadError(f"body is not valid gzip: {exc}") from exc
    return _complete(inflater, body, limit)


def _complete(inflater: Any, body: bytes, limit: int) -> bytes:
    if len(body) > limit:
        raise too_large(limit)
    if not inflater.eof:
        raise BadPayloadError("gzip body is truncated")
    return body


# Content-Encoding -> how to decode the body within the limit
DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "identity": lambda raw, limit: raw,
    "": lambda raw, limit: raw,
    "gzip": _gunzip,
    "x-gzip": _gunzip,
}


def decode(raw: bytes, encoding: str, limit: int) -> bytes:
    """Return the body decoded per its Content-Encoding; raise UnsupportedMediaTypeError for others."""
    decoder = DECODERS.get(encoding.strip().lower())
    if decoder is None:
        raise UnsupportedMediaTypeError(f"Content-Encoding {encoding!r} is not supported; send gzip or identity")
    return decoder(raw, limit)
