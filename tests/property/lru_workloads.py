"""Random request traces for `cache_policy_optimizer`'s engine, without a store.

    trace = data.draw(traces())     # 1-120 requests: the policy query's answer and the reference's Trace

Prompts are blocks from a tiny alphabet (so they share prefixes of every depth, often long
ones: alphabet 1 makes every prompt a prefix of the longest) plus up to three blocks of their
own, hashed as a chain. Times come from gaps of 0 (ties, broken by request id), 1 ms and
exactly 1, 2 and 300 s (the TTL edges), so capacities of 1 to a billion and small TTLs all bite.
The shared run the query would compute is given either exactly (the leading hashes another
request holds) or as the whole prompt (a superset, as `kv_prefix_seen`'s candidates may be).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa
from hypothesis import strategies as st

from netra.tools.cache_policy import Trace
from tests.property.workloads import chain_hashes

GAPS_MS = (0, 0, 1, 999, 1_000, 1_001, 2_000, 300_000)
CAPACITIES = (1, 2, 3, 5, 8, 13, 30, 100, 10**9)
TTLS_S = (1, 2, 5, 300, 3600)


@dataclass(frozen=True)
class Request:
    """One drawn request: its time, id, chained hashes, block size and input tokens."""

    ts: int
    request_id: str
    hashes: list[int]
    block_size: int
    input_tokens: int


@dataclass(frozen=True)
class Drawn:
    """A drawn trace: the requests in storage order, whether runs are whole prompts, the settings."""

    requests: list[Request]
    whole_runs: bool
    capacities: list[int]
    ttls_s: list[int]

    def holders(self) -> Counter[int]:
        """Return how many requests hold each hash (a hash another request holds has 2 or more)."""
        return Counter(h for r in self.requests for h in set(r.hashes))

    def run(self, request: Request, holders: Counter[int]) -> list[int]:
        """Return the request's shared run as the query would: its leading hashes another request holds."""
        shared = next((i for i, h in enumerate(request.hashes) if holders[h] < 2), len(request.hashes))
        return request.hashes if self.whole_runs else request.hashes[:shared]

    def table(self) -> pa.Table:
        """Return what `lru.POLICY_SQL` answers for these requests (in storage order)."""
        rs, holders = self.requests, self.holders()
        return pa.table({"ts_ms": pa.array([r.ts for r in rs], pa.int64()),
                         "request_id": [r.request_id for r in rs],
                         "n_blocks": pa.array([len(r.hashes) for r in rs], pa.uint64()),
                         "bs": pa.array([r.block_size for r in rs], pa.uint16()),
                         "n_input": pa.array([r.input_tokens for r in rs], pa.uint32()),
                         "run": pa.array([self.run(r, holders) for r in rs], pa.list_(pa.uint64()))})

    def trace(self) -> Trace:
        """Return the reference's trace: the requests in replay order (timestamp, request_id)."""
        rs = sorted(self.requests, key=lambda r: (r.ts, r.request_id))
        return Trace(ts=[r.ts for r in rs], feature=["chat"] * len(rs), model=["m"] * len(rs),
                     blocks=[r.hashes for r in rs], block_size=[r.block_size for r in rs],
                     input_tokens=[r.input_tokens for r in rs], cached_tokens=[0] * len(rs), cost=[0.0] * len(rs))


@dataclass
class Maker:
    """Makes the requests of one trace from a seeded generator (hypothesis draws the seed and the shape).

    Drawing every block through hypothesis cost about 0.2 s of CPU per trace (a minute per run
    of the test); a seeded `random.Random` makes the same distributions in a few milliseconds,
    and a failing example still names its seed, request count and alphabet, which hypothesis shrinks.
    """

    rng: random.Random
    alphabet: int

    def gap(self) -> int:
        """Return a gap in ms: a tie or a TTL edge half the time, else any gap up to 3 s."""
        return self.rng.choice(GAPS_MS) if self.rng.random() < 0.5 else self.rng.randint(0, 3_000)

    def request(self, i: int, ts: int, request_id: str) -> Request:
        """Make request `i`: up to 12 blocks of the alphabet, then up to 3 of its own."""
        shared = [self.rng.randrange(self.alphabet) for _ in range(self.rng.randint(0, 12))]
        hashes = chain_hashes(shared + [1_000 + i * 10 + j for j in range(self.rng.randint(0, 3))])
        block_size = self.rng.choice((16, 256))
        return Request(ts, request_id, hashes, block_size, len(hashes) * block_size + self.rng.randint(0, 100))

    def requests(self, n: int) -> list[Request]:
        """Make `n` requests at increasing times, with shuffled ids, in a shuffled storage order."""
        times = list(itertools.accumulate(self.gap() for _ in range(n)))
        ids = self.rng.sample([f"r{i:03d}" for i in range(n)], n)
        made = [self.request(i, times[i], ids[i]) for i in range(n)]
        return self.rng.sample(made, n)


@st.composite
def traces(draw: Callable) -> Drawn:
    """Draw 1-120 requests, the capacities (1 to a billion) and the TTLs (1 s to 1 h) to replay."""
    n, alphabet = draw(st.integers(1, 120)), draw(st.sampled_from((1, 2, 3)))
    requests = Maker(random.Random(draw(st.integers(0, 2**32 - 1))), alphabet).requests(n)
    capacities = draw(st.lists(st.sampled_from(CAPACITIES) | st.integers(1, 300), min_size=1, max_size=20))
    ttls = draw(st.lists(st.sampled_from(TTLS_S) | st.integers(1, 10), min_size=1, max_size=20))
    return Drawn(requests, draw(st.booleans()), capacities, ttls)
