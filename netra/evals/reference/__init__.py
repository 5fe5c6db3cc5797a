"""The plain-Python reference: what the evaluations and the property tests hold the engines to.

Written from the specs (docs/pricing.md, docs/caching.md, docs/tools.md, docs/quality.md), never
from the production code: it imports nothing of `netra.tools`, `netra.workloads.pricing`,
`netra.workloads.caching` or `netra.workloads.synthetic` (tests/unit/test_eval_reference.py parses
its imports to prove it). One event at a time:

- `pricing` prices one event, `cache_rules` holds the caching table, `cache_replay` replays a
  workload's prompt cache;
- `joint` applies a set of policies in the documented order and credits each its saving;
- `retries`, `batch_evidence` and `quality` read the evidence a policy needs;
- `judges` and `truth` say which recommendations a scope supports and what they save.
"""

from netra.evals.reference.cache_replay import Decision, ReplayRow, replay
from netra.evals.reference.cache_rules import CacheRule, cache_rule
from netra.evals.reference.joint import ORDER, Credit, JointReplay, PolicySpec
from netra.evals.reference.pricing import ReferenceCatalog, price_event, token_classes
from netra.evals.reference.truth import ScopeTruth
from netra.evals.reference.verdicts import MIN_MONTHLY_SAVING_USD, Opportunity, Verdict
from netra.evals.reference.window import Window, monthly, span_days

__all__ = ["MIN_MONTHLY_SAVING_USD", "ORDER", "CacheRule", "Credit", "Decision", "JointReplay", "Opportunity",
           "PolicySpec", "ReferenceCatalog", "ReplayRow", "ScopeTruth", "Verdict", "Window", "cache_rule",
           "monthly", "price_event", "replay", "span_days", "token_classes"]
