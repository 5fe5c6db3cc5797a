"""Dependencies of the routes: settings, the app's resources, a unit of work, the loader.

    async def route(uow: UnitOfWork = Depends(get_uow), user: Claims = Depends(signed_in)): ...

`signed_in` is the dependency of every owned resource: a valid bearer token with the `api`
scope, not signed out (`revoked:{jti}` in the sessions cache), whose user still exists
(401 otherwise). Records are then read and written as `user.user_id`.

`get_resources` starts the resources when the app runs without its lifespan (tests that
serve it with `lifespan="off"`). `get_uow` opens one unit of work per request over the
app's engine; routes commit what they keep. Loads into the analytics store run one at a
time: embedded chDB serves one process, and the duplicate check of a load must not
interleave with another's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import AsyncIterator, Iterable

from fastapi import Depends, Request

from netra.config import Settings, get_settings
from netra.persistence.analytics import AnalyticsStore
from netra.persistence.uow import UnitOfWork
from netra.server.auth.deps import current_user
from netra.server.auth.errors import InvalidTokenError
from netra.server.auth.tokens import DEFAULT_SCOPE, Claims, require_scopes
from netra.server.resources import AppResources
from netra.workloads.catalog import PriceCatalog
from netra.workloads.importers.base import ImportOptions, RawBatch
from netra.workloads.importers.loader import IngestSummary, load_batches

__all__ = ["AppResources", "Loader", "get_loader", "get_resources", "get_settings", "get_uow", "revoke",
           "signed_in"]
REVOKED = "revoked:"


async def get_resources(request: Request) -> AppResources:
    """Return the app's resources, started."""
    resources: AppResources = request.app.state.resources
    await resources.start()
    return resources


async def get_uow(resources: AppResources = Depends(get_resources)) -> AsyncIterator[UnitOfWork]:
    """Yield a unit of work for this request (rolled back unless the route commits)."""
    async with UnitOfWork(resources.session_factory) as uow:  # type: ignore[arg-type]
        yield uow


async def signed_in(claims: Claims = Depends(current_user), uow: UnitOfWork = Depends(get_uow),
                    resources: AppResources = Depends(get_resources)) -> Claims:
    """Return the claims of a live token of an existing user with the `api` scope (401/403 otherwise)."""
    require_scopes(claims, DEFAULT_SCOPE)
    if resources.cache("sessions").get(REVOKED + str(claims.raw.get("jti", ""))) is not None:
        raise InvalidTokenError("the token was revoked: sign in again")
    if await uow.users.get(claims.user_id) is None:
        raise InvalidTokenError("the token's user no longer exists")
    return claims


def revoke(resources: AppResources, claims: Claims, now: float) -> None:
    """Refuse the token of `claims` from now until it expires (sign-out)."""
    ttl = max(1, int(claims.expires_at - now))
    resources.cache("sessions").set(REVOKED + str(claims.raw.get("jti", "")), b"1", ttl)


@dataclass
class Loader:
    """Loads raw batches into the store all-or-nothing, one load at a time."""

    store: AnalyticsStore
    catalog: PriceCatalog
    lock: threading.Lock

    def load(self, batches: Iterable[RawBatch], source: str) -> IngestSummary:
        """Validate, price and load `batches`; return the summary."""
        with self.lock:
            return load_batches(self.store, self.catalog, batches, ImportOptions(source=source))


def get_loader(request: Request, settings: Settings = Depends(get_settings)) -> Loader:
    """Return the loader over the app's store and catalog."""
    resources: AppResources = request.app.state.resources
    store, catalog = resources.opened(settings)
    return Loader(store, catalog, resources.lock)
