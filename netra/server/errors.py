"""HTTP errors: exception types raised anywhere below a route, and the handlers that answer them.

Routes never catch: they raise, and the handler registered for the exception's type (the
most specific one, by method resolution order) answers. Every error, whatever raised it,
has one body shape:

    {"error": {"code": "payload_too_large", "message": "...", "request_id": "3f2a..."}}

`HANDLERS` is the table: Starlette's and FastAPI's `HTTPException` (404, 405, ...), request
validation (422), rate limits (429 with `Retry-After`), each Netra error type of `ANSWERS`, the
library errors of `LIBRARY_ERRORS`, and a catch-all 500 whose message hides the cause (the
cause is logged with the request id instead).

`LIBRARY_ERRORS` translates what the libraries under a route raise into the Netra error it
means, as httpx maps httpcore's exceptions: the records database gone (refused, cut, timed
out; SQLAlchemy's and psycopg's errors) is a `ServiceError` (503), a value the database
refuses (out of range, a NUL character) or a body nesting too deeply to read or answer is a
`BadPayloadError` (400). No message carries the library's text: it can name hosts, databases,
SQL and paths. The library's exception is logged by type with the request id.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, NamedTuple

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import PydanticSerializationError
from sqlalchemy import exc as sa
from starlette.exceptions import HTTPException as StarletteHTTPException

from netra.server.auth.errors import AuthError, auth_error_handler
from netra.persistence.repositories.base import NotFoundError
from netra.errors import (ConfigError, ConflictError, NetraError, ServiceError, ToolArgumentsError, ToolNotFoundError,
                          UserInputError)
from netra.server.metrics import RATE_LIMITED, route_of
from netra.server.runs import RunEndedError, RunQueueFullError, ThreadBusyError
from netra.server.middleware import current_request_id, security_headers

LOG = logging.getLogger("netra.server")
INTERNAL_MESSAGE = "internal server error; quote the request id when reporting it"
MISCONFIGURED_MESSAGE = "the server is misconfigured; the server log names the setting (quote the request id)"
DATABASE_GONE = "the records database is unavailable; retry shortly"


class BadPayloadError(UserInputError):
    """The body cannot be read: invalid JSON, invalid UTF-8, broken gzip or the wrong shape."""


class PayloadTooLargeError(UserInputError):
    """The body is larger than its route allows (`NETRA_MAX_BODY_BYTES`, `NETRA_MAX_INGEST_BYTES`)."""


class UnsupportedMediaTypeError(UserInputError):
    """The body's Content-Type or Content-Encoding is not one the endpoint reads."""


