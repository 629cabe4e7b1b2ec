"""A bounded LRU of tokens that already passed every check.

A browser sends the same token on every request; a hit skips the signature check.
Each hit re-checks expiry and that the signing key is still published.

A token is admitted on its second verification, not its first. Most tokens a busy
service sees once are never seen again, and keeping each of them (claims, key, the token
itself) costs every request memory traffic for nothing; remembering that a token was
seen costs one hash in a set.
"""

from __future__ import annotations

from collections import OrderedDict

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from cognises._claims import Claims

__all__ = ["ResultCache", "Verified"]


# What is kept of a verified token: its claims, exp + leeway (time.time() seconds), and
# the kid and key that checked it. A plain tuple, made once per verified token.
Verified = tuple[Claims, float, str, RSAPublicKey]


class ResultCache:
    """Thread-safe without a lock of its own: each OrderedDict operation is atomic, and
    the races between them (two threads evicting at once) only ever drop an entry early.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str | bytes, Verified] = OrderedDict()
        # Hashes of tokens verified once. A collision only admits a token early.
        self._seen: set[int] = set()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, token: str | bytes) -> Verified | None:
        items = self._items
        hit = items.get(token)
        if hit is not None:
            try:  # noqa: SIM105 - contextlib.suppress costs more than the lookup
                items.move_to_end(token)
            except KeyError:  # evicted by another thread meanwhile
                pass
        return hit

    def put(self, token: str | bytes, verified: Verified) -> None:
        seen = self._seen
        fingerprint = hash(token)
        if fingerprint not in seen:
            if len(seen) >= 4 * self.size:
                seen.clear()  # bounded: forgetting only delays an admission
            seen.add(fingerprint)
            return
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
        self._seen.clear()
