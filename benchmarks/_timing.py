"""Side-by-side timing: every figure is a ratio of two things measured in the same run."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Iterator, Sequence

__all__ = ["fresh_copies", "interleaved", "per_call"]


def per_call(batch: Callable[[], object], calls: int, *, repeats: int = 7) -> float:
    """Best seconds per call over ``repeats`` runs of ``batch`` (which makes ``calls`` calls).

    The minimum is the figure least disturbed by the other work of a shared machine.
    """
    best = float("inf")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            batch()
            best = min(best, time.perf_counter() - start)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best / calls


def interleaved(
    batches: dict[str, Callable[[], object]], calls: int, *, rounds: int = 5, warmup: int = 1
) -> dict[str, float]:
    """Best seconds per call of each batch, the batches taking turns so drift hits all alike.

    The first ``warmup`` rounds run every batch without counting it.
    """
    for _ in range(warmup):
        for batch in batches.values():
            batch()
    best = dict.fromkeys(batches, float("inf"))
    # A new order every round (the same orders every run): a batch runs slower right
    # after different work (caches and predictors hold the other batch's state), and a
    # fixed order would always charge that to the same batch.
    order = list(batches)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            best[name] = min(best[name], per_call(batches[name], calls, repeats=1))
    return best


def fresh_copies(chunks: Sequence[Sequence[str]]) -> Iterator[list[str]]:
    """Each chunk again, in new string objects: one list per batch run, made here, before
    any timing starts.

    A web framework hands the verifier a new string per request, whose hash is not yet
    computed; re-using one object would let every lookup after the first skip hashing it.
    """
    return iter([[token.encode().decode() for token in chunk] for chunk in chunks])
