"""The group document: loading, validation, and the names derived from it. No AWS here.

The format is the seed's: a JSON list of objects with ``group_name``, ``group_policy``,
``created`` and ``allowed_functions``, plus optional ``description``, ``precedence`` and
``role_name``. Validation looks at the whole document and reports every problem at once,
so that a broken document costs one edit, not one edit per run, and no AWS call is made
before the document is known to be good.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from cognises._groupfields import (
    IAM_NAME,
    MAX_NESTING,
    POLICY_NAME_MAX,
    ROLE_NAME_MAX,
    TOO_DEEP,
    check_description,
    check_functions,
    check_group_name,
    check_iam_name,
    check_policy,
    check_precedence,
    check_role_name,
    described,
    where_of,
)
from cognises._nesting import brief, json_too_deep_at
from cognises.errors import GroupDetailError

__all__ = [
    "GroupDetailSource",
    "GroupSpec",
    "created_true_like",
    "default_role_name",
    "load_group_detail",
    "parse_created",
    "permissions_by_group",
    "policy_name_for",
    "precedence_warnings",
    "role_name_for",
    "validate_group_detail",
]

GroupDetailSource: TypeAlias = "Sequence[Any] | str | os.PathLike[str]"

REQUIRED_FIELDS = ("group_name", "group_policy", "created", "allowed_functions")
OPTIONAL_FIELDS = ("description", "precedence", "role_name")


@dataclass(frozen=True)
class GroupSpec:
    """One validated entry of the document, with the names derived from it."""

    index: int
    name: str
    policy: Mapping[str, Any]
    role_name: str
    policy_name: str
    created: bool
    allowed_functions: frozenset[str]
    description: str | None = None
    precedence: int | None = None
    role_name_given: bool = False
    """Whether the document named the role (``role_name``) rather than leaving the default."""


def role_name_for(group_name: str) -> str:
    """The role name the seed and earlier cognises versions gave a group: ``role_<group_name>``.

    No longer the default, since it collides between user pools of one account; kept
    so that a group still linked to such a role is recognised (and needs ``adopt``).
    """
    return f"role_{group_name}"


_HASHED_HEAD = ROLE_NAME_MAX - 11  # room for "-" and ten hex digits


def default_role_name(pool_id: str, group_name: str) -> str:
    """The role name cognises gives a group: ``<pool_id>-<group_name>``, unique per pool.

    When that is longer than IAM's 64 characters or holds characters IAM refuses, it is
    the name's first allowed characters, ``-`` and ten hex digits of a SHA-256 of the
    pool id and the group name: still deterministic, still unique per pool and group.
    """
    name = f"{pool_id}-{group_name}"
    if len(name) <= ROLE_NAME_MAX and IAM_NAME.fullmatch(name):
        return name
    digest = hashlib.sha256(f"{pool_id}\0{group_name}".encode()).hexdigest()[:10]
    head = "".join(c for c in name if IAM_NAME.fullmatch(c))[:_HASHED_HEAD]
    return f"{head}-{digest}"


def policy_name_for(group_name: str) -> str:
    """The seed's inline policy name for a group: ``<group_name>_policy``.

    Kept so that roles provisioned by the seed are adopted, not duplicated.
    """
    return f"{group_name}_policy"


def parse_created(value: object) -> bool:
    """The ``created`` flag as a bool: ``True``/``False`` or the seed's ``"true"``/``"false"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f'expected true, false, "true" or "false", found {described(value)}')


def created_true_like(value: object) -> bool | str:
    """``true`` in the type the caller used for ``created``: a string stays a string."""
    return "true" if isinstance(value, str) else True


