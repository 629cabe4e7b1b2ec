"""The verified claims of a token, as a read-only mapping with typed accessors."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, Literal, cast

__all__ = ["Claims", "is_machine", "scope_list"]


class Claims(Mapping[str, Any]):
    """Claims of a token that passed every check.

    Only a verifier makes these, after checking the types the accessors rely on,
    so the accessors never raise on a verified token. Claims of an ALB's data token
    (``AlbVerifier``) are the user's claims from the IdP: they have no ``token_use`` and
    no client claim, so ``token_use`` and ``client_id`` are None for them.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    @classmethod
    def _adopt(cls, data: dict[str, Any]) -> Claims:
        """Wrap a dict nobody else holds, without copying it (the verifier's hot path)."""
        claims = cls.__new__(cls)
        claims._data = data
        return claims

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        # Verified claims are shared (the result cache hands the same object to every
        # request with that token): give out copies of anything a caller could mutate.
        if type(value) in _ATOMIC:
            return value
        try:
            return _copy(value)
        except RecursionError:
            return _copy_without_recursion(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        # Claims are personal data: show only what identifies the token, not the user.
        return f"Claims(token_use={self.token_use!r}, client_id={self.client_id!r})"

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the claims as a plain dict (JSON-serialisable)."""
        try:
            return cast(dict[str, Any], _copy(self._data))
        except RecursionError:
            return cast(dict[str, Any], _copy_without_recursion(self._data))

    @property
    def sub(self) -> str:
        return cast(str, self._data["sub"]) if "sub" in self._data else ""

    @property
    def username(self) -> str | None:
        value = self._data.get("cognito:username", self._data.get("username"))
        return value if isinstance(value, str) else None

    @property
    def email(self) -> str | None:
        value = self._data.get("email")
        return value if isinstance(value, str) else None

    @property
    def groups(self) -> list[str]:
        """``cognito:groups``, or an empty list when the user is in no group."""
        return list(self._data.get("cognito:groups", ()))

    @property
    def roles(self) -> list[str]:
        """``cognito:roles``: the IAM role ARNs of the user's groups (ID tokens only)."""
        return list(self._data.get("cognito:roles", ()))

    @property
    def preferred_role(self) -> str | None:
        """``cognito:preferred_role``: the role of the user's top group, or None."""
        value = self._data.get("cognito:preferred_role")
        return value if isinstance(value, str) else None

    @property
    def scopes(self) -> list[str]:
        """The ``scope`` of an access token, split on spaces (only ASCII spaces: RFC 6749)."""
        return scope_list(self._data)

    @property
    def is_machine(self) -> bool:
        """True for a machine-to-machine (client credentials) access token.

        Cognito gives every user's access token a ``username``; a client-credentials token
        has none, and its ``sub`` is the app client's id (a user's ``sub`` is a UUID).
        Both must hold: a token that lost its ``username`` to a pre-token-generation
        trigger is still a user's.
        """
        return is_machine(self._data)

    @property
    def token_use(self) -> Literal["id", "access"] | None:
        """``"id"`` or ``"access"``; None for the claims of an ALB's data token."""
        return cast(Literal["id", "access"] | None, self._data.get("token_use"))

    @property
    def client_id(self) -> str | None:
        """The app client of the token: ``aud`` (ID tokens) or ``client_id`` (access tokens).

        None for the claims of an ALB's data token (its client is in the header).
        """
        key = "aud" if self._data.get("token_use") == "id" else "client_id"
        return cast(str | None, self._data.get(key))

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self._data["exp"], tz=timezone.utc)


def is_machine(claims: Mapping[str, Any]) -> bool:
    """Whether verified ``claims`` are a machine's (see ``Claims.is_machine``)."""
    return (
        claims.get("token_use") == "access"
        and "username" not in claims
        and "cognito:username" not in claims
        and isinstance(sub := claims.get("sub"), str)
        and sub == claims.get("client_id")
    )


def scope_list(claims: Mapping[str, Any]) -> list[str]:
    """The scopes of ``claims``: ``scope`` split on ASCII spaces, empty parts dropped.

    Only U+0020 separates scopes (RFC 6749, section 3.3). ``str.split()`` would also split
    on U+00A0, U+2003 and other Unicode spaces, so that a scope "admin\u00a0read" (one
    scope, matching nothing) would grant "admin" and "read".
    """
    value = claims.get("scope")
    return [part for part in value.split(" ") if part] if isinstance(value, str) else []


# What a JSON document is made of, and needs no copy. (bool is an int, but not a subtype
# ``type()`` would report as int, so it is listed.)
_ATOMIC = frozenset({str, int, float, bool, type(None)})


def _copy(value: Any) -> Any:
    """A deep copy of JSON data, several times faster than ``copy.deepcopy``; anything
    that is not JSON data (claims made by hand may hold anything) goes to deepcopy.

    It recurses once per level: claims nested deeper than the stack allows (JSON may nest
    1024 levels; Python 3.10 and 3.11 stop at fewer) raise ``RecursionError``, and the
    callers then copy with ``_copy_without_recursion``, slower but bounded by nothing.
    """
    kind = type(value)
    if kind is list:
        return [v if type(v) in _ATOMIC else _copy(v) for v in value]
    if kind is dict:
        return {k: v if type(v) in _ATOMIC else _copy(v) for k, v in value.items()}
    if kind in _ATOMIC:
        return value
    return copy.deepcopy(value)


def _copy_without_recursion(value: Any) -> Any:
    """``_copy`` with a stack of its own, for JSON data of any depth."""
    kind = type(value)
    if kind is not list and kind is not dict:
        return _copy(value)
    top: Any = [] if kind is list else {}
    # Containers still to fill: (the original, its copy so far).
    work: list[tuple[Any, Any]] = [(value, top)]
    while work:
        source, target = work.pop()
        pairs = enumerate(source) if type(source) is list else source.items()
        for key, item in pairs:
            kind = type(item)
            if kind is list or kind is dict:
                copied: Any = [] if kind is list else {}
                work.append((item, copied))
            else:
                copied = item if kind in _ATOMIC else copy.deepcopy(item)
            if type(target) is list:
                target.append(copied)
            else:
                target[key] = copied
    return top
