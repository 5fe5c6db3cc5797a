"""The LangGraph Agent Server–compatible HTTP API: assistants, threads and runs streamed over SSE.

    assistants.py    POST /assistants/search, GET /assistants/{assistant_id}[/graph|/schemas|/subgraphs], GET /info
    threads.py       POST /threads, GET/PATCH/DELETE /threads/{thread_id}, search, copy, state (read, update), history
    runs.py          runs of a thread: stream, background, list, get, join, join the stream, cancel
    bodies.py        request bodies (the SDK's fields), the question of a run's input, stream modes
    views.py         the Agent Server shapes of an assistant, a thread, a run, a thread state
    state.py         a thread's state and history, read from the checkpointer through the graph
    checkpoints.py   a thread's checkpoints written: a state update or fork, a copy, their deletion
    drawing.py       the compiled graph's drawing (xray), its JSON schemas, its subgraphs
    access.py        the dependencies of a user's thread and run, headers, Last-Event-ID and mode parsing
    listener.py      one client's view of a run's stream: filtered by mode, resumed after an id
    wire.py          SSE frames, heartbeats, JSON of anything the graph streams

`langgraph-sdk` clients work against it (docs/sse.md); `netra.server.routes.ROUTERS` includes
the three routers. The runs' graph-stream log these routes read is written by the run engine
(`netra.server.runs.stream`); nothing is imported here, so the engine can use `wire`'s JSON
without the routes.
"""

from __future__ import annotations
