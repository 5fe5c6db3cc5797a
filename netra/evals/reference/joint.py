"""Reference joint savings of a set of policies, one event at a time (docs/tools.md, `policy_simulator`).

    replay = JointReplay(scoped_events, catalog)
    credits = replay.run([PolicySpec.of("prompt_cache", "support_bot", "claude-sonnet-4-5", ttl_option="1h"),
                          PolicySpec.of("batch_api", "support_bot", "claude-sonnet-4-5")])
    sum(c.window_saving_usd for c in credits)   # the joint saving over the window

Written from the documented rule, not from `netra.tools._joint`: the policies change the events
of their (feature, model) kind by kind in `ORDER` (prompt cache, route, cap, batch, retries),
each step working on the events as the earlier steps left them, and a policy is credited the
cost of its events before its step minus after it, every cost from the reference pricing. The
credits add up to the joint saving. One policy per (kind, feature, model) applies, the first
given; a policy with no events, an unknown model or target, or a missing parameter saves 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Sequence

from netra.evals.reference.cache_replay import Decision, Replay
from netra.evals.reference.pricing import ReferenceCatalog
from netra.evals.reference.retries import beyond_budget
from netra.evals.reference.window import order

PolicyKind = Literal["route_model", "prompt_cache", "cap_max_tokens", "batch_api", "retry_budget"]
ORDER: tuple[PolicyKind, ...] = ("prompt_cache", "route_model", "cap_max_tokens", "batch_api", "retry_budget")
# policy kind -> the parameter it cannot be applied without (None: it needs none)
REQUIRED: dict[PolicyKind, str | None] = {"prompt_cache": "ttl_option", "route_model": "target_model",
                                          "cap_max_tokens": "cap", "batch_api": None, "retry_budget": "max_retries"}
# the replay's write class -> (cache_write_tokens, cache_write_1h_tokens) per written token; an
# OpenAI write is billed as input, so it is no cache write at all
WRITE_COLUMNS: dict[str, tuple[int, int]] = {"input": (0, 0), "cache_write": (1, 0), "cache_write_1h": (1, 1)}
DROPPED = "dropped"  # set on an attempt the retry budget never sends: it costs nothing


@dataclass(frozen=True)
class PolicySpec:
    """A policy as the reference reads it: kind, (feature, model) and its parameters."""

    kind: PolicyKind
    feature: str
    model: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, kind: PolicyKind, feature: str, model: str, **params: Any) -> PolicySpec:
        """Return the policy with `params` (None values dropped)."""
        return cls(kind, feature, model, tuple(sorted((k, v) for k, v in params.items() if v is not None)))

    def param(self, name: str) -> Any:
        """Return a parameter's value (None when absent)."""
        return dict(self.params).get(name)

    @property
    def key(self) -> tuple[str, str, str]:
        """Return (kind, feature, model): one policy of a key applies."""
        return self.kind, self.feature, self.model


@dataclass(frozen=True)
class Credit:
    """What one policy saved over the window in a joint run, or why it was not applied."""

    policy: PolicySpec
    applied: bool
    window_saving_usd: float
    why: str = ""


class JointReplay:
    """The scoped events and the catalog; each `run` applies a set of policies to fresh copies."""

    def __init__(self, events: Sequence[Mapping], catalog: ReferenceCatalog) -> None:
        self.events, self.catalog = sorted(events, key=order), catalog
        self.replays: dict[str, dict[str, Decision]] = {}
        self.pairs: dict[tuple[str, str], list[Mapping]] = defaultdict(list)
        for event in self.events:
            self.pairs[(str(event.get("feature")), str(event.get("model")))].append(event)

    def decisions(self, choice: str) -> dict[str, Decision]:
        """Return the cache replay's decision per request id under a TTL option (replayed once)."""
        if choice not in self.replays:
            self.replays[choice] = Replay(self.events, self.catalog, choice).decided
        return self.replays[choice]

    def pair_events(self, feature: str, model: str) -> list[dict]:
        """Return fresh copies of the events of one (feature, model), in replay order."""
        return [dict(e) for e in self.pairs.get((feature, model), ())]

    def run(self, policies: Sequence[PolicySpec]) -> list[Credit]:
        """Apply the policies together; return one credit per applied key, in `ORDER`."""
        return JointRun(self, policies).credits()

    def alone(self, policy: PolicySpec) -> float:
        """Return what one policy saves over the window applied alone."""
        return sum(c.window_saving_usd for c in self.run([policy]))


def _missing(policy: PolicySpec) -> str | None:
    """Return the required parameter a policy lacks (None when it has it or needs none)."""
    name = REQUIRED[policy.kind]
    return name if name is not None and policy.param(name) is None else None


