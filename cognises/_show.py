"""Rendering untrusted values for error messages."""

from __future__ import annotations

__all__ = ["show"]


def show(value: object, limit: int = 80) -> str:
    """A short repr: enough to diagnose, never a whole attacker-sized value."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
