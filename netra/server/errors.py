"""HTTP errors: exception types raised anywhere below a route, and the handlers that answer them.

Routes never catch: they raise, and the handler registered for the exception's type (the
most specific one, by method resolution order) answers with its status and a JSON body

    {"error": "payload_too_large", "message": "...", "code": 8}

where `code` is the gRPC status code, so OTLP clients read the body as a `google.rpc.Status`.
"""

from __future__ import annotations

from typing import Awaitable, Callable, NamedTuple

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from netra.errors import (ConfigError, NetraError, ServiceError, ToolArgumentsError, ToolNotFoundError,
                          UserInputError)


class BadPayloadError(UserInputError):
    """The body cannot be read: invalid JSON, invalid UTF-8, broken gzip or the wrong shape."""


class PayloadTooLargeError(UserInputError):
    """The body is larger than `NETRA_MAX_INGEST_BYTES` allows."""


class UnsupportedMediaTypeError(UserInputError):
    """The body's Content-Type or Content-Encoding is not one the endpoint reads."""


class Answer(NamedTuple):
    """How an exception type is answered: HTTP status, error slug, gRPC status code."""

    status: int
    error: str
    grpc_code: int


# exception type -> its answer; a subclass not listed takes its nearest listed base's
ANSWERS: dict[type[Exception], Answer] = {
    BadPayloadError: Answer(400, "bad_payload", 3),
    PayloadTooLargeError: Answer(413, "payload_too_large", 8),
    UnsupportedMediaTypeError: Answer(415, "unsupported_media_type", 3),
    ToolNotFoundError: Answer(404, "tool_not_found", 5),
    ToolArgumentsError: Answer(422, "invalid_arguments", 3),
    UserInputError: Answer(400, "bad_request", 3),
    ConfigError: Answer(500, "server_misconfigured", 13),
    ServiceError: Answer(503, "service_unavailable", 14),
    NetraError: Answer(500, "internal_error", 13),
}
Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def error_body(answer: Answer, message: str) -> dict:
    """Return the JSON body of an error answer."""
    return {"error": answer.error, "message": message, "code": answer.grpc_code}


def handler(answer: Answer) -> Handler:
    """Return the exception handler that answers with `answer` and the exception's message."""
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(answer, str(exc)), status_code=answer.status)
    return handle


def install_error_handlers(app: FastAPI) -> None:
    """Register one handler per exception type of `ANSWERS`."""
    for exc_type, answer in ANSWERS.items():
        app.add_exception_handler(exc_type, handler(answer))
