"""Helpers for testing apps that use cognises, without AWS."""

from __future__ import annotations

__all__: list[str] = []
