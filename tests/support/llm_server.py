"""A scripted OpenAI-compatible chat server for model-path tests (served by `tests.support.servers`).

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

Limits of real servers (a llama.cpp server, say), as `ScriptedLLM(limits=Limits(...))`:
`refuse={"json_schema"}` answers a `response_format` of type json_schema with
`refusal_status` (500, as llama.cpp does, or 400) and a validation message,
`refuse={"tools"}` a request with tools; `context_tokens=8192` answers 400 "Requested
tokens (N) exceed context window of 8192" when the prompt plus `max_tokens` exceeds it,
and serves `/props` (`default_generation_settings.n_ctx`) and `/v1/models` (`meta.n_ctx_train`).
(`serves_props=False`: `/v1/models` only). Refused requests go to `refused`, never take a scripted reply. Usage is counted with the
real tokenizer (`netra.llm.tokens`): prompt tokens, completion tokens, and cached tokens
(the longest token prefix shared with an earlier request, as a prefix cache reuses it).
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

from netra.llm.tokens import count_text, encoding, request_tokens

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


@dataclass(frozen=True)
class Limits:
    """What the server refuses: features (`json_schema`, `tools`) and prompts over its context."""

    refuse: frozenset[str] = frozenset()
    refusal_status: int = 500
    context_tokens: int = 0  # 0: no limit, and no /props
    serves_props: bool = True  # False: the context is told by /v1/models only

    def refusal(self, body: Body, prompt_tokens: int) -> Reply | None:
        """Return the error reply refusing `body`, or None when the server takes it."""
        used = [message for feature, (uses, message) in FEATURES.items() if feature in self.refuse and uses(body)]
        if used:
            return Reply(status=self.refusal_status, content=used[0])
        return self.over_context(body, prompt_tokens)

    def over_context(self, body: Body, prompt_tokens: int) -> Reply | None:
        """Return the context refusal when the prompt and `max_tokens` exceed the context, else None."""
        wanted = prompt_tokens + int(body.get("max_tokens") or body.get("max_completion_tokens") or 0)
        if self.context_tokens and wanted > self.context_tokens:
            return Reply(status=400, content=CONTEXT_REFUSAL.format(n=wanted, ctx=self.context_tokens))
        return None


CONTEXT_REFUSAL = "Requested tokens ({n}) exceed context window of {ctx}"
# refusable feature -> (whether a request uses it, the message llama.cpp refuses it with)
FEATURES: dict[str, tuple[Callable[[Body], bool], str]] = {
    "json_schema": (lambda body: (body.get("response_format") or {}).get("type") == "json_schema",
                    '"response_format" must be one of "text" or "json_object", but got: json_schema'),
    "tools": (lambda body: bool(body.get("tools")), "tools param requires --jinja flag"),
}


def prompt_text(body: Body) -> str:
    """Return a request's prompt as one text, tools first (what a prefix cache sees)."""
    return json.dumps(body.get("tools") or []) + json.dumps(body.get("messages") or [])


@dataclass
class ScriptedLLM:
    """The script (a queue of replies) and the log of requests of one test's server."""

    replies: deque[Reply] = field(default_factory=deque)
    requests: list[Body] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    limits: Limits = field(default_factory=Limits)
    refused: list[Body] = field(default_factory=list)
    usages: list[Body] = field(default_factory=list)
    prefixes: list[list[int]] = field(default_factory=list)

    def prompts(self) -> list[int]:
        """Return the prompt tokens of every answered request, in order."""
        return [used["prompt_tokens"] for used in self.usages]

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
        if self.limits.context_tokens and self.limits.serves_props:
            app.add_api_route("/props", self._props, methods=["GET"])
        if self.limits.context_tokens:
            app.add_api_route("/v1/models", self._models, methods=["GET"])
        return app

    async def _props(self) -> Body:
        return {"default_generation_settings": {"n_ctx": self.limits.context_tokens}, "total_slots": 1}

    async def _models(self) -> Body:
        meta = {"n_ctx_train": self.limits.context_tokens, "n_vocab": 100_256}
        return {"object": "list", "data": [{"id": "scripted", "object": "model", "meta": meta}]}

    async def _endpoint(self, request: Request) -> Response:
        body = await request.json()
        prompt = request_tokens(body.get("messages") or [], body.get("tools") or [], body.get("response_format"))
        refusal = self.limits.refusal(body, prompt)
        if refusal is not None:
            return self._refuse(body, refusal)
        return await self._answered(body, prompt)

    async def _answered(self, body: Body, prompt: int) -> Response:
        reply = self.take(body)
        await asyncio.sleep(reply.delay_s)
        return answer(reply, body, self.usage(body, prompt, reply))

    def _refuse(self, body: Body, refusal: Reply) -> Response:
        self.refused.append(body)
        return error_response(refusal)

    def cached(self, body: Body) -> int:
        """Return the prompt tokens a prefix cache holds: the longest prefix shared with an earlier request."""
        tokens = encoding().encode(prompt_text(body), disallowed_special=()) if encoding() else []
        with self.lock:
            longest = max((_shared(tokens, seen) for seen in self.prefixes), default=0)
            self.prefixes.append(tokens)
        return longest

    def usage(self, body: Body, prompt: int, reply: Reply) -> Body:
        """Return the usage of an answer (tokenizer counts, the prefix-cached part of the prompt)."""
        out = count_text((reply.content or "") + json.dumps(reply.tool_calls if reply.tool_calls else ""))
        used = {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out,
                "prompt_tokens_details": {"cached_tokens": min(self.cached(body), prompt)}}
        self.usages.append(used)
        return used


def _shared(a: list[int], b: list[int]) -> int:
    """Return the length of the common prefix of two token lists."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def answer(reply: Reply, body: Body, usage: Body) -> Response:
    """Return the HTTP response of a reply: error, JSON completion or SSE stream."""
    if reply.status != 200:
        return error_response(reply)
    if body.get("stream"):
        return StreamingResponse(sse(reply, body, usage), media_type="text/event-stream")
    return JSONResponse(completion(reply, body.get("model", ""), usage))


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


def completion(reply: Reply, model: str, usage: Body) -> Body:
    """Return a non-streaming `chat.completion` body."""
    message: Body = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = _calls(reply)
    choice = {"index": 0, "message": message, "finish_reason": _finish(reply), "logprobs": None}
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [choice], "usage": usage}


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


def sse(reply: Reply, body: Body, usage: Body) -> Iterator[str]:
    """Yield the SSE lines of a streamed answer: the deltas, the finish, usage if asked, [DONE]."""
    model = body.get("model", "")
    yield from (_chunk(model, delta) for delta in deltas(reply))
    yield _chunk(model, {}, _finish(reply))
    if (body.get("stream_options") or {}).get("include_usage"):
        yield _chunk(model, {}, usage=usage)
    yield "data: [DONE]\n\n"


def offered_tools(count: int) -> Reply:
    """A reply calling the first `count` tools the request offers (with no arguments)."""
    return Reply(make=lambda body: Reply(tool_calls=[(t["function"]["name"], {}) for t in body["tools"][:count]]))