class RateLimitedError(NetraError):
    """The client sent more requests to an endpoint than `NETRA_RATE_LIMIT_PER_MINUTE` allows."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after} s")
        self.retry_after = retry_after


class Answer(NamedTuple):
    """How an exception type is answered: HTTP status and error code."""

    status: int
    code: str


# exception type -> its answer; a subclass not listed takes its nearest listed base's
ANSWERS: dict[type[Exception], Answer] = {
    BadPayloadError: Answer(400, "bad_payload"),
    PayloadTooLargeError: Answer(413, "payload_too_large"),
    UnsupportedMediaTypeError: Answer(415, "unsupported_media_type"),
    ToolNotFoundError: Answer(404, "tool_not_found"),
    NotFoundError: Answer(404, "not_found"),
    ConflictError: Answer(409, "conflict"),
    ThreadBusyError: Answer(409, "thread_busy"),
    RunEndedError: Answer(409, "conflict"),  # nothing left to cancel (over the WebSocket: `run_ended`)
    RunQueueFullError: Answer(429, "run_queue_full"),
    ToolArgumentsError: Answer(422, "invalid_arguments"),
    UserInputError: Answer(400, "bad_request"),
    ConfigError: Answer(500, "server_misconfigured"),
    ServiceError: Answer(503, "service_unavailable"),
    NetraError: Answer(500, "internal_error"),
}
Handler = Callable[[Request, Any], Awaitable[JSONResponse]]


def _database_gone() -> NetraError:
    return ServiceError(DATABASE_GONE)


# library exception -> the Netra error it means; a subclass not listed takes its nearest listed base's
LIBRARY_ERRORS: dict[type[Exception], Callable[[], NetraError]] = {
    sa.OperationalError: _database_gone,  # refused, cut, a pre-ping that failed to reconnect
    sa.InterfaceError: _database_gone,
    sa.TimeoutError: lambda: ServiceError("no connection of the records database came free in time; retry shortly"),
    psycopg.OperationalError: _database_gone,  # the checkpointer's own connection
    psycopg.InterfaceError: _database_gone,
    psycopg_pool.PoolTimeout: _database_gone,
    sa.DataError: lambda: BadPayloadError("a value cannot be stored: out of range for its field, or holding "
                                          "characters the database refuses (such as NUL)"),
    RecursionError: lambda: BadPayloadError("the request nests too deeply to be read"),
    PydanticSerializationError: lambda: BadPayloadError("the answer cannot be serialised: a stored value nests "
                                                        "too deeply or is not JSON; replace it"),
}


def nearest(table: dict[type[BaseException], Any], exc: BaseException) -> Any:
    """Return the entry of the nearest type of `exc` (by method resolution order) in `table`, or None."""
    return next((table[kind] for kind in type(exc).__mro__ if kind in table), None)


def translated(exc: Exception) -> Exception:
    """Return the Netra error a library exception of LIBRARY_ERRORS means; any other exception as it is."""
    make = nearest(LIBRARY_ERRORS, exc)
    return make() if make is not None else exc


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """Return the JSON body of an error answer, with the current request id."""
    return {"error": {"code": code, "message": message, "request_id": current_request_id()}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Return the JSON error answer."""
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def status_code_name(status: int) -> str:
    """Return the error code of a bare HTTP status: 404 -> 'not_found'."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


def handler(answer: Answer) -> Handler:
    """Return the exception handler that answers with `answer` and the exception's message."""
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return error_response(answer.status, answer.code, str(exc))
    return handle


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Answer an HTTPException (unknown path, wrong method, ...) keeping its headers."""
    return error_response(exc.status_code, status_code_name(exc.status_code), str(exc.detail), exc.headers)


def describe(errors: Any) -> str:
    """Return the validation errors as 'where: what; ...' (never the offending values)."""
    return "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in errors)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Answer 422 naming each invalid field."""
    return error_response(422, "validation_failed", describe(exc.errors()))


async def rate_limited(request: Request, exc: RateLimitedError) -> JSONResponse:
    """Answer 429 with `Retry-After`, and count the refusal."""
    RATE_LIMITED.labels(route_of(request.scope)[0]).inc()
    return error_response(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})


async def library_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a library exception as the Netra error it means (LIBRARY_ERRORS); log its type only."""
    mapped = translated(exc)
    LOG.warning("%s on %s %s answered as %s (request_id=%s)", type(exc).__name__, request.method,
                request.url.path, type(mapped).__name__, current_request_id())
    answer = nearest(ANSWERS, mapped)
    return error_response(answer.status, answer.code, str(mapped))


async def misconfigured(request: Request, exc: ConfigError) -> JSONResponse:
    """Answer 500 `server_misconfigured`; the setting's message (it can name hosts and paths) goes to the log."""
    LOG.error("server misconfigured on %s %s (request_id=%s): %s", request.method, request.url.path,
              current_request_id(), exc)
    return error_response(500, "server_misconfigured", MISCONFIGURED_MESSAGE)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer 500 without the cause; log the cause's type with the request id.

    This runs outside the app's middleware, so it adds the request id and security headers itself;
    `Connection: close` tells the client that uvicorn closes the connection after an unhandled error.
    """
    request_id = current_request_id()
    LOG.error("unhandled %s on %s %s (request_id=%s)", type(exc).__name__, request.method, request.url.path,
              request_id)
    headers = {"X-Request-ID": request_id, "Connection": "close", **security_headers(request.scope)}
    return error_response(500, "internal_error", INTERNAL_MESSAGE, headers)


# exception type -> its handler; `Exception` is Starlette's last-resort 500
HANDLERS: dict[type[Exception], Handler] = {
    StarletteHTTPException: http_error,
    RequestValidationError: validation_error,
    RateLimitedError: rate_limited,
    AuthError: auth_error_handler,
    **{exc_type: handler(answer) for exc_type, answer in ANSWERS.items()},
    ConfigError: misconfigured,
    **{exc_type: library_error for exc_type in LIBRARY_ERRORS},
    Exception: internal_error,
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handler of each exception type of `HANDLERS`."""
    for exc_type, handle in HANDLERS.items():
        app.add_exception_handler(exc_type, handle)
