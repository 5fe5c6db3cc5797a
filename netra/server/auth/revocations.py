"""Sign-outs that last: the records database's `token_revocations`, read on every request.

    await refuse_revoked(uow, claims)           # InvalidTokenError (401) once the token was signed out
    await revoke(uow, claims)                   # sign-out: refused from now until the token expires
    first = await use_once(uow, jti, exp)       # the OAuth hand-off's code: True the first time only

Why no cache in front of the table: most tokens are never revoked, so a cache of revocations
saves no query, and a cache of "not revoked" answers would let a signed-out token through on
another process for as long as it holds. The lookup is a primary-key read in the request's
unit of work, next to the user lookup `signed_in` makes anyway.

Fail closed: when the database cannot be read or written, a token is refused and a sign-out
is not acknowledged, both with 503 `service_unavailable` (RevocationsUnavailableError); a
sign-out never answers 204 without the row committed.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy.exc import SQLAlchemyError

from netra.persistence.models import utcnow
from netra.persistence.uow import UnitOfWork
from netra.server.auth.errors import InvalidTokenError, RevocationsUnavailableError
from netra.server.auth.tokens import Claims

LOG = logging.getLogger("netra.auth")
STORE_ERRORS = (SQLAlchemyError, OSError)  # what a failing records database raises


@contextmanager
def _store(doing: str) -> Iterator[None]:
    """Translate a failure of the records database into RevocationsUnavailableError (503)."""
    try:
        yield
    except STORE_ERRORS as exc:
        LOG.warning("token revocations could not be %s: %s", doing, type(exc).__name__)
        raise RevocationsUnavailableError(f"sign-outs cannot be {doing} right now: try again shortly") from exc


def _expiry(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


async def refuse_revoked(uow: UnitOfWork, claims: Claims) -> None:
    """Raise InvalidTokenError when the token was signed out (RevocationsUnavailableError when unknowable)."""
    with _store("checked"):
        revoked = await uow.revocations.contains(str(claims.raw["jti"]))
    if revoked:
        raise InvalidTokenError("the token was revoked: sign in again")


async def revoke(uow: UnitOfWork, claims: Claims) -> None:
    """Refuse the token from now until it expires, durably; forget revocations that have expired."""
    with _store("recorded"):
        await uow.revocations.add(str(claims.raw["jti"]), _expiry(claims.expires_at))
        await uow.revocations.purge(utcnow())
        await uow.commit()


async def use_once(uow: UnitOfWork, jti: str, expires_at: int) -> bool:
    """Record the one-time `jti` as used; return True the first time, False ever after."""
    with _store("recorded"):
        first = await uow.revocations.add(jti, _expiry(expires_at))
        await uow.commit()
    return first
