"""Dependencies of the routes: settings, the app's resources, a unit of work, the loader.

    async def route(uow: UnitOfWork = Depends(get_uow), user: Claims = Depends(signed_in)): ...

`signed_in` is the dependency of every owned resource: a valid bearer token with the `api`
scope, not signed out (its `jti` not in `token_revocations`; 503 when that cannot be read),
whose user still exists (401 otherwise). Records are then read and written as
`user.user_id`, and `user.role` is the role stored in `users` now, not the token's claim:
`require_role` reads it, so a demoted user loses the role's routes at once.

`get_resources` starts the resources when the app runs without its lifespan (tests that
serve it with `lifespan="off"`). `get_uow` opens one unit of work per request over the
app's engine; routes commit what they keep. Loads into the analytics store run one at a
time: embedded chDB serves one process, and the duplicate check of a load must not
interleave with another's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import AsyncIterator, Awaitable, Callable, Iterable

from fastapi import Depends, Request

from netra.config import Settings, get_settings
from netra.persistence.analytics import AnalyticsStore
from netra.persistence.uow import UnitOfWork
from netra.server.auth.deps import current_user
from netra.server.auth.errors import ForbiddenError, InvalidTokenError
from netra.server.auth.revocations import refuse_revoked
from netra.server.auth.tokens import DEFAULT_SCOPE, Claims, require_scopes
from netra.server.resources import AppResources
from netra.workloads.catalog import PriceCatalog
from netra.workloads.importers.base import ImportOptions, RawBatch
from netra.workloads.importers.loader import IngestSummary, load_batches

__all__ = ["AppResources", "Loader", "get_loader", "get_resources", "get_settings", "get_uow", "require_role",
           "signed_in"]


async def get_resources(request: Request) -> AppResources:
    """Return the app's resources, started."""
    resources: AppResources = request.app.state.resources
    await resources.start()
    return resources


async def get_uow(resources: AppResources = Depends(get_resources)) -> AsyncIterator[UnitOfWork]:
    """Yield a unit of work for this request (rolled back unless the route commits)."""
    async with UnitOfWork(resources.session_factory) as uow:  # type: ignore[arg-type]
        yield uow


async def signed_in(claims: Claims = Depends(current_user), uow: UnitOfWork = Depends(get_uow)) -> Claims:
    """Return the claims of a live token of an existing user, with the user's stored role.

    Raises:
        InvalidTokenError: signed out, or the user no longer exists (401).
        InsufficientScopeError: the token lacks the `api` scope (403).
        RevocationsUnavailableError: the sign-out list cannot be read (503: fail closed).
    """
    require_scopes(claims, DEFAULT_SCOPE)
    await refuse_revoked(uow, claims)
    user = await uow.users.get(claims.user_id)
    if user is None:
        raise InvalidTokenError("the token's user no longer exists")
    return replace(claims, role=user.role)


def require_role(*roles: str) -> Callable[..., Awaitable[Claims]]:
    """Return a dependency letting through signed-in users whose stored role is one of `roles` (403 otherwise)."""
    async def check(user: Claims = Depends(signed_in)) -> Claims:
        if user.role not in roles:
            raise ForbiddenError(f"this needs the role {' or '.join(map(repr, roles))}")
        return user
    return check


@dataclass
class Loader:
    """Loads raw batches into the store all-or-nothing, one load at a time."""

    store: AnalyticsStore
    catalog: PriceCatalog
    lock: threading.Lock

    def load(self, batches: Iterable[RawBatch], source: str, workspace_id: str) -> IngestSummary:
        """Validate, price and load `batches` into the workspace (duplicates looked for there only); summarise."""
        with self.lock:
            options = ImportOptions(source=source, workspace_id=workspace_id)
            return load_batches(self.store, self.catalog, batches, options)


def get_loader(request: Request, settings: Settings = Depends(get_settings)) -> Loader:
    """Return the loader over the app's store and catalog."""
    resources: AppResources = request.app.state.resources
    store, catalog = resources.opened(settings)
    return Loader(store, catalog, resources.lock)
