"""The agents: supervisor, triage, data, optimizations core, actions, reporting."""
