"""Contract checks over every registered tool: schema, bad arguments, names."""

from __future__ import annotations

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher, ToolRegistry

NAMES = ToolRegistry().names()


def test_the_toolset_has_thirty_or_more_tools():
    assert len(NAMES) >= 30


@pytest.mark.parametrize("name", NAMES)
def test_each_tool_publishes_a_json_schema_and_a_description(name):
    spec = ToolRegistry().get(name)
    assert spec.description and spec.args_model.model_json_schema()["type"] == "object"


@pytest.mark.parametrize("name", NAMES)
def test_an_unknown_argument_is_refused_naming_the_field(ctx, name):
    with pytest.raises(ToolArgumentsError, match=rf"invalid arguments for {name}: .*no_such_field"):
        ToolDispatcher(ctx).run(name, {"no_such_field": 1})
