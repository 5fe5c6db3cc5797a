"""Reference prompt-cache replay (docs/caching.md, "The replay"), one event at a time.

    rows = replay(events, catalog, "5m")   # one ReplayRow per event with prefix hashes

`events` are dicts with the schema's column names, `timestamp` in milliseconds; rows come in
(timestamp, request_id) order. Written for an auditor: the prompts of a cache key are laid
out as a trie of whole prefixes (`PrefixTrie`, plain dicts), the cacheable depth c(r) is the
deepest prefix of r two or more events hold (the longest common prefix with any other event),
and one pass in time order remembers on each prefix when it was last used. The evaluations
replay every event of a workload with it, so it must not compare every pair of events. Nothing
here is shared with `netra.tools._cache_replay`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Mapping, Sequence

from netra.evals.reference.cache_rules import CacheRule, cache_rule
from netra.evals.reference.pricing import ReferenceCatalog, billed, count, token_classes


@dataclass(frozen=True)
class Decision:
    """What the replay decided for one event of a replayed cache key."""

    eligible: bool
    cacheable_tokens: int
    read_tokens: int = 0
    write_tokens: int = 0
    write_class: str = ""


NOT_REPLAYED = Decision(False, 0)


@dataclass(frozen=True)
class ReplayRow:
    """One event's replay: its decision, its cost as logged and under the TTL option."""

    request_id: str
    feature: str
    provider: str
    model: str
    replayed: bool  # billed and under a caching rule with this TTL option
    decision: Decision
    logged_cost: float
    replay_cost: float


def order(event: Mapping) -> tuple[int, str]:
    """Return the replay order of an event: timestamp, then request id."""
    return int(event["timestamp"]), str(event["request_id"])


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Return how many leading blocks two prompts share."""
    shared = 0
    while shared < min(len(a), len(b)) and a[shared] == b[shared]:
        shared += 1
    return shared


class PrefixTrie:
    """The prefixes of a cache key's prompts, one node per distinct prefix (blocks 1..k).

    Node 0 is the empty prefix; the child of node n by block hash h is the prefix n followed by
    h, so two prompts reach the same node only if they share every block before it, whatever
    the hashes are. Per node: how many prompts hold it, and when it was last used (ms).
    `paths` holds each prompt's nodes (its prefixes 1..k), in the order given.
    """

    def __init__(self, prompts: Sequence[Sequence[int]]) -> None:
        self.child: dict[tuple[int, int], int] = {}
        self.holders: list[int] = [0]
        self.last_use: list[int | None] = [None]
        self.paths = [self.walk(hashes, grow=True) for hashes in prompts]
        for node in (node for path in self.paths for node in path):
            self.holders[node] += 1

    def step(self, node: int, block: int, grow: bool) -> int:
        """Return the child of `node` by `block` (made when growing and missing)."""
        if grow and (node, block) not in self.child:
            self.child[(node, block)] = len(self.holders)
            self.holders.append(0)
            self.last_use.append(None)
        return self.child[(node, block)]

    def walk(self, hashes: Sequence[int], grow: bool = False) -> list[int]:
        """Return the nodes of prefixes 1..len(hashes) of a prompt (all of them exist once built)."""
        nodes, node = [], 0
        for block in hashes:
            node = self.step(node, block, grow)
            nodes.append(node)
        return nodes


class KeyReplay:
    """The billed events of one cache key (provider, model), replayed under one TTL option."""

    def __init__(self, events: list[Mapping], rule: CacheRule, choice: str) -> None:
        self.events = sorted(events, key=order)
        self.rule, self.ttl_ms = rule, rule.ttl_ms[choice]
        self.write_class = rule.write_class[choice]
        self.trie = PrefixTrie([e["prefix_hashes"] for e in self.events])
        self.prompts = self.trie.paths
        self.depth = [self.cacheable_depth(i) for i in range(len(self.events))]

    def path(self, i: int) -> list[int]:
        """Return the nodes of event `i`'s cacheable prefixes, blocks 1..c(r)."""
        return self.prompts[i][: self.depth[i]]

    def cacheable_depth(self, i: int) -> int:
        """Return c(r): the longest prefix event `i` shares with any other event of the key.

        A prefix is shared when two or more events hold it; the same as the longest
        `common_prefix` with any other event, without comparing every pair.
        """
        return sum(1 for node in self.prompts[i] if self.trie.holders[node] >= 2)

    def tokens(self, i: int, blocks: int) -> int:
        """Return the tokens of event `i`'s first `blocks` blocks: never more than its prompt holds
        (its last block may be partial)."""
        return min(blocks * count(self.events[i], "block_size"), count(self.events[i], "input_tokens"))

    def cacheable_tokens(self, i: int) -> int:
        """Return the tokens of c(r) blocks."""
        return self.tokens(i, self.depth[i])

    def hit_depth(self, i: int) -> int:
        """Return h(r): the deepest prefix of `i` last used less than a TTL ago (strictly before)."""
        now, used = int(self.events[i]["timestamp"]), self.trie.last_use
        live = [k for k, node in enumerate(self.path(i), start=1)
                if used[node] is not None and now - used[node] < self.ttl_ms]
        return max(live, default=0)

    def read_tokens(self, i: int) -> int:
        """Return R(r): the hit in tokens if it can be served, in the provider's steps, else 0."""
        hit = self.tokens(i, self.hit_depth(i))
        return hit - hit % self.rule.read_step if hit >= self.rule.minimum else 0

    def decide(self, i: int) -> Decision:
        """Return the decision for event `i` from the uses of strictly earlier milliseconds."""
        cacheable = self.cacheable_tokens(i)
        if cacheable < self.rule.minimum:
            return Decision(False, cacheable)
        read = self.read_tokens(i)
        return Decision(True, cacheable, read, cacheable - read, self.write_class)

    def touch(self, i: int) -> None:
        """Record that eligible event `i` used (read or wrote) every block of its prefix."""
        for node in self.path(i):
            self.trie.last_use[node] = int(self.events[i]["timestamp"])

    def decisions(self) -> dict[str, Decision]:
        """Return every event's decision: a millisecond is decided before any of it is used."""
        decided: dict[str, Decision] = {}
        for _, same_ms in groupby(range(len(self.events)), key=lambda i: order(self.events[i])[0]):
            members = list(same_ms)
            decided.update({self.events[i]["request_id"]: self.decide(i) for i in members})
            for i in (i for i in members if decided[self.events[i]["request_id"]].eligible):
                self.touch(i)
        return decided


