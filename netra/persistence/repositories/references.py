"""A user's references (owner-scoped)."""

from __future__ import annotations

from netra.persistence.models import Reference
from netra.persistence.repositories.base import WorkspaceOwnedRepository


class ReferenceRepository(WorkspaceOwnedRepository[Reference]):
    """A user's references: `list(owner_id)` newest first."""

    model = Reference
