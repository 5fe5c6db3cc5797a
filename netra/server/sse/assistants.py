"""Assistants of the Agent Server API: Netra has one, the `netra` graph.

    POST /assistants/search   {"limit"?, "offset"?, "graph_id"?, "name"?, "metadata"?}  -> [assistant] or []
    GET  /assistants/{assistant_id}                                                    -> the assistant

The assistant's id and graph id are `netra`; `agent` (the id agent-chat-ui and LangGraph's
templates default to) names it too. An unknown id answers 404. Both need a bearer token.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from netra.persistence.repositories.base import NotFoundError
from netra.server.owned import SignedIn
from netra.server.sse.access import answer
from netra.server.sse.bodies import AssistantSearch
from netra.server.sse.views import ASSISTANT_IDS, GRAPH_ID, assistant

router = APIRouter(tags=["agent server"])


def matches(search: AssistantSearch) -> bool:
    """Return whether the assistant passes the search's filters (and page)."""
    found = assistant()
    metadata = all(found["metadata"].get(key) == value for key, value in (search.metadata or {}).items())
    named = (search.name or "").lower() in found["name"]
    return metadata and named and search.graph_id in (None, GRAPH_ID) and search.offset == 0


@router.post("/assistants/search")
async def search_assistants(body: AssistantSearch, user: SignedIn) -> JSONResponse:
    """List the assistants the search matches: the one assistant, or none."""
    return answer([assistant()] if matches(body) else [])


@router.get("/assistants/{assistant_id}")
async def get_assistant(assistant_id: str, user: SignedIn) -> JSONResponse:
    """Return the assistant (`netra` or `agent`; 404 otherwise)."""
    if assistant_id not in ASSISTANT_IDS:
        raise NotFoundError("assistant not found")
    return answer(assistant())
