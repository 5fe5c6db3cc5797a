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

from fastapi.exceptions import RequestValidationError
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator,
                      model_validator)

from netra.errors import UserInputError
from netra.persistence.repositories import MAX_LIMIT
from netra.server.bounded import JsonObject, bounded
from netra.server.runs import QUESTION_CHARS, Approvals, Ask, Multitask, StrategyName
from netra.server.sse.views import ASSISTANT_IDS

StreamModeName = Literal["values", "updates", "custom", "messages", "messages-tuple", "debug", "events"]
STREAM_MODES: tuple[str, ...] = get_args(StreamModeName)
SEARCH_LIMIT = 10  # the SDK's default page
USER_ROLES = ("user", "human")
STRATEGIES: tuple[str, ...] = get_args(StrategyName)
UNSUPPORTED_RUN = ("checkpoint", "checkpoint_id", "interrupt_after", "webhook",  # `command`, `interrupt_before`:
                   "after_seconds", "if_not_exists", "feedback_keys")  # human in the loop (runs.decisions)
UNSUPPORTED_THREAD = ("thread_id", "supersteps", "ttl")
UNSUPPORTED_SEARCH = ("values",)
UNSUPPORTED_PATCH = ("ttl",)
XRAY_DEPTH = 100  # deeper than any graph nests; a larger `xray` changes nothing
XRAY_WORDS = {"": False, "false": False, "False": False, "true": True, "True": True}


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


class RunIn(Compatible, Approvals):
    """A run to create on a thread: `POST /threads/{thread_id}/runs[/stream]`."""

    assistant_id: str
    input: JsonObject | None = None
    config: JsonObject | None = None  # accepted and ignored, within the caps
    context: JsonObject | None = None
    metadata: JsonObject | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    multitask_strategy: Multitask = "enqueue"
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
        self._question = "" if self.decision is not None else question_of(self.input)  # a decision asks nothing
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

    def ask(self, thread_id: str) -> Ask:
        """Return what the run asks of the engine, on thread `thread_id`."""
        asked = {"question": self.question} if self.decision is None else {"decision": self.decision}
        return Ask(thread_id=thread_id, strategy=self.strategy, approval=self.approval_of(self.config, self.context),
                   **asked)

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


class ThreadPatch(Compatible):
    """`PATCH /threads/{thread_id}`: metadata merged into the thread's (a key set to null stays, as null)."""

    metadata: JsonObject = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _supported(cls, data: Any) -> Any:
        return refused(data, UNSUPPORTED_PATCH)

    def merged(self, meta: dict[str, Any] | None) -> dict[str, Any]:
        """Return `meta` with this metadata merged in (400 when the result passes the caps)."""
        try:
            return bounded({**(meta or {}), **self.metadata})
        except ValueError as exc:
            raise UserInputError(f"metadata: the merged metadata {exc}") from exc


class CheckpointIn(Compatible):
    """A checkpoint of a thread, as the SDK names one (its id; the root namespace only)."""

    checkpoint_id: str | None = Field(None, max_length=64)
    checkpoint_ns: Literal[""] = ""


class StateUpdate(Compatible):
    """`POST /threads/{thread_id}/state`: values written as if `as_node` returned them, on a checkpoint."""

    values: JsonObject | None = None
    as_node: str | None = Field(None, max_length=100)
    checkpoint: CheckpointIn | None = None
    checkpoint_id: str | None = Field(None, max_length=64)

    def at(self) -> str | None:
        """Return the id of the checkpoint the update forks from (None: the latest)."""
        return self.checkpoint_id or (self.checkpoint.checkpoint_id if self.checkpoint else None)


def xray_of(given: str | None) -> bool | int:
    """Return a graph drawing's `xray` query (`true`/`false`, or a depth of 1 or more), else 422."""
    if (given or "") in XRAY_WORDS:
        return XRAY_WORDS[given or ""]
    if not (given.isdigit() and len(given) <= 3 and 0 < int(given) <= XRAY_DEPTH):
        raise RequestValidationError([{"loc": ("query", "xray"), "type": "value_error",
                                       "msg": f"xray={given[:20]!r}: use true, false or a depth from 1 to {XRAY_DEPTH}"}])
    return int(given)
