"""The records models (SQLAlchemy 2 typed ORM), one module per aggregate.

Importing this package registers every table on `Base.metadata`.
"""

from __future__ import annotations

from netra.persistence.models.base import Base, new_id, utcnow
from netra.persistence.models.catalog import SupplyCatalogEntry
from netra.persistence.models.references import Reference
from netra.persistence.models.runs import FINISHED, AgentReport, AgentRun, Run, RunStatus
from netra.persistence.models.secrets import OAuthSecret, UserSecret
from netra.persistence.models.threads import Message, MessageRole, Thread
from netra.persistence.models.users import Role, User

__all__ = ["FINISHED", "AgentReport", "AgentRun", "Base", "Message", "MessageRole", "OAuthSecret",
           "Reference", "Role", "Run", "RunStatus", "SupplyCatalogEntry", "Thread", "User", "UserSecret",
           "new_id", "utcnow"]
