"""Request bodies of the Agent Server API as langgraph-sdk sends them, and what Netra makes of them.

    body = RunIn(assistant_id="netra", input={"messages": [{"role": "user", "content": "Cut spend?"}]},
                 stream_mode=["values", "updates"])
    body.question, body.strategy, body.modes()     # "Cut spend?", None, frozenset({"values", "updates"})

A run's question is the text of the input's last user message (`role` "user"/"human" or
`type` "human"; string content, or the text blocks of a list), else `input.question`; 1 to
4000 characters. `input.strategy` may name a strategy. Fields the SDK sends that change
nothing here (a run's config, context and metadata, `stream_resumable` — every run is
resumable —, `durability`, sorting and projections) are accepted and ignored; fields asking
for what Netra does not do (UNSUPPORTED_*) are refused with 422, like any invalid field.
Free-form JSON (a run's input, config, context and metadata, a thread's metadata, search
filters) is held to the caps of `netra.server.bounded` (32 levels, 64 KiB; 422 past them).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator,
                      model_validator)

from netra.persistence.repositories import MAX_LIMIT
from netra.server.bounded import JsonObject, bounded
from netra.server.routes.agent import QUESTION_CHARS, StrategyName
from netra.server.sse.views import ASSISTANT_IDS

StreamModeName = Literal["values", "updates", "custom", "messages", "messages-tuple", "debug"]
STREAM_MODES: tuple[str, ...] = get_args(StreamModeName)
SEARCH_LIMIT = 10  # the SDK's default page
USER_ROLES = ("user", "human")
STRATEGIES = ("sequential", "parallel", "conditional")
UNSUPPORTED_RUN = ("command", "checkpoint", "checkpoint_id", "interrupt_before", "interrupt_after", "webhook",
                   "after_seconds", "if_not_exists", "feedback_keys")
UNSUPPORTED_THREAD = ("thread_id", "supersteps", "ttl")
UNSUPPORTED_SEARCH = ("values",)


def refused(data: Any, fields: tuple[str, ...]) -> Any:
    """Return `data`, or raise ValueError naming the unsupported fields it sets (422)."""
    found = [name for name in fields if isinstance(data, dict) and data.get(name) not in (None, False, [], {})]
    if found:
        raise ValueError(f"not supported by Netra: {', '.join(found)}")
    return data


def text_of(message: Any) -> str:
    """Return the text of a message's content (a string, or text blocks)."""
    content = message.get("content", "") if isinstance(message, dict) else message
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


def is_user(message: Any) -> bool:
    """Return whether an input message is the user's (a bare string is)."""
    return isinstance(message, str) or (isinstance(message, dict) and (
        message.get("role") in USER_ROLES or message.get("type") == "human"))


def question_of(given: dict[str, Any] | None) -> str:
    """Return the run's question: the last user message's text, else `question` (ValueError: none)."""
    given = given or {}
    said = [text_of(message) for message in given.get("messages") or [] if is_user(message)]
    question = (said[-1] if said else str(given.get("question") or "")).strip()
    if not 0 < len(question) <= QUESTION_CHARS:
        raise ValueError(f"input: send a user message (or `question`) of 1 to {QUESTION_CHARS} characters")
    return question


# metadata keys the checkpointer's history filter accepts
FilterKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)]


class Compatible(BaseModel):
    """A body of the Agent Server API: fields Netra has no use for are ignored."""

    model_config = ConfigDict(extra="ignore")


class RunIn(Compatible):
    """A run to create on a thread: `POST /threads/{thread_id}/runs[/stream]`."""

    assistant_id: str
    input: JsonObject | None = None
    config: JsonObject | None = None  # accepted and ignored, within the caps
    context: JsonObject | None = None
    metadata: JsonObject | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    multitask_strategy: Literal["reject", "enqueue"] = "enqueue"
    on_disconnect: Literal["continue"] = "continue"
    _question: str = PrivateAttr("")

    @model_validator(mode="before")
    @classmethod
    def _supported(cls, data: Any) -> Any:
        return refused(data, UNSUPPORTED_RUN)

    @field_validator("assistant_id")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ASSISTANT_IDS:
            raise ValueError(f"unknown assistant {value!r}: use one of {list(ASSISTANT_IDS)}")
        return value

    @model_validator(mode="after")
    def _asked(self) -> RunIn:
        self._question = question_of(self.input)
        if self.strategy not in (None, *STRATEGIES):
            raise ValueError(f"input.strategy: use one of {list(STRATEGIES)}")
        return self

    @property
    def question(self) -> str:
        """The question the run answers."""
        return self._question

    @property
    def strategy(self) -> StrategyName | None:
        """The strategy the input names (None: the server's default)."""
        return (self.input or {}).get("strategy")

    def modes(self) -> frozenset[str]:
        """Return the stream modes asked for."""
        return frozenset([self.stream_mode] if isinstance(self.stream_mode, str) else self.stream_mode)


class ThreadIn(Compatible):
    """A thread to create: `POST /threads` (its metadata only)."""

    metadata: JsonObject = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _supported(cls, data: Any) -> Any:
        return refused(data, UNSUPPORTED_THREAD)


class Paged(Compatible):
    """A page of a search: `limit` (1..500, default 10) items after `offset`."""

    limit: int = Field(SEARCH_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10**9)


class ThreadSearch(Paged):
    """`POST /threads/search`: the user's threads, newest first, filtered by metadata, ids and status."""

    metadata: JsonObject | None = None
    ids: list[str] | None = Field(None, max_length=MAX_LIMIT)
    status: Literal["idle", "busy", "interrupted", "error"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _supported(cls, data: Any) -> Any:
        return refused(data, UNSUPPORTED_SEARCH)


class AssistantSearch(Paged):
    """`POST /assistants/search`: filters that the one assistant matches or not."""

    metadata: JsonObject | None = None
    graph_id: str | None = None
    name: str | None = None


class HistoryIn(Compatible):
    """`POST /threads/{thread_id}/history`: up to `limit` states, older than `before`, holding `metadata`."""

    limit: int = Field(SEARCH_LIMIT, ge=1, le=MAX_LIMIT)
    before: str | JsonObject | None = None
    metadata: Annotated[dict[FilterKey, Any], AfterValidator(bounded)] | None = None  # the saver's keys only
