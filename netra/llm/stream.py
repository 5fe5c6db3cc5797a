"""Token streaming: model text reaches clients as `agent_log` events while it is written.

    reply = stream_invoke(model, messages, agent="reporting")

The call goes through `invoke(..., stream=True)`, so the LLM cache is still consulted
(`BaseChatModel.stream` would bypass it) while the client streams SSE chunks; each token
is emitted as `{"event": "agent_log", "agent": ..., "token": ...}` on the run's custom
stream. A cached answer has no tokens: its whole text is emitted once instead. The token
handler is added to the callbacks the graph already passes down, not put in their place.
"""

from __future__ import annotations

from typing import Any, Sequence

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_core.runnables.config import ensure_config

from netra.graph.hooks import emit


class TokenLog(BaseCallbackHandler):
    """Emit each new token of a model call as an `agent_log` event of `agent`."""

    def __init__(self, agent: str) -> None:
        self.agent, self.tokens = agent, 0

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        """Emit one token (empty ones, such as the closing chunk, are skipped)."""
        if isinstance(token, str) and token:
            self.tokens += 1
            emit("agent_log", {"agent": self.agent, "token": token})


def with_handler(handler: BaseCallbackHandler) -> Any:
    """Return the current callbacks (the graph's, if any) plus `handler`."""
    current = ensure_config().get("callbacks")
    if isinstance(current, BaseCallbackManager):
        manager = current.copy()
        manager.add_handler(handler, inherit=True)
        return manager
    return [*(current or []), handler]


def stream_invoke(model: Runnable, messages: Sequence[BaseMessage], agent: str) -> AIMessage:
    """Call the model streaming, emitting tokens as they arrive; return the whole message."""
    log = TokenLog(agent)
    reply = model.invoke(list(messages), config={"callbacks": with_handler(log)}, stream=True)
    if not log.tokens and isinstance(reply.content, str) and reply.content:
        emit("agent_log", {"agent": agent, "token": reply.content, "cached": True})
    return reply