class Replay:
    """A workload replayed under one TTL option ('5m' or '1h'), priced by the reference."""

    def __init__(self, events: Sequence[Mapping], catalog: ReferenceCatalog, choice: str) -> None:
        self.catalog, self.choice = catalog, choice
        self.events = sorted((e for e in events if len(e.get("prefix_hashes") or ())), key=order)
        self.decided = self.decide()

    def rule(self, event: Mapping) -> CacheRule | None:
        """Return the rule the event is replayed under: None when unbilled or not cached."""
        model = str(event["model"])
        rule = cache_rule(str(event.get("provider") or ""), self.catalog.resolve(model),
                          self.catalog.prices(model))
        return rule if rule is not None and self.choice in rule.ttl_ms and billed(event) else None

    def cache_keys(self) -> dict[tuple[str, str], list[Mapping]]:
        """Return the replayed events by cache key: (provider, model) as logged."""
        keys: dict[tuple[str, str], list[Mapping]] = {}
        for event in (e for e in self.events if self.rule(e) is not None):
            keys.setdefault((str(event.get("provider") or ""), str(event["model"])), []).append(event)
        return keys

    def decide(self) -> dict[str, Decision]:
        """Return the decision of every replayed event, by request id."""
        decided: dict[str, Decision] = {}
        for events in self.cache_keys().values():
            decided.update(KeyReplay(events, self.rule(events[0]), self.choice).decisions())
        return decided

    @staticmethod
    def replayed_tokens(event: Mapping, decision: Decision) -> dict[str, int]:
        """Return the event's classes with the replay's reads and writes in place of the logged."""
        tokens = token_classes(event)
        rest = count(event, "input_tokens") - decision.read_tokens - decision.write_tokens
        tokens.update(input=max(rest, 0), cache_read=decision.read_tokens, cache_write=0, cache_write_1h=0)
        tokens[decision.write_class] += decision.write_tokens
        return tokens

    def row(self, event: Mapping) -> ReplayRow:
        """Return one event's row; an ineligible event costs what it logged."""
        rid, decision = str(event["request_id"]), self.decided.get(str(event["request_id"]), NOT_REPLAYED)
        logged = self.catalog.cost(event)
        replayed = self.catalog.cost(event, self.replayed_tokens(event, decision)) if decision.eligible else logged
        return ReplayRow(rid, str(event.get("feature") or ""), str(event.get("provider") or ""),
                         str(event["model"]), rid in self.decided, decision, logged, replayed)


def replay(events: Sequence[Mapping], catalog: ReferenceCatalog, choice: str) -> list[ReplayRow]:
    """Return one row per event with prefix hashes, in (timestamp, request_id) order."""
    replayed = Replay(events, catalog, choice)
    return [replayed.row(event) for event in replayed.events]
