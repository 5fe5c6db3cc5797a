"""Private helpers of `policy_simulator`: combining the savings of policies without double counting.

Within one feature, savings compound multiplicatively, and the combined saving is shared out
in proportion to each policy's standalone saving.
"""

from __future__ import annotations

import math
from collections import defaultdict

from netra.tools.findings import Policy
from netra.tools.scope import DAYS_PER_MONTH


def unique(policies: list[Policy]) -> list[Policy]:
    """Return the policies with repeated policy_ids dropped (first one kept)."""
    seen: dict[str, Policy] = {}
    for policy in policies:
        seen.setdefault(policy.policy_id, policy)
    return list(seen.values())


def window_saving(policy: Policy, days: float) -> float:
    """Return the policy's window saving (from its monthly saving when no window saving is set)."""
    if policy.window_saving_usd > 0:
        return policy.window_saving_usd
    return max(policy.monthly_saving_usd, 0.0) * days / DAYS_PER_MONTH


def combine(cost: float, savings: list[float]) -> float:
    """Return the joint saving of savings on one feature of window cost `cost`.

    Each saving removes its share of what the others leave: C × (1 − Π(1 − min(s, C)/C)).
    """
    if cost <= 0:
        return 0.0
    return cost * (1 - math.prod(1 - min(s, cost) / cost for s in savings))


def attribute(features: list[str], savings: list[float], baseline: dict[str, float]) -> list[float]:
    """Share each feature's combined saving among its policies in proportion to their savings."""
    by_feature: dict[str, list[float]] = defaultdict(list)
    for feature, saving in zip(features, savings):
        by_feature[feature].append(saving)
    joint = {f: (combine(baseline.get(f, 0.0), s), sum(s)) for f, s in by_feature.items()}
    return [s * joint[f][0] / joint[f][1] if joint[f][1] > 0 else 0.0 for f, s in zip(features, savings)]
