"""The fields of one entry of the group document, each checked against the services' rules.

Every check appends what it finds wrong to ``problems`` (so that one report lists every
problem of the document) and returns the field's value, or None or False when it is
unusable. ``_groupdetail`` runs them over the whole document.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from cognises._nesting import brief, shape_problem

__all__ = [
    "DESCRIPTION_MAX",
    "GROUP_NAME_MAX",
    "IAM_NAME",
    "INLINE_POLICY_MAX",
    "MAX_NESTING",
    "POLICY_NAME_MAX",
    "PRECEDENCE_MAX",
    "ROLE_NAME_MAX",
    "TOO_DEEP",
    "check_description",
    "check_functions",
    "check_group_name",
    "check_iam_name",
    "check_policy",
    "check_precedence",
    "check_role_name",
    "described",
    "where_of",
]

# Service limits, from the Cognito and IAM API references.
GROUP_NAME_MAX = 128
DESCRIPTION_MAX = 2048
PRECEDENCE_MAX = 2**31 - 1
ROLE_NAME_MAX = 64
POLICY_NAME_MAX = 128
# IAM's quota for all inline policies of one role together; it does not count whitespace,
# which is why the compact serialisation is what gets measured.
INLINE_POLICY_MAX = 10_240
# IAM policies are shallow: document > entry > group_policy > Statement > statement >
# Condition > operator > key > values is 9 levels. json and repr recurse once per level
# and fail with RecursionError near the interpreter's limit (see _nesting), so the
# document's nesting is bounded far below that, and checked before anything recurses.
MAX_NESTING = 32
TOO_DEEP = f"expected at most {MAX_NESTING} levels of nesting (IAM policies need about 9)"
IAM_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
# Cognito group names are letters, marks, symbols, numbers and punctuation: no spaces.
GROUP_NAME_CATEGORIES = frozenset("LMSNP")


def check_group_name(name: object, where: str, problems: list[str]) -> bool:
    if not isinstance(name, str):
        problems.append(f"{where}: group_name: expected a string, found {described(name)}")
        return False
    if not 1 <= len(name) <= GROUP_NAME_MAX:
        problems.append(
            f"{where}: group_name: expected 1 to {GROUP_NAME_MAX} characters, found {len(name)}"
        )
        return False
    bad = sorted({c for c in name if unicodedata.category(c)[0] not in GROUP_NAME_CATEGORIES})
    if bad:
        problems.append(
            "{}: group_name: expected letters, digits, symbols or punctuation (Cognito's "
            "rule), found {}".format(where, ", ".join(repr(c) for c in bad))
        )
        return False
    return True


def check_role_name(
    entry: Mapping[str, Any], derived_name: str, where: str, problems: list[str]
) -> str | None:
    if "role_name" not in entry:
        role_name = derived_name
        label = f"derived role name {role_name!r}"
    else:
        role_name = entry["role_name"]
        label = "role_name"
        if not isinstance(role_name, str):
            problems.append(f"{where}: role_name: expected a string, found {described(role_name)}")
            return None
    return role_name if check_iam_name(label, role_name, ROLE_NAME_MAX, where, problems) else None


def check_iam_name(label: str, value: str, limit: int, where: str, problems: list[str]) -> bool:
    if not 1 <= len(value) <= limit:
        problems.append(
            f"{where}: {label}: expected 1 to {limit} characters (IAM's limit), found {len(value)}"
        )
        return False
    if not IAM_NAME.fullmatch(value):
        bad = sorted({c for c in value if not IAM_NAME.fullmatch(c)})
        problems.append(
            "{}: {}: expected only letters, digits and +=,.@_- (IAM's rule), found {}".format(
                where, label, ", ".join(repr(c) for c in bad)
            )
        )
        return False
    return True


def check_policy(
    entry: Mapping[str, Any], where: str, problems: list[str]
) -> Mapping[str, Any] | None:
    policy = entry["group_policy"]
    if not isinstance(policy, Mapping):
        problems.append(
            f"{where}: group_policy: expected a policy object, found {described(policy)}"
        )
        return None
    ok = True
    if not isinstance(policy.get("Version"), str):
        problems.append(
            f'{where}: group_policy.Version: expected a string such as "2012-10-17", '
            f"found {described(policy.get('Version'))}"
        )
        ok = False
    statement = policy.get("Statement")
    if not isinstance(statement, (list, Mapping)) or not statement:
        problems.append(
            f"{where}: group_policy.Statement: expected a non-empty list or object, "
            f"found {described(statement)}"
        )
        ok = False
    # Bounded first: json.dumps (and later comparisons with what IAM holds) recurse. Each
    # value costs at least one character of the compact JSON that IAM's quota counts.
    shape = shape_problem(
        policy,
        depth=3,  # the document's list, the entry, the policy
        max_depth=MAX_NESTING,
        max_values=INLINE_POLICY_MAX,
    )
    if shape == "depth":
        problems.append(f"{where}: group_policy: {TOO_DEEP}, found more")
        return None
    if shape == "values":
        problems.append(
            f"{where}: group_policy: expected at most {INLINE_POLICY_MAX} characters (IAM's "
            f"inline policy quota), found more than {INLINE_POLICY_MAX} values"
        )
        return None
    try:
        size = len(json.dumps(policy, separators=(",", ":"), allow_nan=False))
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: group_policy: expected plain JSON values, found {exc}")
        return None
    if size > INLINE_POLICY_MAX:
        problems.append(
            f"{where}: group_policy: expected at most {INLINE_POLICY_MAX} characters "
            f"(IAM's inline policy quota), found {size}"
        )
        ok = False
    return policy if ok else None


def check_functions(
    entry: Mapping[str, Any], where: str, problems: list[str]
) -> frozenset[str] | None:
    functions = entry.get("allowed_functions")
    if not isinstance(functions, list) or not all(isinstance(f, str) for f in functions):
        problems.append(
            f"{where}: allowed_functions: expected a list of strings, found {described(functions)}"
        )
        return None
    return frozenset(functions)


def check_description(entry: Mapping[str, Any], where: str, problems: list[str]) -> str | None:
    description = entry.get("description")
    if description is None:
        return None
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
        problems.append(
            f"{where}: description: expected a string of at most {DESCRIPTION_MAX} "
            f"characters, found {described(description)}"
        )
        return None
    return description


def check_precedence(entry: Mapping[str, Any], where: str, problems: list[str]) -> int | None:
    precedence = entry.get("precedence")
    if precedence is None:
        return None
    if (
        isinstance(precedence, bool)
        or not isinstance(precedence, int)
        or not 0 <= precedence <= PRECEDENCE_MAX
    ):
        problems.append(
            f"{where}: precedence: expected an integer from 0 to {PRECEDENCE_MAX}, "
            f"found {described(precedence)}"
        )
        return None
    return precedence


def where_of(index: int, name: object) -> str:
    if isinstance(name, str) and name:
        return f"entry {index} ({name!r})"
    return f"entry {index}"


def described(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    kind = {
        str: "a string",
        int: "a number",
        float: "a number",
        list: "a list",
        tuple: "a list",
        dict: "an object",
    }.get(type(value))
    if kind is None:
        kind = "an object" if isinstance(value, Mapping) else f"a {type(value).__name__}"
    return f"{kind} ({brief(value)})"