def load_group_detail(source: GroupDetailSource) -> list[Any]:
    """The document as a list: ``source`` itself if it is one, else the JSON file it names.

    A list given by the caller is returned as is (not copied), so that flags set on its
    entries are visible to the caller.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise GroupDetailError(
                [f"{path}: expected a readable JSON file, found {exc.strerror or exc}"]
            ) from exc
        deep_at = json_too_deep_at(text, MAX_NESTING)
        if deep_at is not None:
            line = text.count("\n", 0, deep_at) + 1
            column = deep_at - text.rfind("\n", 0, deep_at)
            raise GroupDetailError(
                [f"{path}: {TOO_DEEP}, found more at line {line}, column {column}"]
            )
        try:
            document = json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise GroupDetailError([f"{path}: expected JSON, found {exc}"]) from exc
        if not isinstance(document, list):
            raise GroupDetailError(
                [f"{path}: expected a list of group objects, found {described(document)}"]
            )
        return document
    if isinstance(source, (bytes, bytearray)) or not isinstance(source, Sequence):
        raise GroupDetailError(
            [f"document: expected a list of group objects or a path, found {described(source)}"]
        )
    return source if isinstance(source, list) else list(source)


def validate_group_detail(
    document: Sequence[Any], *, pool_id: str | None = None
) -> tuple[GroupSpec, ...]:
    """Check every entry; raise one ``GroupDetailError`` listing every problem found.

    Roles the document does not name get ``default_role_name(pool_id, group)``; with no
    ``pool_id`` (checking a document alone), the seed's ``role_<group>``.
    """
    problems: list[str] = []
    specs: list[GroupSpec] = []
    first_index_of_group: dict[str, int] = {}
    first_role: dict[str, tuple[int, str]] = {}  # by lowercased role name

    def derived(name: str) -> str:
        return role_name_for(name) if pool_id is None else default_role_name(pool_id, name)

    for index, entry in enumerate(document):
        spec = _check_entry(index, entry, problems, derived)
        if spec is not None:
            specs.append(spec)
        # Duplicates are looked for even among entries with other problems, so that the
        # one report really holds everything that needs fixing.
        if not isinstance(entry, Mapping) or not isinstance(entry.get("group_name"), str):
            continue
        name = entry["group_name"]
        role_name = entry["role_name"] if "role_name" in entry else derived(name)
        where = where_of(index, name)
        if name in first_index_of_group:
            # Its role name is then a duplicate too; one problem is enough to report.
            problems.append(
                f"{where}: group_name: expected a unique name, found it already used by "
                f"entry {first_index_of_group[name]}"
            )
            continue
        first_index_of_group[name] = index
        if not isinstance(role_name, str):
            continue
        # IAM role names are unique regardless of case: "Admins" and "admins" are one role.
        seen = first_role.get(role_name.lower())
        if seen is not None:
            earlier, earlier_name = seen
            as_written = "" if earlier_name == role_name else f" as {earlier_name!r}"
            problems.append(
                f"{where}: role name {role_name!r}: expected one role per group, found it "
                f"already used by entry {earlier}{as_written}"
            )
        else:
            first_role[role_name.lower()] = (index, role_name)
    if problems:
        raise GroupDetailError(problems)
    return tuple(specs)


def permissions_by_group(source: GroupDetailSource) -> dict[str, frozenset[str]]:
    """``group_name -> allowed_functions``, for permission checks in a web app.

    Only the two fields it uses are validated, so a document that a provisioning run
    would reject for, say, a long role name still serves permissions.
    """
    document = load_group_detail(source)
    problems: list[str] = []
    permissions: dict[str, frozenset[str]] = {}
    first_index: dict[str, int] = {}
    for index, entry in enumerate(document):
        if not isinstance(entry, Mapping):
            problems.append(f"entry {index}: expected an object, found {described(entry)}")
            continue
        name = entry.get("group_name")
        where = where_of(index, name)
        name_ok = isinstance(name, str) and name != ""
        if not name_ok:
            problems.append(
                f"{where}: group_name: expected a non-empty string, found {described(name)}"
            )
        functions = check_functions(entry, where, problems)
        if not name_ok or functions is None:
            continue
        assert isinstance(name, str)
        if name in first_index:
            problems.append(
                f"{where}: group_name: expected a unique name, found it already used by "
                f"entry {first_index[name]}"
            )
            continue
        first_index[name] = index
        permissions[name] = functions
    if problems:
        raise GroupDetailError(problems)
    return permissions


def precedence_warnings(specs: Sequence[GroupSpec]) -> list[str]:
    """Groups sharing a precedence: Cognito then puts no ``cognito:preferred_role`` claim
    in the tokens of a user in both (their roles differ: one role per group)."""
    by_precedence: dict[int, list[str]] = {}
    for spec in specs:
        if spec.precedence is not None:
            by_precedence.setdefault(spec.precedence, []).append(spec.name)
    return [
        f"groups {', '.join(repr(n) for n in names)} share precedence {precedence} with "
        "different roles: a user in more than one of them gets no cognito:preferred_role "
        "claim, so an identity pool mapping by token cannot choose a role for them"
        for precedence, names in sorted(by_precedence.items())
        if len(names) > 1
    ]


def _check_entry(
    index: int, entry: object, problems: list[str], derived: Callable[[str], str]
) -> GroupSpec | None:
    known_problems = len(problems)
    if not isinstance(entry, Mapping):
        problems.append(f"entry {index}: expected an object, found {described(entry)}")
        return None
    name = entry.get("group_name")
    where = where_of(index, name)
    for key in REQUIRED_FIELDS:
        if key not in entry:
            problems.append(f"{where}: {key}: expected a value, found none (missing field)")
    for key in entry:
        if key not in REQUIRED_FIELDS and key not in OPTIONAL_FIELDS:
            known = ", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS)
            problems.append(f"{where}: expected only the fields {known}, found {brief(key)}")

    name_ok = "group_name" in entry and check_group_name(name, where, problems)
    group_policy = check_policy(entry, where, problems) if "group_policy" in entry else None
    created: bool | None = None
    if "created" in entry:
        try:
            created = parse_created(entry["created"])
        except ValueError as exc:
            problems.append(f"{where}: created: {exc}")
    functions = check_functions(entry, where, problems) if "allowed_functions" in entry else None
    description = check_description(entry, where, problems)
    precedence = check_precedence(entry, where, problems)

    role_name: str | None = None
    if name_ok:
        assert isinstance(name, str)
        role_name = check_role_name(entry, derived(name), where, problems)
        policy = policy_name_for(name)
        check_iam_name(f"policy name {policy!r}", policy, POLICY_NAME_MAX, where, problems)

    # Whatever is None here has put its problem on the list; the test also narrows types.
    if (
        len(problems) > known_problems
        or not isinstance(name, str)
        or group_policy is None
        or created is None
        or functions is None
        or role_name is None
    ):
        return None
    return GroupSpec(
        index=index,
        name=name,
        policy=group_policy,
        role_name=role_name,
        policy_name=policy_name_for(name),
        created=created,
        allowed_functions=functions,
        description=description,
        precedence=precedence,
        role_name_given="role_name" in entry,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name}, which is not valid JSON")
