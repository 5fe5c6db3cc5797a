"""Assistants of the Agent Server API: Netra has one, the `netra` graph; and the server's `/info`.

    POST /assistants/search   {"limit"?, "offset"?, "graph_id"?, "name"?, "metadata"?}  -> [assistant] or []
    GET  /assistants/{assistant_id}                                                    -> the assistant
    GET  /assistants/{assistant_id}/graph?xray=true|false|n                            -> {"nodes", "edges"}
    GET  /assistants/{assistant_id}/schemas                    -> {"graph_id", "input_schema", ..., "context_schema"}
    GET  /assistants/{assistant_id}/subgraphs[/{namespace}]?recurse=true|false         -> {namespace: schemas}
    GET  /info                                                 -> {"version", "langgraph_py_version", "flags", "host"}

The assistant's id and graph id are `netra`; `agent` (the id agent-chat-ui and LangGraph's
templates default to) names it too. An unknown id answers 404. Every assistant route needs a
bearer token; the drawing and schemas are of the graph compiled for the caller's workspace
(`drawing.py`). `/info` tells only the versions and what the server does, so it is open,
as the Agent Server's is (agent-chat-ui checks it without the bearer token).
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from netra import __version__
from netra.persistence.repositories.base import NotFoundError
from netra.server.owned import SignedIn
from netra.server.sse import drawing
from netra.server.sse.access import Resources, answer
from netra.server.sse.bodies import AssistantSearch, xray_of
from netra.server.sse.state import graph_of
from netra.server.sse.views import ASSISTANT_IDS, GRAPH_ID, assistant

router = APIRouter(tags=["agent server"])
FLAGS = {"assistants": True, "crons": False, "langsmith": False, "langsmith_tracing_replicas": False}


def matches(search: AssistantSearch) -> bool:
    """Return whether the assistant passes the search's filters (and page)."""
    found = assistant()
    metadata = all(found["metadata"].get(key) == value for key, value in (search.metadata or {}).items())
    named = (search.name or "").lower() in found["name"]
    return metadata and named and search.graph_id in (None, GRAPH_ID) and search.offset == 0


def known(assistant_id: str) -> None:
    """Raise NotFoundError unless `assistant_id` names the assistant (404)."""
    if assistant_id not in ASSISTANT_IDS:
        raise NotFoundError("assistant not found")


async def described(assistant_id: str, user: SignedIn, resources: Resources, how: Callable[[Any], Any]) -> Any:
    """Return `how(graph)` of the assistant's graph, compiled for the user's workspace (404: unknown assistant)."""
    known(assistant_id)
    return await asyncio.to_thread(lambda: how(graph_of(resources, user.owner.workspace_id)))


@router.post("/assistants/search")
async def search_assistants(body: AssistantSearch, user: SignedIn) -> JSONResponse:
    """List the assistants the search matches: the one assistant, or none."""
    return answer([assistant()] if matches(body) else [])


@router.get("/assistants/{assistant_id}")
async def get_assistant(assistant_id: str, user: SignedIn) -> JSONResponse:
    """Return the assistant (`netra` or `agent`; 404 otherwise)."""
    known(assistant_id)
    return answer(assistant())


@router.get("/assistants/{assistant_id}/graph")
async def get_graph(assistant_id: str, user: SignedIn, resources: Resources, xray: str | None = None) -> JSONResponse:
    """Return the graph's drawing: its nodes and edges (`xray`: subgraphs opened, true or a depth)."""
    depth = xray_of(xray)
    return answer(await described(assistant_id, user, resources, lambda graph: drawing.drawing(graph, depth)))


@router.get("/assistants/{assistant_id}/schemas")
async def get_schemas(assistant_id: str, user: SignedIn, resources: Resources) -> JSONResponse:
    """Return the graph's input, output, state, config and context schemas (JSON schema)."""
    found = await described(assistant_id, user, resources, drawing.schemas)
    return answer({"graph_id": GRAPH_ID, **found})


@router.get("/assistants/{assistant_id}/subgraphs")
@router.get("/assistants/{assistant_id}/subgraphs/{namespace}")
async def get_subgraphs(assistant_id: str, user: SignedIn, resources: Resources, namespace: str | None = None,
                        recurse: bool = False) -> JSONResponse:
    """Return the schemas of the graph's subgraphs by namespace (Netra's graph has none: {})."""
    return answer(await described(assistant_id, user, resources,
                                  lambda graph: drawing.subgraphs(graph, namespace, recurse)))


@router.get("/info")
async def info() -> JSONResponse:
    """Return the server's version, LangGraph's, and what it does (no crons, no LangSmith)."""
    return answer({"version": __version__, "langgraph_py_version": version("langgraph"), "flags": FLAGS,
                   "host": {"kind": "self-hosted", "project_id": None, "revision_id": None}})
