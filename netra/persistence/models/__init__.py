"""The records models (SQLAlchemy 2 typed ORM), one module per aggregate.

Importing this package registers every table on `Base.metadata`.
"""

from __future__ import annotations

from netra.persistence.models.base import Base, new_id, utcnow
from netra.persistence.models.catalog import SupplyCatalogEntry
from netra.persistence.models.keys import IngestKey
from netra.persistence.models.references import Reference
from netra.persistence.models.revocations import token_revocations
from netra.persistence.models.runs import FINISHED, AgentReport, AgentRun, Run, RunStatus
from netra.persistence.models.secrets import OAuthSecret, UserSecret
from netra.persistence.models.threads import Message, MessageRole, Thread
from netra.persistence.models.users import Role, User
from netra.persistence.models.workspaces import Workspace, WorkspaceMember, WorkspaceRole

__all__ = ["FINISHED", "AgentReport", "AgentRun", "Base", "IngestKey", "Message", "MessageRole", "OAuthSecret",
           "Reference", "Role", "Run", "RunStatus", "SupplyCatalogEntry", "Thread", "User", "UserSecret",
           "Workspace", "WorkspaceMember", "WorkspaceRole", "new_id", "token_revocations", "utcnow"]
