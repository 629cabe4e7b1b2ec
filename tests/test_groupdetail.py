"""The group document: validation of every rule, permissions, flags. No AWS involved."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cognises._groupdetail import (
    created_true_like,
    load_group_detail,
    parse_created,
    permissions_by_group,
    validate_group_detail,
)
from cognises._groupfields import INLINE_POLICY_MAX, MAX_NESTING
from cognises.errors import GroupDetailError

SEED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Stmt1524591948858",
            "Action": "cognito-idp:*",
            "Effect": "Allow",
            "Resource": "arn:aws:cognito-idp:us-east-1:userid:userpool/pool_id",
        }
    ],
}


def entry(name: str = "Group1", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "group_name": name,
        "group_policy": SEED_POLICY,
        "created": "false",
        "allowed_functions": ["protected", "admin_panel"],
    }
    base.update(fields)
    return base


def problems_of(document: Any) -> list[str]:
    with pytest.raises(GroupDetailError) as info:
        validate_group_detail(load_group_detail(document))
    return info.value.problems


def test_the_seed_readme_document_is_valid() -> None:
    doc = [
        entry("Group1"),
        entry("String", allowed_functions=["public", "view_data"]),
    ]

    specs = validate_group_detail(doc)

    assert [s.name for s in specs] == ["Group1", "String"]
    assert specs[0].role_name == "role_Group1"
    assert specs[0].policy_name == "Group1_policy"
    assert specs[0].created is False
    assert specs[1].allowed_functions == frozenset({"public", "view_data"})
    assert specs[0].description is None
    assert specs[0].precedence is None


def test_optional_fields_are_carried() -> None:
    [spec] = validate_group_detail(
        [entry("admins", description="Admins", precedence=0, role_name="custom-role")]
    )

    assert spec.description == "Admins"
    assert spec.precedence == 0
    assert spec.role_name == "custom-role"
    assert spec.policy_name == "admins_policy"


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"group_name": 5}, "group_name: expected a string, found a number (5)"),
        ({"group_name": ""}, "group_name: expected 1 to 128 characters, found 0"),
        ({"group_name": "a b"}, "group_name: expected letters, digits, symbols or punctuation"),
        ({"group_name": "é" * 129}, "group_name: expected 1 to 128 characters, found 129"),
        ({"role_name": "r" * 65}, "role_name: expected 1 to 64 characters (IAM's limit), found 65"),
        ({"role_name": "bad/name"}, "role_name: expected only letters, digits and +=,.@_-"),
        ({"role_name": 3}, "role_name: expected a string, found a number (3)"),
        ({"group_policy": "{}"}, "group_policy: expected a policy object, found a string"),
        ({"group_policy": {"Statement": [{}]}}, "group_policy.Version: expected a string"),
        ({"group_policy": {"Version": "2012-10-17"}}, "group_policy.Statement: expected a non"),
        ({"created": "yes"}, 'created: expected true, false, "true" or "false", found a string'),
        ({"created": 1}, 'created: expected true, false, "true" or "false", found a number'),
        ({"allowed_functions": "view"}, "allowed_functions: expected a list of strings"),
        ({"allowed_functions": ["a", 2]}, "allowed_functions: expected a list of strings"),
        ({"description": "d" * 2049}, "description: expected a string of at most 2048"),
        ({"precedence": -1}, "precedence: expected an integer from 0 to 2147483647, found a"),
        ({"precedence": True}, "precedence: expected an integer from 0 to 2147483647, found true"),
        ({"colour": "red"}, "expected only the fields group_name, group_policy, created"),
    ],
)
def test_each_rule_is_reported_with_index_and_name(bad: dict[str, Any], expected: str) -> None:
    doc = [entry("ok"), entry("Group1", **bad)]

    [problem] = problems_of(doc)

    name = bad.get("group_name", "Group1")
    where = f"entry 1 ({name!r})" if isinstance(name, str) and name else "entry 1"
    assert problem.startswith(f"{where}: ")
    assert expected in problem


def test_a_derived_role_name_over_64_characters_is_reported() -> None:
    name = "g" * 60
    [problem] = problems_of([entry(name)])

    assert problem == (
        f"entry 0 ({name!r}): derived role name 'role_{name}': "
        "expected 1 to 64 characters (IAM's limit), found 65"
    )


def test_a_group_name_iam_cannot_use_in_a_role_name_is_reported_for_role_and_policy() -> None:
    problems = problems_of([entry("café")])

    assert [p.split(":")[1].strip() for p in problems] == [
        "derived role name 'role_café'",
        "policy name 'café_policy'",
    ]
    assert all("'é'" in p for p in problems)


def test_a_long_group_name_with_its_own_role_name_is_valid_up_to_the_policy_name() -> None:
    [spec] = validate_group_detail([entry("g" * 121, role_name="short")])
    assert spec.policy_name == "g" * 121 + "_policy"

    [problem] = problems_of([entry("g" * 122, role_name="short")])
    assert "policy name" in problem
    assert "expected 1 to 128 characters (IAM's limit), found 129" in problem


def test_a_policy_over_the_inline_quota_is_reported() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "x" * INLINE_POLICY_MAX}
    [problem] = problems_of([entry(group_policy={"Version": "2012-10-17", "Statement": statement})])

    assert "group_policy: expected at most 10240 characters (IAM's inline policy quota)" in problem


def test_missing_fields_are_each_reported() -> None:
    problems = problems_of([{"group_name": "lonely"}])

    assert problems == [
        f"entry 0 ('lonely'): {field}: expected a value, found none (missing field)"
        for field in ("group_policy", "created", "allowed_functions")
    ]


def test_every_problem_of_every_entry_is_reported_at_once() -> None:
    doc = [
        entry("a", created="maybe", precedence="high"),
        "just a string",
        entry("a"),
        entry("b", role_name="role_c"),
        entry("c"),
        {"group_name": None},
    ]

    problems = problems_of(doc)

    assert problems == [
        'entry 0 (\'a\'): created: expected true, false, "true" or "false", '
        "found a string ('maybe')",
        "entry 0 ('a'): precedence: expected an integer from 0 to 2147483647, "
        "found a string ('high')",
        "entry 1: expected an object, found a string ('just a string')",
        "entry 2 ('a'): group_name: expected a unique name, found it already used by entry 0",
        "entry 4 ('c'): role name 'role_c': expected one role per group, "
        "found it already used by entry 3",
        "entry 5: group_policy: expected a value, found none (missing field)",
        "entry 5: created: expected a value, found none (missing field)",
        "entry 5: allowed_functions: expected a value, found none (missing field)",
        "entry 5: group_name: expected a string, found null",
    ]


def test_a_duplicate_of_a_valid_entry_is_reported() -> None:
    [problem] = problems_of([entry("a"), entry("b"), entry("a")])

    assert problem == (
        "entry 2 ('a'): group_name: expected a unique name, found it already used by entry 0"
    )


def test_the_document_must_be_a_list() -> None:
    with pytest.raises(GroupDetailError) as info:
        load_group_detail({"group_name": "a"})  # type: ignore[arg-type]

    assert info.value.problems == [
        "document: expected a list of group objects or a path, "
        "found an object ({'group_name': 'a'})"
    ]


def test_a_path_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "groups.json"
    path.write_text(json.dumps([entry("a")]), encoding="utf-8")

    assert load_group_detail(path) == [entry("a")]
    assert load_group_detail(str(path)) == [entry("a")]
    assert permissions_by_group(path) == {"a": frozenset({"protected", "admin_panel"})}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[{", "expected JSON, found Expecting property name"),
        ('{"a": 1}', "expected a list of group objects, found an object"),
        ("[NaN]", "expected JSON, found NaN, which is not valid JSON"),
    ],
)
def test_a_bad_file_is_reported(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "groups.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(GroupDetailError) as info:
        load_group_detail(path)

    [problem] = info.value.problems
    assert problem.startswith(f"{path}: {expected}")


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(GroupDetailError, match="expected a readable JSON file, found No such"):
        load_group_detail(tmp_path / "absent.json")


def test_a_callers_list_is_used_as_is() -> None:
    doc = [entry("a")]
    assert load_group_detail(doc) is doc


def test_permissions_by_group_needs_only_names_and_functions() -> None:
    doc = [
        {"group_name": "admins", "allowed_functions": ["protected", "admin_panel"]},
        entry("viewers", allowed_functions=[], group_policy="not checked here"),
    ]

    assert permissions_by_group(doc) == {
        "admins": frozenset({"protected", "admin_panel"}),
        "viewers": frozenset(),
    }


def test_permissions_by_group_reports_what_it_needs() -> None:
    doc = [
        {"group_name": "", "allowed_functions": []},
        {"group_name": "a", "allowed_functions": "protected"},
        {"group_name": "b", "allowed_functions": ["x"]},
        {"group_name": "b", "allowed_functions": ["y"]},
        7,
    ]

    with pytest.raises(GroupDetailError) as info:
        permissions_by_group(doc)

    assert info.value.problems == [
        "entry 0: group_name: expected a non-empty string, found a string ('')",
        "entry 1 ('a'): allowed_functions: expected a list of strings, "
        "found a string ('protected')",
        "entry 3 ('b'): group_name: expected a unique name, found it already used by entry 2",
        "entry 4: expected an object, found a number (7)",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (" False", False),
    ],
)
def test_parse_created(value: object, expected: bool) -> None:
    assert parse_created(value) is expected


@pytest.mark.parametrize("value", ["yes", 1, None, [], "1"])
def test_parse_created_rejects_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match='expected true, false, "true" or "false"'):
        parse_created(value)


def test_created_true_like_keeps_the_callers_type() -> None:
    assert created_true_like("false") == "true"
    assert created_true_like(False) is True


def _nested(depth: int, leaf: Any = "arn:aws:s3:::bucket/*") -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _nested_key(depth: int) -> tuple[Any, ...]:
    # Hashing recurses too (without a limit in C), so a key stays shallower than a value.
    key: tuple[Any, ...] = ()
    for _ in range(depth):
        key = (key,)
    return key


def _policy_with_resource(resource: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
    return {"Version": "2012-10-17", "Statement": [statement]}


# The document's list, the entry, the policy, Statement, the statement: the Resource list
# opens the sixth level.
RESOURCE_LEVEL = 6


@pytest.mark.parametrize("depth", [MAX_NESTING - RESOURCE_LEVEL + 2, 1_000, 100_000])
def test_a_deeply_nested_file_is_a_problem_not_a_recursion_error(
    tmp_path: Path, depth: int
) -> None:
    resource = "[" * depth + '"x"' + "]" * depth
    text = (
        '[{"group_name": "deep", "created": "false", "allowed_functions": [],\n'
        '  "group_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        f'"Action": "s3:GetObject", "Resource": {resource}}}]}}}}]'
    )
    path = tmp_path / "groups.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(GroupDetailError) as info:
        load_group_detail(path)

    [problem] = info.value.problems
    column = text.splitlines()[1].index("[[") + 1 + MAX_NESTING - RESOURCE_LEVEL + 1
    assert problem == (
        f"{path}: expected at most {MAX_NESTING} levels of nesting (IAM policies need "
        f"about 9), found more at line 2, column {column}"
    )


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    resource = '"arn:aws:s3:::[[[[{{{{' + "[" * 100 + '\\"{{' + '"'
    doc = [entry("brackets", group_policy=_policy_with_resource(json.loads(resource)))]
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(doc), encoding="utf-8")

    assert validate_group_detail(load_group_detail(path))[0].name == "brackets"


def test_the_nesting_bound_is_exactly_max_nesting(tmp_path: Path) -> None:
    deepest = MAX_NESTING - RESOURCE_LEVEL + 1  # Resource lists reaching level MAX_NESTING
    path = tmp_path / "groups.json"
    path.write_text(
        json.dumps([entry("edge", group_policy=_policy_with_resource(_nested(deepest)))])
    )

    [spec] = validate_group_detail(load_group_detail(path))
    assert spec.name == "edge"
    assert problems_of([entry("over", group_policy=_policy_with_resource(_nested(deepest + 1)))])
    path.write_text(
        json.dumps([entry("over", group_policy=_policy_with_resource(_nested(deepest + 1)))])
    )
    with pytest.raises(GroupDetailError, match="levels of nesting"):
        load_group_detail(path)


def test_a_deeply_nested_list_is_reported_with_every_other_problem() -> None:
    cyclic = _policy_with_resource("x")
    cyclic["Statement"].append(cyclic)
    doc = [
        entry("deep-policy", group_policy=_policy_with_resource(_nested(100_000))),
        entry("cyclic", group_policy=cyclic),
        entry(_nested(100_000)),  # type: ignore[arg-type]
        _nested(100_000),
        {**entry("odd-field"), _nested_key(5_000): 1},
        entry("deep-precedence", precedence=_nested(100_000)),
    ]

    problems = problems_of(doc)

    too_deep = f"expected at most {MAX_NESTING} levels of nesting (IAM policies need about 9)"
    assert problems == [
        f"entry 0 ('deep-policy'): group_policy: {too_deep}, found more",
        f"entry 1 ('cyclic'): group_policy: {too_deep}, found more",
        "entry 2: group_name: expected a string, found a list ([[[[...]]]])",
        "entry 3: expected an object, found a list ([[[[...]]]])",
        "entry 4 ('odd-field'): expected only the fields group_name, group_policy, created, "
        "allowed_functions, description, precedence, role_name, found ((((...),),),)",
        "entry 5 ('deep-precedence'): precedence: expected an integer from 0 to 2147483647, "
        "found a list ([[[[...]]]])",
    ]
    with pytest.raises(GroupDetailError, match=r"found a list \(\[\[\[\[\.\.\.\]\]\]\]\)"):
        permissions_by_group([{"group_name": "a", "allowed_functions": _nested(100_000)}])


def test_a_policy_with_more_values_than_the_quota_is_refused_before_it_is_serialised() -> None:
    wide = _policy_with_resource(["*"] * (INLINE_POLICY_MAX + 1))

    [problem] = problems_of([entry("wide", group_policy=wide)])

    assert problem == (
        f"entry 0 ('wide'): group_policy: expected at most {INLINE_POLICY_MAX} characters "
        f"(IAM's inline policy quota), found more than {INLINE_POLICY_MAX} values"
    )


@contextlib.contextmanager
def _frames_to_spare(frames: int) -> Iterator[None]:
    # A low recursion limit stands for a busy stack, or Python 3.10's smaller margins.
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def test_nothing_recurses_beyond_the_bound_even_with_little_stack_left(tmp_path: Path) -> None:
    deepest = _policy_with_resource(_nested(MAX_NESTING - RESOURCE_LEVEL + 1))
    path = tmp_path / "groups.json"
    path.write_text(json.dumps([entry("edge", group_policy=deepest)]))
    deep_path = tmp_path / "deep.json"
    deep_path.write_text("[" * 100_000 + "]" * 100_000)
    deep_list = [entry("deep", group_policy=_policy_with_resource(_nested(100_000)))]
    outcomes: list[object] = []

    with _frames_to_spare(80):
        for attempt in (
            lambda: validate_group_detail(load_group_detail(path)),
            lambda: load_group_detail(deep_path),
            lambda: validate_group_detail(deep_list),
        ):
            try:
                outcomes.append(attempt())
            except Exception as exc:
                outcomes.append(exc)

    assert [s.name for s in outcomes[0]] == ["edge"]  # type: ignore[attr-defined]
    assert all(isinstance(o, GroupDetailError) for o in outcomes[1:]), outcomes
