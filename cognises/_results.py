"""A bounded LRU of tokens that already passed every check.

A browser sends the same token on every request; a hit skips the signature check.
Each hit re-checks expiry and that the signing key is still published.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from cognises._claims import Claims

__all__ = ["ResultCache", "Verified"]


class Verified(NamedTuple):
    claims: Claims
    valid_until: float  # exp + leeway, in time.time() seconds
    kid: str
    key: RSAPublicKey


class ResultCache:
    """Thread-safe without a lock of its own: each OrderedDict operation is atomic, and
    the races between them (two threads evicting at once) only ever drop an entry early.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str | bytes, Verified] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, token: str | bytes) -> Verified | None:
        hit = self._items.get(token)
        if hit is not None:
            with contextlib.suppress(KeyError):  # evicted by another thread meanwhile
                self._items.move_to_end(token)
        return hit

    def put(self, token: str | bytes, verified: Verified) -> None:
        items = self._items
        items[token] = verified
        while len(items) > self.size:
            try:
                items.popitem(last=False)
            except KeyError:  # another thread emptied it first
                break

    def discard(self, token: str | bytes) -> None:
        self._items.pop(token, None)

    def clear(self) -> None:
        self._items.clear()
