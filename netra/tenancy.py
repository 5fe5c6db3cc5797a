"""Workspaces, as every layer sees them: the `local` workspace and an owner within a workspace.

A workspace is one organisation's account: its telemetry, threads, runs and reports are its
own (docs/workspaces.md). Everything the embedded CLI does happens in `LOCAL_WORKSPACE`;
the server acts in the workspace of the request (a member's choice, or the key's).

    owner = Owner(user_id, workspace_id)     # who a record belongs to, and where
    owner.user_id, owner.workspace_id
"""

from __future__ import annotations

from dataclasses import dataclass

from netra.errors import NetraError

LOCAL_WORKSPACE = "local"
MAX_WORKSPACE_ID = 36  # workspace ids are UUID strings, or `local`
# never in a workspace id: it joins a workspace to one Netra derives from it (`<id>/netra`, the usage
# workspace of `netra.llm.accounting`), which no request may name
DERIVED_SEPARATOR = "/"


class WorkspaceRequiredError(NetraError):
    """Workspace-scoped data was read or written without a workspace (a programming error: 500)."""


@dataclass(frozen=True)
class Owner:
    """A user acting in one workspace: the pair every owned record and run is scoped to."""

    user_id: str
    workspace_id: str

    def __post_init__(self) -> None:
        if not self.workspace_id:
            raise WorkspaceRequiredError(f"user {self.user_id!r} acts in no workspace")


def required(workspace_id: str | None, what: str) -> str:
    """Return `workspace_id`, or raise WorkspaceRequiredError naming `what` needed it."""
    if not workspace_id:
        raise WorkspaceRequiredError(f"{what} needs a workspace, and none was given")
    return workspace_id
