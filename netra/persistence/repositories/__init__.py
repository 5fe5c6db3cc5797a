"""Repositories of the records database, one per aggregate, over one `AsyncSession`.

Use them through `netra.persistence.uow.UnitOfWork`, which commits or rolls back.
"""

from __future__ import annotations

from netra.persistence.repositories.base import (DEFAULT_LIMIT, MAX_LIMIT, NotFoundError, OwnedRepository,
                                                 Repository)
from netra.persistence.repositories.catalog import SupplyCatalogRepository
from netra.persistence.repositories.references import ReferenceRepository
from netra.persistence.repositories.revocations import RevocationRepository
from netra.persistence.repositories.runs import AgentReportRepository, AgentRunRepository, RunRepository
from netra.persistence.repositories.secrets import OAuthSecretRepository, UserSecretRepository
from netra.persistence.repositories.threads import MessageRepository, ThreadRepository
from netra.persistence.repositories.users import UserRepository

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "AgentReportRepository", "AgentRunRepository", "MessageRepository",
           "NotFoundError", "OAuthSecretRepository", "OwnedRepository", "ReferenceRepository", "Repository",
           "RevocationRepository", "RunRepository", "SupplyCatalogRepository", "ThreadRepository", "UserRepository",
           "UserSecretRepository"]
