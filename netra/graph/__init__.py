"""The six-agent LangGraph: state, topology as data, strategies, hooks, runner."""
