"""A run stopped after `data` resumes from its checkpoint, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from langchain_core.messages import HumanMessage

from netra.errors import ConfigError
from netra.graph.runner import resume, run_config, stream_run
from netra.graph.state import fresh_run
from netra.graph.topology import build_graph
from netra.persistence.checkpoint import open_checkpointer
from tests.support.graphs import OPTIMIZE, Recorder, load_mixed, make_deps


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """Each checkpoint backend: an SQLite file, and real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'checkpoints.db'}"
    return request.getfixturevalue("postgres_url")


def stop_after_data(deps, thread: str) -> dict:
    """Run until the graph is about to enter optimizations_core, then stop."""
    inputs = {**fresh_run(OPTIMIZE, "parallel"), "messages": [HumanMessage(content=OPTIMIZE)]}
    with open_checkpointer(deps.settings.resolved_database_url()) as saver:
        graph = build_graph(deps).compile(checkpointer=saver, interrupt_before=["optimizations_core"])
        stream_run(graph, inputs, run_config(thread), None)
        return {"next": graph.get_state(run_config(thread)).next}


def test_stopped_run_resumes_without_rerunning_finished_agents(store, catalog, tmp_path, database_url):
    load_mixed(store, catalog)
    first, second, thread = Recorder(), Recorder(), uuid.uuid4().hex
    stopped = stop_after_data(make_deps(store, catalog, tmp_path, first, database_url), thread)
    assert stopped["next"] == ("optimizations_core",) and "optimizations_core" not in first.started()
    state = resume(make_deps(store, catalog, tmp_path, second, database_url), thread)
    assert not {"triage", "data"} & set(second.started()) and {"triage", "data"} <= set(first.started())
    assert state["agent_status"]["reporting"] == "done" and state["recommendations"]


def test_unknown_database_scheme_is_a_clear_error_without_credentials():
    with pytest.raises(ConfigError, match="expected sqlite") as err:
        with open_checkpointer("mysql://user:secret@db/netra"):
            pass
    assert "secret" not in str(err.value)
