"""The compiled `netra` graph as the Agent Server describes it: its drawing, its schemas, its subgraphs.

    drawing(graph, xray=True)    # {"nodes": [{"id", "type", "data": {"name"}}...], "edges": [{"source", "target", ...}]}
    schemas(graph)               # {"input_schema", "output_schema", "state_schema", "config_schema", "context_schema"}
    subgraphs(graph, None, True) # {namespace: schemas}: {} (Netra's agents are nodes, not subgraphs)

The drawing is LangGraph's own (`graph.get_graph(xray=...).to_json()`), with each node's
`data.id` (the Python path of its runnable) left out, as langgraph-api does. The schemas
are built channel by channel from the graph's state, each channel's update type through
pydantic, so one type pydantic cannot read (a `typing.TypedDict` on Python 3.11) leaves
that channel unconstrained (`{}`) instead of taking the whole schema down, as
`get_input_jsonschema()` would. The graph's input and output are its state, so the three
schemas are the same. It has no configurable fields (`config_schema` {}) and no context
type (`context_schema` null).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import TypeAdapter

LOG = logging.getLogger("netra.server.sse")
Schema = dict[str, Any]


def drawing(graph: Any, xray: bool | int) -> dict[str, Any]:
    """Return the drawable graph as JSON (nodes and edges), `xray` levels of subgraphs opened."""
    shown = graph.get_graph(xray=xray).to_json()
    for node in shown.get("nodes", []):
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)
    return shown


def channel_schema(kind: Any, defs: Schema) -> Schema:
    """Return the JSON schema of one channel's update type, its definitions moved into `defs` ({} when unreadable)."""
    try:
        schema = TypeAdapter(kind).json_schema(ref_template="#/$defs/{model}")
    except Exception as exc:  # pydantic refuses some types (see the module docstring): that channel takes anything
        LOG.debug("no JSON schema for %r: %s", kind, exc)
        return {}
    defs.update(schema.pop("$defs", {}))
    return schema


def state_schema(graph: Any) -> Schema:
    """Return the JSON schema of the graph's state: one property per channel a client sees."""
    defs: Schema = {}
    properties = {name: channel_schema(graph.channels[name].UpdateType, defs) for name in graph.stream_channels_list}
    schema: Schema = {"title": graph.get_name("State"), "type": "object", "properties": properties}
    return {**schema, "$defs": defs} if defs else schema


def schemas(graph: Any) -> dict[str, Any]:
    """Return the graph's schemas as the Agent Server names them."""
    state = state_schema(graph)
    return {"input_schema": state, "output_schema": state, "state_schema": state, "config_schema": {},
            "context_schema": graph.get_context_jsonschema()}


def subgraphs(graph: Any, namespace: str | None, recurse: bool) -> dict[str, Any]:
    """Return the schemas of the graph's subgraphs by namespace (those under `namespace` when given)."""
    return {name: schemas(sub) for name, sub in graph.get_subgraphs(namespace=namespace, recurse=recurse)}
