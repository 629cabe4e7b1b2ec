"""A bounded LRU of tokens that already passed every check.

A browser sends the same token on every request; a hit skips the signature check.
Each hit re-checks expiry and that the signing key is still published.
"""

from __future__ import annotations

import threading
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
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str | bytes, Verified] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, token: str | bytes) -> Verified | None:
        with self._lock:
            hit = self._items.get(token)
            if hit is not None:
                self._items.move_to_end(token)
            return hit

    def put(self, token: str | bytes, verified: Verified) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[token] = verified
            self._items.move_to_end(token)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def discard(self, token: str | bytes) -> None:
        with self._lock:
            self._items.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
