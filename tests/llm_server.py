"""A scripted OpenAI-compatible chat server for model-path tests (served by `tests.servers`).

    llm = ScriptedLLM()
    llm.script(Reply(status=429), Reply(content="Hello"), Reply(tool_calls=[("cost_analyzer", {})]))
    with serving(llm.app):
        settings = Settings(llm_base_url=llm.base_url, ...)
        ...
    llm.requests   # every JSON body received, in order

`POST /v1/chat/completions` answers each request with the next scripted `Reply`: an error
status (OpenAI error body), or an assistant message with content and/or tool calls, as
one JSON completion or, when the request says `"stream": true`, as SSE chunks in the
OpenAI format (`data: {...chat.completion.chunk...}` lines, then `data: [DONE]`). A reply
may be a function of the request body (`Reply(make=...)`), for answers that quote figures
the request carries. An exhausted script answers 500.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

Body = dict[str, Any]
ERROR_TYPES = {429: "rate_limit_exceeded", 500: "server_error", 503: "overloaded"}


@dataclass
class Reply:
    """One scripted answer: content and/or tool calls (name, arguments), or an error status."""

    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    make: Callable[[Body], "Reply"] | None = None

    def resolve(self, body: Body) -> "Reply":
        """Return the reply to send for `body` (a `make` function decides from the request)."""
        return self.make(body) if self.make is not None else self


@dataclass
class ScriptedLLM:
    """The script (a queue of replies) and the log of requests of one test's server."""

    replies: deque[Reply] = field(default_factory=deque)
    requests: list[Body] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *replies: Reply) -> "ScriptedLLM":
        """Append replies to the queue."""
        self.replies.extend(replies)
        return self

    def take(self, body: Body) -> Reply:
        """Log `body` and return the next reply (a 500 when the script is exhausted)."""
        with self.lock:
            self.requests.append(body)
            reply = self.replies.popleft() if self.replies else Reply(status=500, content="script exhausted")
        return reply.resolve(body)

    def app(self, url: str = "") -> FastAPI:
        """Return the app answering `/v1/chat/completions`; `base_url` becomes `{url}/v1`."""
        self.base_url, app = f"{url}/v1", FastAPI()
        app.add_api_route("/v1/chat/completions", self._endpoint, methods=["POST"])
        return app

    async def _endpoint(self, request: Request) -> Response:
        body = await request.json()
        reply = self.take(body)
        await asyncio.sleep(reply.delay_s)
        return answer(reply, body)


def answer(reply: Reply, body: Body) -> Response:
    """Return the HTTP response of a reply: error, JSON completion or SSE stream."""
    if reply.status != 200:
        return error_response(reply)
    if body.get("stream"):
        return StreamingResponse(sse(reply, body), media_type="text/event-stream")
    return JSONResponse(completion(reply, body.get("model", "")))


def error_response(reply: Reply) -> JSONResponse:
    """Return an OpenAI-shaped error body with the reply's status and headers."""
    kind = ERROR_TYPES.get(reply.status, "invalid_request_error")
    error = {"message": reply.content or kind, "type": kind, "param": None, "code": kind}
    return JSONResponse({"error": error}, status_code=reply.status, headers=reply.headers)


def _calls(reply: Reply) -> list[dict[str, Any]]:
    return [{"id": f"call_{i}_{name}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate(reply.tool_calls)]


def _finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def _usage(reply: Reply) -> dict[str, int]:
    out = len((reply.content or "").split()) + 10 * len(reply.tool_calls)
    return {"prompt_tokens": 100, "completion_tokens": out, "total_tokens": 100 + out}


def completion(reply: Reply, model: str) -> Body:
    """Return a non-streaming `chat.completion` body."""
    message: Body = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = _calls(reply)
    choice = {"index": 0, "message": message, "finish_reason": _finish(reply), "logprobs": None}
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [choice], "usage": _usage(reply)}


def _chunk(model: str, delta: Body, finish: str | None = None, usage: Body | None = None) -> str:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    body = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": choices, **({"usage": usage} if usage else {})}
    return f"data: {json.dumps(body)}\n\n"


def _tokens(text: str) -> list[str]:
    words = text.split(" ") if text else []
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def _pieces(index: int, call: Body) -> list[Body]:
    """The deltas of one streamed tool call: id and name first, then the arguments in two halves."""
    head = {"index": index, "id": call["id"], "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""}}
    arguments = call["function"]["arguments"]
    halves = (arguments[:len(arguments) // 2], arguments[len(arguments) // 2:])
    return [{"tool_calls": [head]}, *({"tool_calls": [{"index": index, "function": {"arguments": h}}]} for h in halves)]


def deltas(reply: Reply) -> list[Body]:
    """Return the deltas of a streamed answer: role, content tokens, tool-call pieces."""
    tokens = [{"content": token} for token in _tokens(reply.content or "")]
    calls = [piece for index, call in enumerate(_calls(reply)) for piece in _pieces(index, call)]
    return [{"role": "assistant", "content": ""}, *tokens, *calls]


def sse(reply: Reply, body: Body) -> Iterator[str]:
    """Yield the SSE lines of a streamed answer: the deltas, the finish, usage if asked, [DONE]."""
    model = body.get("model", "")
    yield from (_chunk(model, delta) for delta in deltas(reply))
    yield _chunk(model, {}, _finish(reply))
    if (body.get("stream_options") or {}).get("include_usage"):
        yield _chunk(model, {}, usage=_usage(reply))
    yield "data: [DONE]\n\n"
