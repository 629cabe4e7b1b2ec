"""Part 8: a gunicorn worker's resident memory after 200,000 distinct valid tokens, and
after 200,000 forged ones.

What a worker keeps per token is the result cache (at most 1,024 tokens verified twice)
and its record of tokens seen once (at most 4,096 handles, then started afresh): that is
the bound this part shows holding. One gthread worker (2 threads) serves every request
of a kind; the two kinds run at once, on two servers.

Signing 200,000 tokens would take longer than the whole benchmark may (RSA-2048 signing
costs about 0.3 ms a token here), so the valid run cycles through a pool of distinct
tokens bigger than both bounds, each connection through its share in order: between two
sightings of a token come more than 4,096 others, so the record of tokens seen once has
been started afresh since, and every request is a first sighting, handled exactly as a
never-seen token is (full verification, the handle recorded, nothing admitted). A leak
per token would show as growth over the first pass, which the bound leaves no room for.
The forged tokens need no signing: the wrk script makes a new one for every request (8
characters of a valid signature replaced by a counter), 200,000 truly distinct strings.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks._load import (
    Entry,
    access_tokens,
    check,
    forgeable,
    gunicorn,
    key_server,
    token_file,
    wrk,
)
from benchmarks._table import Row

__all__ = ["run"]

CONNECTIONS = 4
CACHE_SIZE, SEEN_LIMIT = 1024, 4096  # the verifier's defaults
# What the two bounds can hold, generously: a cached entry keeps the token (about 1 KB),
# its claims (a dict of 14 claims, about 2 KB) and a tuple; a handle is a 43-character
# string and its set slot. Plus 1 MiB for the allocator's own rounding.
BOUND_KIB = (CACHE_SIZE * 4096 + SEEN_LIMIT * 160) // 1024 + 1024


def sizes(quick: bool) -> tuple[int, int]:
    """Requests per wrk run and runs, per kind of token."""
    return (1000, 2) if quick else (25_000, 8)


def pool_size(quick: bool) -> int:
    return 1200 if quick else 2 * SEEN_LIMIT


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _serve(
    jwks_url: str, kind: str, entries: list[Entry], directory: str, per_run: int, runs: int
) -> tuple[int, list[int], int]:
    """RSS after warm-up, after each run, and the requests sent, for one kind of token."""
    tokens = token_file(entries, directory)
    warm = token_file([(200, "v", token) for token in access_tokens(20)], directory)
    with gunicorn(jwks_url, worker_class="gthread", workers=1, threads=2) as server:
        (worker,) = server.worker_pids()
        check("warm-up", wrk(server.url, "/cognises", warm, answers=400, connections=2))
        start = _rss_kib(worker)
        series, sent = [], 0
        for _ in range(runs):
            outcome = wrk(
                server.url,
                "/cognises",
                tokens,
                answers=per_run,
                connections=CONNECTIONS,
                start=sent // CONNECTIONS,
            )
            check(kind, outcome)
            sent += outcome.checked
            series.append(_rss_kib(worker))
    return start, series, sent


def run(quick: bool = False, *, distinct: Sequence[str] | None = None) -> list[Row]:
    per_run, runs = sizes(quick)
    pool = list(distinct or access_tokens(pool_size(quick)))[: pool_size(quick)]
    kinds: dict[str, list[Entry]] = {
        "distinct valid": [(200, "v", token) for token in pool],
        "forged": [(401, "f", token) for token in forgeable(pool)],
    }
    rows = []
    # The two servers at once, a core each: together they take as long as one.
    with (
        tempfile.TemporaryDirectory() as directory,
        key_server() as jwks_url,
        ThreadPoolExecutor(len(kinds)) as pool_of_two,
    ):
        results = {
            kind: pool_of_two.submit(_serve, jwks_url, kind, entries, directory, per_run, runs)
            for kind, entries in kinds.items()
        }
        for kind, result in results.items():
            start, series, sent = result.result()
            rows.append(
                Row(
                    "8 memory",
                    f"one gthread worker, {sent:,} requests with {kind} tokens: resident memory",
                    f"{start / 1024:.1f} MiB after warm-up, then "
                    + ", ".join(f"{kib / 1024:.1f}" for kib in series)
                    + f" MiB after each {per_run:,}",
                    f"≤ warm-up + {BOUND_KIB / 1024:.1f} MiB",
                    max(series) <= start + BOUND_KIB,
                )
            )
    return rows
