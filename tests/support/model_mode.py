"""What the model-path tests share: the question, the triage model's answer to it, the warnings to allow.

    from tests.support.model_mode import CACHE_WARNINGS, QUESTION, TRIAGE
"""

from __future__ import annotations

# langchain's response cache warns (beta, pending deprecation) on first use
CACHE_WARNINGS = ["ignore::langchain_core._api.beta_decorator.LangChainBetaWarning",
                  "ignore::langchain_core._api.deprecation.LangChainPendingDeprecationWarning"]
QUESTION = "Cut gpt-4o spend by a quarter over the last week; quality must hold."
# the structured answer a scripted model gives triage for QUESTION
TRIAGE = {"intent": "optimize", "goal": "cost", "window_days": 7,
          "filters": {"model": "gpt-4o", "feature": None, "user_id": None},
          "constraints": {"max_quality_drop": 0, "max_latency_increase": None},
          "target_savings_pct": 25, "topics": ["cost"]}
