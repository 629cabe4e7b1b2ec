"""Side-by-side timing: every figure is a ratio of two things measured in the same run."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


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
    batches: dict[str, Callable[[], object]], calls: int, *, rounds: int = 5
) -> dict[str, float]:
    """Best seconds per call of each batch, the batches taking turns so drift hits all alike."""
    best = dict.fromkeys(batches, float("inf"))
    for _ in range(rounds):
        for name, batch in batches.items():
            best[name] = min(best[name], per_call(batch, calls, repeats=1))
    return best
