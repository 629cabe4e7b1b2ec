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
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from cognises._nesting import brief, json_too_deep_at, shape_problem
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
_TOO_DEEP = f"expected at most {MAX_NESTING} levels of nesting (IAM policies need about 9)"
_IAM_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
# Cognito group names are letters, marks, symbols, numbers and punctuation: no spaces.
_GROUP_NAME_CATEGORIES = frozenset("LMSNP")


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
    if len(name) <= ROLE_NAME_MAX and _IAM_NAME.fullmatch(name):
        return name
    digest = hashlib.sha256(f"{pool_id}\0{group_name}".encode()).hexdigest()[:10]
    head = "".join(c for c in name if _IAM_NAME.fullmatch(c))[:_HASHED_HEAD]
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
    raise ValueError(f'expected true, false, "true" or "false", found {_found(value)}')


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
                [f"{path}: {_TOO_DEEP}, found more at line {line}, column {column}"]
            )
        try:
            document = json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise GroupDetailError([f"{path}: expected JSON, found {exc}"]) from exc
        if not isinstance(document, list):
            raise GroupDetailError(
                [f"{path}: expected a list of group objects, found {_found(document)}"]
            )
        return document
    if isinstance(source, (bytes, bytearray)) or not isinstance(source, Sequence):
        raise GroupDetailError(
            [f"document: expected a list of group objects or a path, found {_found(source)}"]
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
        where = _where(index, name)
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
            problems.append(f"entry {index}: expected an object, found {_found(entry)}")
            continue
        name = entry.get("group_name")
        where = _where(index, name)
        name_ok = isinstance(name, str) and name != ""
        if not name_ok:
            problems.append(
                f"{where}: group_name: expected a non-empty string, found {_found(name)}"
            )
        functions = _check_functions(entry, where, problems)
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
        problems.append(f"entry {index}: expected an object, found {_found(entry)}")
        return None
    name = entry.get("group_name")
    where = _where(index, name)
    for key in REQUIRED_FIELDS:
        if key not in entry:
            problems.append(f"{where}: {key}: expected a value, found none (missing field)")
    for key in entry:
        if key not in REQUIRED_FIELDS and key not in OPTIONAL_FIELDS:
            known = ", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS)
            problems.append(f"{where}: expected only the fields {known}, found {brief(key)}")

    name_ok = "group_name" in entry and _check_group_name(name, where, problems)
    group_policy = _check_policy(entry, where, problems) if "group_policy" in entry else None
    created: bool | None = None
    if "created" in entry:
        try:
            created = parse_created(entry["created"])
        except ValueError as exc:
            problems.append(f"{where}: created: {exc}")
    functions = _check_functions(entry, where, problems) if "allowed_functions" in entry else None
    description = _check_description(entry, where, problems)
    precedence = _check_precedence(entry, where, problems)

    role_name: str | None = None
    if name_ok:
        assert isinstance(name, str)
        role_name = _check_role_name(entry, derived(name), where, problems)
        policy = policy_name_for(name)
        _check_iam_name(f"policy name {policy!r}", policy, POLICY_NAME_MAX, where, problems)

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


def _check_group_name(name: object, where: str, problems: list[str]) -> bool:
    if not isinstance(name, str):
        problems.append(f"{where}: group_name: expected a string, found {_found(name)}")
        return False
    if not 1 <= len(name) <= GROUP_NAME_MAX:
        problems.append(
            f"{where}: group_name: expected 1 to {GROUP_NAME_MAX} characters, found {len(name)}"
        )
        return False
    bad = sorted({c for c in name if unicodedata.category(c)[0] not in _GROUP_NAME_CATEGORIES})
    if bad:
        problems.append(
            "{}: group_name: expected letters, digits, symbols or punctuation (Cognito's "
            "rule), found {}".format(where, ", ".join(repr(c) for c in bad))
        )
        return False
    return True


def _check_role_name(
    entry: Mapping[str, Any], derived_name: str, where: str, problems: list[str]
) -> str | None:
    if "role_name" not in entry:
        role_name = derived_name
        label = f"derived role name {role_name!r}"
    else:
        role_name = entry["role_name"]
        label = "role_name"
        if not isinstance(role_name, str):
            problems.append(f"{where}: role_name: expected a string, found {_found(role_name)}")
            return None
    return role_name if _check_iam_name(label, role_name, ROLE_NAME_MAX, where, problems) else None


def _check_iam_name(label: str, value: str, limit: int, where: str, problems: list[str]) -> bool:
    if not 1 <= len(value) <= limit:
        problems.append(
            f"{where}: {label}: expected 1 to {limit} characters (IAM's limit), found {len(value)}"
        )
        return False
    if not _IAM_NAME.fullmatch(value):
        bad = sorted({c for c in value if not _IAM_NAME.fullmatch(c)})
        problems.append(
            "{}: {}: expected only letters, digits and +=,.@_- (IAM's rule), found {}".format(
                where, label, ", ".join(repr(c) for c in bad)
            )
        )
        return False
    return True


def _check_policy(
    entry: Mapping[str, Any], where: str, problems: list[str]
) -> Mapping[str, Any] | None:
    policy = entry["group_policy"]
    if not isinstance(policy, Mapping):
        problems.append(f"{where}: group_policy: expected a policy object, found {_found(policy)}")
        return None
    ok = True
    if not isinstance(policy.get("Version"), str):
        problems.append(
            f'{where}: group_policy.Version: expected a string such as "2012-10-17", '
            f"found {_found(policy.get('Version'))}"
        )
        ok = False
    statement = policy.get("Statement")
    if not isinstance(statement, (list, Mapping)) or not statement:
        problems.append(
            f"{where}: group_policy.Statement: expected a non-empty list or object, "
            f"found {_found(statement)}"
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
        problems.append(f"{where}: group_policy: {_TOO_DEEP}, found more")
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


def _check_functions(
    entry: Mapping[str, Any], where: str, problems: list[str]
) -> frozenset[str] | None:
    functions = entry.get("allowed_functions")
    if not isinstance(functions, list) or not all(isinstance(f, str) for f in functions):
        problems.append(
            f"{where}: allowed_functions: expected a list of strings, found {_found(functions)}"
        )
        return None
    return frozenset(functions)


def _check_description(entry: Mapping[str, Any], where: str, problems: list[str]) -> str | None:
    description = entry.get("description")
    if description is None:
        return None
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
        problems.append(
            f"{where}: description: expected a string of at most {DESCRIPTION_MAX} "
            f"characters, found {_found(description)}"
        )
        return None
    return description


def _check_precedence(entry: Mapping[str, Any], where: str, problems: list[str]) -> int | None:
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
            f"found {_found(precedence)}"
        )
        return None
    return precedence


def _where(index: int, name: object) -> str:
    if isinstance(name, str) and name:
        return f"entry {index} ({name!r})"
    return f"entry {index}"


def _found(value: object) -> str:
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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name}, which is not valid JSON")
