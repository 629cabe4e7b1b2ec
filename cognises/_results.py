"""A bounded LRU of tokens that already passed every check.

A browser sends the same token on every request; a hit skips the signature check.
Each hit re-checks expiry and that the signing key is still published.

Entries are found by a token's handle: its last 43 characters, the last 256 bits of its
signature, as good as unique among tokens that verified. Hashing them costs next to
nothing, where hashing a whole token of a kilobyte does not. A hit counts only if the
whole token is the one that was verified.

A token is admitted on its second verification, not its first. Most tokens a busy
service sees once are never seen again, and keeping each of them (claims, key, the token
itself) costs every request memory traffic for nothing; remembering that a token was
seen costs its handle in a set.

The verifier reads and fills this cache inline, without a method call on the common
paths: on the hot path a Python call costs as much as the lookup itself.
"""

from __future__ import annotations

from collections import OrderedDict

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from cognises._claims import Claims

__all__ = ["HANDLE_SIZE", "ResultCache", "Verified"]

HANDLE_SIZE = 43  # characters: 256 bits of base64url

# What is kept of a verified token: the token, its claims, exp + leeway (time.time()
# seconds), and the kid and key that checked it. A plain tuple, made once per admission.
Verified = tuple[str | bytes, Claims, float, str, RSAPublicKey]


class ResultCache(OrderedDict[str | bytes, Verified]):
    """Verified tokens by handle, least recently used first.

    Thread-safe without a lock of its own: each OrderedDict and set operation is atomic,
    and the races between them (two threads evicting at once) only ever drop an entry
    early or delay an admission.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        # Handles of tokens verified once. Bounded: forgetting only delays an admission.
        self.seen: set[str | bytes] = set()
        self.seen_limit = 4 * size

    def admit(self, handle: str | bytes, verified: Verified) -> None:
        """Keep a token verified for the second time, evicting the least recently used."""
        self[handle] = verified
        while len(self) > self.size:
            try:
                self.popitem(last=False)
            except KeyError:  # another thread emptied it first
                break

    def forget_seen(self, handle: str | bytes) -> None:
        """Start the record of tokens seen once afresh, with ``handle`` in it."""
        self.seen.clear()
        self.seen.add(handle)

    def touch(self, handle: str | bytes) -> None:
        try:  # noqa: SIM105 - contextlib.suppress costs more than the move
            self.move_to_end(handle)
        except KeyError:  # evicted by another thread meanwhile
            pass

    def discard(self, handle: str | bytes, token: str | bytes) -> None:
        entry = self.get(handle)
        if entry is not None and entry[0] == token:
            self.pop(handle, None)

    def clear(self) -> None:
        super().clear()
        self.seen.clear()