# (why a policy cannot be applied, the test that refuses it), checked in order
REFUSALS: tuple[tuple[Callable[[PolicySpec], str], Callable[[JointRun, PolicySpec], bool]], ...] = (
    (lambda p: "no events of its pair in scope", lambda run, p: not run.events[(p.feature, p.model)]),
    (lambda p: f"model {p.model!r} is not in the catalog", lambda run, p: not run.known(p.model)),
    (lambda p: f"parameter {_missing(p)!r} is missing", lambda run, p: _missing(p) is not None),
    (lambda p: f"target {p.param('target_model')!r} is not in the catalog",
     lambda run, p: p.kind == "route_model" and not run.known(p.param("target_model"))),
)


class JointRun:
    """One set of policies applied to copies of their events: the working state of a joint run."""

    def __init__(self, replay: JointReplay, policies: Sequence[PolicySpec]) -> None:
        self.replay = replay
        firsts = [p for i, p in enumerate(policies) if p.key not in {q.key for q in policies[:i]}]
        self.chosen = sorted(firsts, key=lambda p: ORDER.index(p.kind))
        pairs = {(p.feature, p.model) for p in self.chosen}
        self.events = {pair: replay.pair_events(*pair) for pair in pairs}

    def cost(self, events: Sequence[dict]) -> float:
        """Return the events' cost as they stand; a dropped attempt costs nothing."""
        return sum(0.0 if e.get(DROPPED) else self.replay.catalog.cost(e) for e in events)

    def known(self, model: Any) -> bool:
        """Return whether the catalog knows a model."""
        return model is not None and self.replay.catalog.prices(str(model)) is not None

    def refusal(self, policy: PolicySpec) -> str:
        """Return why a policy cannot be applied ("" when it can)."""
        return next((why(policy) for why, fails in REFUSALS if fails(self, policy)), "")

    def apply(self, policy: PolicySpec) -> Credit:
        """Change the policy's events by its step; credit it the changed events' cost before minus after."""
        why, events = self.refusal(policy), self.events[(policy.feature, policy.model)]
        if why:
            return Credit(policy, False, 0.0, why)
        return Credit(policy, True, self.change(STEPS[policy.kind](self, policy, events)))

    def change(self, edits: list[Edit]) -> float:
        """Apply a step's edits in place; return the changed events' cost before minus after."""
        events = [event for event, _ in edits]
        before = self.cost(events)
        for event, columns in edits:
            event.update(columns)
        return before - self.cost(events)

    def credits(self) -> list[Credit]:
        """Apply every chosen policy in `ORDER`; return their credits."""
        return [self.apply(policy) for policy in self.chosen]


Edit = tuple[dict, dict[str, Any]]  # an event and the columns a step gives it


def cache_step(run: JointRun, policy: PolicySpec, events: list[dict]) -> list[Edit]:
    """Eligible events read R(r) and write W(r) of the replay; the others keep their logged reads and writes."""
    decided = run.replay.decisions(str(policy.param("ttl_option")))
    eligible = [(e, d) for e in events if (d := decided.get(str(e["request_id"]))) is not None and d.eligible]
    return [(e, {"cached_input_tokens": d.read_tokens, **_writes(d)}) for e, d in eligible]


def _writes(decision: Decision) -> dict[str, int]:
    """Return the write columns of an eligible event's replay decision."""
    writes, writes_1h = (n * decision.write_tokens for n in WRITE_COLUMNS[decision.write_class])
    return {"cache_write_tokens": writes, "cache_write_1h_tokens": writes_1h}


def route_step(run: JointRun, policy: PolicySpec, events: list[dict]) -> list[Edit]:
    """The same tokens on the target model."""
    return [(e, {"model": str(policy.param("target_model"))}) for e in events]


def cap_step(run: JointRun, policy: PolicySpec, events: list[dict]) -> list[Edit]:
    """An event that sets `max_tokens` and wrote more than the cap keeps `cap` output tokens."""
    cap = int(policy.param("cap"))
    over = [e for e in events if int(e.get("max_tokens") or 0) > 0 and int(e.get("output_tokens") or 0) > cap]
    return [(e, {"output_tokens": cap, "reasoning_tokens": min(int(e.get("reasoning_tokens") or 0), cap)})
            for e in over]


def batch_step(run: JointRun, policy: PolicySpec, events: list[dict]) -> list[Edit]:
    """Every event at batch prices."""
    return [(e, {"is_batch": 1}) for e in events]


def retry_step(run: JointRun, policy: PolicySpec, events: list[dict]) -> list[Edit]:
    """Billed retried failures past the budget are never sent."""
    dropped = beyond_budget(events, int(policy.param("max_retries")))
    return [(e, {DROPPED: True}) for e in events if e["request_id"] in dropped]


STEPS: dict[PolicyKind, Callable[[JointRun, PolicySpec, list[dict]], list[Edit]]] = {
    "prompt_cache": cache_step, "route_model": route_step, "cap_max_tokens": cap_step,
    "batch_api": batch_step, "retry_budget": retry_step}
