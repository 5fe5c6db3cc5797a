"""What the API shows of the records: one response model per record, built with `Out.of(record)`.

Owner ids are left out (a user only ever sees their own records); times are ISO 8601 UTC.
Stored client JSON (a thread's metadata) is shown through `netra.server.bounded.shown`, so a
value kept before the caps existed cannot break the lists it is in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from netra.server.bounded import shown


class View(BaseModel):
    """A response model readable from an ORM record (`View.of(record)`)."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, record: Any) -> Any:
        """Return the view of `record`."""
        return cls.model_validate(record)


class ThreadOut(View):
    """A thread: title, metadata (shown as `metadata`) and times."""

    id: str
    title: str
    meta: Annotated[dict[str, Any], AfterValidator(shown)] = Field(serialization_alias="metadata")
    created_at: datetime
    updated_at: datetime


class MessageOut(View):
    """A message of a thread."""

    id: str
    thread_id: str
    role: str
    content: str
    created_at: datetime


class RunOut(View):
    """A run: the question, its status and times (`error` when it failed)."""

    id: str
    thread_id: str
    status: str
    question: str
    strategy: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class AgentRunOut(View):
    """One agent's part of a run."""

    id: str
    run_id: str
    agent: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None


class ReportOut(View):
    """A run's report: markdown, its structured form (figures with provenance) and grounding."""

    id: str
    run_id: str
    markdown: str
    structured: dict[str, Any]
    grounded: bool
    created_at: datetime


class RunDetailOut(RunOut):
    """A run with its agents' parts (newest first, as `GET /api/runs/{id}/agents` lists them)."""

    agents: list[AgentRunOut]
