"""Rendering untrusted values for error messages and log lines.

What an attacker sends can nest as deep as the JSON parser allows (orjson: 1024 levels)
and hold strings as long as the token. ``repr`` recurses once per level, which on Python
3.10 and 3.11 raises ``RecursionError`` long before orjson's limit, and it renders a whole
value before anything can be cut. ``show`` walks the value with a stack of its own,
renders at most ``MAX_DEPTH`` levels, and stops as soon as it has enough characters: its
cost and its output are bounded by ``limit``, whatever the value. It runs on error paths
only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "show"]

MAX_DEPTH = 8

# Containers by the brackets that render them; subclasses render like their base.
_BRACKETS: tuple[tuple[type, str, str], ...] = (
    (list, "[", "]"),
    (tuple, "(", ")"),
    (dict, "{", "}"),
    (Mapping, "{", "}"),
    (set, "{", "}"),
    (frozenset, "{", "}"),
)
# Past this, an int is shown by its size: turning it into digits costs quadratic time
# (and Python refuses beyond 4300 digits).
_INT_BITS = 256
_END = object()


def show(value: object, limit: int = 80) -> str:
    """A short repr: enough to diagnose, never a whole attacker-sized value."""
    limit = max(limit, 4)
    pieces: list[str] = []
    size = 0
    for piece in _pieces(value, limit):
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            return f"{''.join(pieces)[: limit - 3]}..."
    return "".join(pieces)


def _pieces(value: Any, limit: int) -> Iterator[str]:
    """The text of ``value`` piece by piece, without recursion, until the caller stops."""
    # One entry per open container: its items still to render (key and value pairs for a
    # mapping), its closing bracket, and whether it is a mapping.
    frames: list[tuple[Iterator[Any], str, bool]] = []
    first = False  # whether the next item is the first of its container
    while True:
        brackets = _brackets(value)
        if brackets is None:
            yield _scalar(value, limit)
        elif len(frames) >= MAX_DEPTH:
            yield f"{brackets[0]}...{brackets[1]}"
        else:
            mapping = isinstance(value, Mapping)
            yield brackets[0]
            frames.append((iter(value.items() if mapping else value), brackets[1], mapping))
            first = True
        # The next value to render: the next item of the innermost open container.
        while frames:
            items, closing, mapping = frames[-1]
            item: Any = next(items, _END)
            if item is _END:
                frames.pop()
                yield closing
                first = False
                continue
            if not first:
                yield ", "
            first = False
            if mapping:
                key = item[0]
                value = item[1]
                # A key is hashable, so holds no mapping: this show goes one level deep.
                yield f"{show(key, limit)}: "
            else:
                value = item
            break
        else:
            return


def _brackets(value: object) -> tuple[str, str] | None:
    for kind, opening, closing in _BRACKETS:
        if isinstance(value, kind):
            return opening, closing
    return None


def _scalar(value: object, limit: int) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, int):
        bits = value.bit_length()
        return repr(int(value)) if bits <= _INT_BITS else f"<int of {bits} bits>"
    if isinstance(value, (str, bytes, bytearray)):
        # Only the start: whatever lies past the limit would be cut anyway.
        return repr(value[: limit + 1])
    # Anything else came from code, not JSON; its own repr could be anything.
    return f"<{type(value).__name__}>"
