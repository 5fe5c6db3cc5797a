"""Unit of work: one session, every repository on it, one commit.

    async with UnitOfWork(session_factory) as uow:
        thread = await uow.threads.create(user.id, title="Spend review")
        await uow.commit()

Leaving the block without `commit()` discards the work; an exception rolls it back and
propagates. The secret repositories need a cipher: the one given, else the one from
settings (built on first use of `user_secrets` / `oauth_secrets`).

Records kept per workspace (threads, messages, runs, agent runs, reports, references) are
read and written in the workspace the unit of work is bound to: `UnitOfWork(sessions,
workspace_id=...)`, or `uow.bind(workspace_id)` once it is known (the request's workspace).
Unbound, their repositories raise `WorkspaceRequiredError` rather than read anything.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.persistence.crypto import SecretCipher, cipher_from_settings
from netra.persistence.repositories import (AgentReportRepository, AgentRunRepository, MessageRepository,
                                            OAuthSecretRepository, ReferenceRepository, RevocationRepository,
                                            RunRepository, SupplyCatalogRepository, ThreadRepository,
                                            UserRepository, UserSecretRepository)
from netra.persistence.repositories.base import Tenant
from netra.persistence.repositories.keys import IngestKeyRepository
from netra.persistence.repositories.workspaces import MemberRepository, WorkspaceRepository

REPOSITORIES: dict[str, Any] = {
    "users": UserRepository,
    "catalog": SupplyCatalogRepository,
    "revocations": RevocationRepository,
    "workspaces": WorkspaceRepository,
    "members": MemberRepository,
    "ingest_keys": IngestKeyRepository,
}
# the repositories of records kept per workspace: built over the unit of work's `Tenant`
WORKSPACE_REPOSITORIES: dict[str, Any] = {
    "threads": ThreadRepository,
    "messages": MessageRepository,
    "runs": RunRepository,
    "agent_runs": AgentRunRepository,
    "reports": AgentReportRepository,
    "references": ReferenceRepository,
}


class UnitOfWork:
    """An async context: repositories over one session; `commit()` or nothing is kept."""

    session: AsyncSession
    users: UserRepository
    threads: ThreadRepository
    messages: MessageRepository
    runs: RunRepository
    agent_runs: AgentRunRepository
    reports: AgentReportRepository
    references: ReferenceRepository
    catalog: SupplyCatalogRepository
    revocations: RevocationRepository
    workspaces: WorkspaceRepository
    members: MemberRepository
    ingest_keys: IngestKeyRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession],
                 cipher: SecretCipher | None = None, workspace_id: str | None = None) -> None:
        self._factory, self._cipher, self.tenant = session_factory, cipher, Tenant(workspace_id)

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._factory()
        for name, repository in REPOSITORIES.items():
            setattr(self, name, repository(self.session))
        for name, repository in WORKSPACE_REPOSITORIES.items():
            setattr(self, name, repository(self.session, self.tenant))
        return self

    def bind(self, workspace_id: str) -> None:
        """Read and write workspace-owned records in `workspace_id` from now on."""
        self.tenant.bind(workspace_id)

    @property
    def workspace_id(self) -> str | None:
        """The workspace this unit of work is bound to (None until bound)."""
        return self.tenant.workspace_id

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        try:
            if exc_type is not None:
                await self.session.rollback()
        finally:
            await self.session.close()

    def _secret_cipher(self) -> SecretCipher:
        """Return the cipher given, else (once) the one from settings."""
        if self._cipher is None:
            self._cipher = cipher_from_settings()
        return self._cipher

    @property
    def user_secrets(self) -> UserSecretRepository:
        """The users' encrypted secrets."""
        return UserSecretRepository(self.session, self._secret_cipher())

    @property
    def oauth_secrets(self) -> OAuthSecretRepository:
        """The OAuth providers' encrypted client secrets."""
        return OAuthSecretRepository(self.session, self._secret_cipher())

    async def commit(self) -> None:
        """Keep everything done so far."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Discard everything done since the last commit."""
        await self.session.rollback()
