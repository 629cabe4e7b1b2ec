"""``show``: untrusted values rendered for messages, bounded in depth, length and work.

Everything here must hold whatever the value and however little stack is left: the
renderer runs on error paths that an attacker chooses, on Python 3.10 and 3.11 whose
``repr`` recurses through the C stack, under a low ``sys.setrecursionlimit`` too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fuzz_support import NEST_SHAPES, PARSER_DEPTH, nested, recursion_headroom

from cognises._show import MAX_DEPTH, show


@pytest.fixture
def low_recursion_limit() -> Iterator[None]:
    # Far below what a 1024-deep repr needs.
    with recursion_headroom(60):
        yield


SMALL_VALUES = [None, True, False, 0, -7, 2**64, 1.5, "", "HS256", "it's", "\x00\u00e9", b"raw"]
SMALL_VALUES += [[], {}, (), [1, "a"], {"k": [None, True]}, [[1], {"a": {"b": 2}}]]


@pytest.mark.parametrize("value", SMALL_VALUES, ids=repr)
def test_small_values_read_as_their_repr(value):
    assert show(value) == repr(value)


def test_long_values_are_cut_at_the_limit():
    for value in ["x" * 1000, list(range(1000)), {str(i): i for i in range(1000)}, "é" * 500]:
        text = show(value)
        assert len(text) == 80
        assert text.endswith("...")
        assert text[:77] == repr(value)[:77]
    assert len(show("x" * 1000, limit=20)) == 20


@pytest.mark.parametrize("shape", NEST_SHAPES)
def test_every_depth_up_to_orjsons_limit_is_bounded(low_recursion_limit, shape):
    for depth in range(1, PARSER_DEPTH + 1):
        value = orjson.loads(nested(depth, shape))
        text = show(value)
        assert len(text) <= 80, (depth, text)
        if depth > MAX_DEPTH and shape == "list":
            assert text == "[" * MAX_DEPTH + "[...]" + "]" * MAX_DEPTH


def test_nesting_past_any_recursion_limit(low_recursion_limit):
    # Built in Python, past what even the C stack allows repr on any version.
    deep: Any = "leaf"
    for _ in range(200_000):
        deep = [deep]
    assert show(deep) == "[" * MAX_DEPTH + "[...]" + "]" * MAX_DEPTH
    deep = "leaf"
    for _ in range(200_000):
        deep = {"k": deep}
    assert show(deep, limit=400) == "{'k': " * MAX_DEPTH + "{...}" + "}" * MAX_DEPTH


def test_only_the_first_items_are_looked_at():
    seen = 0

    class Counted(list[int]):
        def __iter__(self) -> Iterator[int]:
            nonlocal seen
            for item in super().__iter__():
                seen += 1
                yield item

    assert len(show(Counted(range(1_000_000)))) == 80
    assert seen < 80


def test_a_huge_string_is_not_rendered_whole(monkeypatch):
    text = show("\U0001f511" * 1_000_000)
    assert len(text) == 80
    assert text.startswith("'\U0001f511")


@pytest.mark.parametrize("bits", [257, 20_000, 200_000])
def test_huge_ints_are_shown_by_size(bits):
    # Python refuses to turn more than 4300 digits into text, and converting costs
    # quadratic time before that.
    assert show(1 << (bits - 1)) == f"<int of {bits} bits>"
    assert show([-(1 << (bits - 1))]) == f"[<int of {bits} bits>]"


def test_a_cycle_ends_at_the_depth_cap():
    cycle: list[Any] = []
    cycle.append(cycle)
    assert show(cycle) == "[" * MAX_DEPTH + "[...]" + "]" * MAX_DEPTH
    mapping: dict[str, Any] = {}
    mapping["self"] = mapping
    assert show(mapping, limit=200).count("{") == MAX_DEPTH + 1


def test_objects_from_code_are_not_asked_for_their_repr():
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("never called")

    assert show(Hostile()) == "<Hostile>"
    assert show({"k": Hostile()}) == "{'k': <Hostile>}"
    # Containers and scalars of any subclass render like their base, never through the
    # subclass's own repr.
    assert show(OrderedDict(a=1)) == "{'a': 1}"

    class Text(str):
        def __repr__(self) -> str:
            raise RuntimeError("never called")

    assert show(Text("x")) == "'x'"


def test_mapping_keys_are_bounded_too():
    key = ("k" * 1000,)
    text = show({key: 1}, limit=300)
    assert len(text) <= 300
    assert text.startswith("{('kkk")
