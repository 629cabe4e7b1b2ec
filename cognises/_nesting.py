"""Bounds for nested values that Python would otherwise recurse through.

``json.loads``, ``json.dumps``, ``repr`` and ``==`` recurse once per level of nesting and
raise ``RecursionError`` (a traceback, not a report) near the interpreter's recursion
limit, sooner on a busy stack. These helpers measure or render a value without recursing,
so that its depth can be refused before anything else looks at it.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Collection, Mapping
from typing import Any, Literal

__all__ = ["brief", "json_too_deep_at", "shape_problem"]

# A whole JSON string (brackets inside it do not nest) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[][{}]', re.DOTALL)

# reprlib stops a few levels down and after a few items, so a rendering stays short
# whatever the value holds.
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = 40


def brief(value: object, limit: int = 40) -> str:
    """A repr of at most ``limit`` characters that never recurses more than a few levels."""
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_too_deep_at(text: str, limit: int) -> int | None:
    """The offset where JSON ``text`` first opens more than ``limit`` levels, or None.

    Found by a scan, not by parsing: it is what makes parsing the text safe.
    """
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return match.start()
        elif token in ("]", "}"):
            depth -= 1
    return None


def shape_problem(
    value: object, *, depth: int, max_depth: int, max_values: int
) -> Literal["depth", "values"] | None:
    """What is wrong with ``value``, found at ``depth``: ``"depth"`` if a container is
    nested deeper than ``max_depth``, ``"values"`` if it holds more than ``max_values``
    values in all, None if neither.

    Mappings, lists and tuples are containers (what ``json.dumps`` walks). Walked with a
    stack, never recursively; a value that contains itself counts as too deep.
    """
    stack: list[tuple[object, int]] = [(value, depth)]
    values = 1
    while stack:
        item, level = stack.pop()
        children: Collection[Any]
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if level > max_depth:
            return "depth"
        values += len(children)
        if values > max_values:
            return "values"
        stack.extend((child, level + 1) for child in children)
    return None
