"""What the Agent Server tests with a paused run share: the server's settings, the question, the pause.

    from tests.support.agent_server import ASK, DEV, PAUSE
"""

from __future__ import annotations

from tests.support.graphs import OPTIMIZE

DEV = {"auth_mode": "dev", "rate_limit_per_minute": 0, "log_json": False}  # dev sign-in, no rate limit
ASK = {"messages": [{"role": "user", "content": OPTIMIZE}]}  # a run's input: the optimisation question
PAUSE = ["actions_to_meet_goals"]  # `interrupt_before`: wait for approval before the actions agent
