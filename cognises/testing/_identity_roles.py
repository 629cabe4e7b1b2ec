"""``GetIdentityPoolRoles`` and ``SetIdentityPoolRoles`` for the local emulator.

moto serves identity pools (``CreateIdentityPool``, ``GetId``, ``GetCredentialsForIdentity``)
but not their roles, so this WSGI middleware answers those two actions itself, in front
of moto, and passes every other request through. What it serves follows the Cognito
Identity API reference (API_GetIdentityPoolRoles, API_SetIdentityPoolRoles):

- requests and responses are the documented JSON shapes: ``Set`` takes
  ``IdentityPoolId``, ``Roles`` (keys ``authenticated``/``unauthenticated``, values role
  ARNs) and ``RoleMappings`` (at most 10, keyed by provider, each ``Type`` ``Token`` or
  ``Rules``, ``AmbiguousRoleResolution`` ``AuthenticatedRole`` or ``Deny``, ``Rules`` with
  1 to 25 rules of ``Claim``/``MatchType``/``Value``/``RoleARN``) and answers an empty
  body; ``Get`` answers ``IdentityPoolId``, ``Roles`` and ``RoleMappings``;
- a bad or missing parameter is ``InvalidParameterException``, an identity pool that moto
  does not hold (read from moto's own backend, by region and account) is
  ``ResourceNotFoundException``, both as HTTP 400 with the JSON 1.1 error document.

Where it may differ from AWS: the exact wording of messages; AWS reports length and
pattern violations of ``IdentityPoolId`` as a ``ValidationException`` before the call
reaches the service, here they are ``InvalidParameterException``; a mapping key must be
one of the pool's providers (``<ProviderName>:<ClientId>`` of its Cognito providers, or
one of its OpenID Connect or SAML provider ARNs, or a supported login provider), which
is how AWS behaves as far as its documentation says, but unverified against every case;
no IAM check that the role ARNs exist (AWS does not check either at this call); and no
``ConcurrentModificationException`` (writes are serialised by a lock).

The mappings are kept on ``IdentityRoles.pools``, keyed by identity pool id, so that a
``GetCredentialsForIdentity`` that honours them can read them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["IdentityRoles"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_TARGET = "AWSCognitoIdentityService."
_POOL_ID = re.compile(r"[\w-]+:[0-9a-f-]+")
_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/[\x21-\x7e]+")
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")
_ROLE_KEYS = frozenset({"authenticated", "unauthenticated"})
_TYPES = frozenset({"Token", "Rules"})
_AMBIGUOUS = frozenset({"AuthenticatedRole", "Deny"})
_MATCH_TYPES = frozenset({"Equals", "Contains", "StartsWith", "NotEqual"})
_MAX_MAPPINGS = 10
_MAX_RULES = 25


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IdentityRoles:
    """WSGI middleware: the identity pools' roles and role mappings, in front of moto."""

    def __init__(self, app: WSGIApp, *, account_id: str = "123456789012") -> None:
        self.app = app
        self.account_id = account_id
        self.pools: dict[str, dict[str, Any]] = {}
        """identity pool id -> ``{"Roles": {...}, "RoleMappings": {...}}`` as last set."""
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target[len(_TARGET) :] if target.startswith(_TARGET) else ""
        if action not in ("GetIdentityPoolRoles", "SetIdentityPoolRoles"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b"{}"
        region = _region(environ)
        try:
            try:
                request = json.loads(body)
            except ValueError as exc:
                raise _Refused("InvalidParameterException", f"request is not JSON: {exc}") from exc
            if not isinstance(request, dict):
                raise _Refused("InvalidParameterException", "request is not a JSON object")
            if action == "GetIdentityPoolRoles":
                answer = self._get(request, region)
            else:
                answer = self._set(request, region)
        except _Refused as refused:
            return _respond(
                start_response,
                "400 Bad Request",
                {"__type": refused.code, "message": refused.message},
            )
        return _respond(start_response, "200 OK", answer)

    def _get(self, request: Mapping[str, Any], region: str) -> dict[str, Any]:
        pool_id = _pool_id(request)
        self._identity_pool(pool_id, region)
        with self._lock:
            stored = self.pools.get(pool_id, {})
            return {
                "IdentityPoolId": pool_id,
                "Roles": dict(stored.get("Roles", {})),
                "RoleMappings": json.loads(json.dumps(stored.get("RoleMappings", {}))),
            }

    def _set(self, request: Mapping[str, Any], region: str) -> dict[str, Any]:
        pool_id = _pool_id(request)
        if "Roles" not in request:
            raise _Refused("InvalidParameterException", "Roles: a value is required")
        roles = _roles(request["Roles"])
        pool = self._identity_pool(pool_id, region)
        mappings = _mappings(request.get("RoleMappings", {}), _providers(pool))
        with self._lock:
            self.pools[pool_id] = {"Roles": roles, "RoleMappings": mappings}
        return {}

    def _identity_pool(self, pool_id: str, region: str) -> Any:
        from moto.cognitoidentity.models import cognitoidentity_backends

        backend = cognitoidentity_backends[self.account_id][region]
        pool = backend.identity_pools.get(pool_id)
        if pool is None:
            with self._lock:
                self.pools.pop(pool_id, None)  # deleted in moto since it was set
            raise _Refused("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
        return pool


def _pool_id(request: Mapping[str, Any]) -> str:
    pool_id = request.get("IdentityPoolId")
    if (
        not isinstance(pool_id, str)
        or not 1 <= len(pool_id) <= 55
        or not _POOL_ID.fullmatch(pool_id)
    ):
        raise _Refused(
            "InvalidParameterException",
            f"IdentityPoolId: expected REGION:GUID (at most 55 characters), found {pool_id!r}",
        )
    return pool_id


def _roles(roles: object) -> dict[str, str]:
    if not isinstance(roles, dict):
        raise _Refused("InvalidParameterException", "Roles: expected a map")
    for key, arn in roles.items():
        if key not in _ROLE_KEYS:
            raise _Refused(
                "InvalidParameterException",
                f"Roles: keys must be 'authenticated' or 'unauthenticated', found {key!r}",
            )
        if not isinstance(arn, str) or not 20 <= len(arn) <= 2048 or not _ROLE_ARN.fullmatch(arn):
            raise _Refused("InvalidParameterException", f"Roles.{key}: not a role ARN: {arn!r}")
    return dict(roles)


def _providers(pool: Any) -> set[str]:
    providers = {
        f"{p.get('ProviderName')}:{p.get('ClientId')}"
        for p in pool.cognito_identity_providers or []
    }
    providers.update(pool.open_id_connect_provider_arns or [])
    providers.update(pool.saml_provider_arns or [])
    providers.update(pool.supported_login_providers or {})
    return providers


def _mappings(mappings: object, providers: set[str]) -> dict[str, Any]:
    if not isinstance(mappings, dict):
        raise _Refused("InvalidParameterException", "RoleMappings: expected a map")
    if len(mappings) > _MAX_MAPPINGS:
        raise _Refused(
            "InvalidParameterException",
            f"RoleMappings: at most {_MAX_MAPPINGS} entries, found {len(mappings)}",
        )
    checked: dict[str, Any] = {}
    for key, mapping in mappings.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise _Refused("InvalidParameterException", f"RoleMappings: bad key {key!r}")
        if key not in providers:
            raise _Refused(
                "InvalidParameterException",
                f"RoleMappings: {key!r} is not a provider of the identity pool",
            )
        checked[key] = _mapping(key, mapping)
    return checked


def _mapping(key: str, mapping: object) -> dict[str, Any]:
    if not isinstance(mapping, dict) or mapping.get("Type") not in _TYPES:
        raise _Refused(
            "InvalidParameterException", f"RoleMappings.{key}.Type: expected Token or Rules"
        )
    ambiguous = mapping.get("AmbiguousRoleResolution")
    if ambiguous not in _AMBIGUOUS:
        raise _Refused(
            "InvalidParameterException",
            f"RoleMappings.{key}.AmbiguousRoleResolution: expected AuthenticatedRole or Deny "
            f"(required for Token and Rules), found {ambiguous!r}",
        )
    result: dict[str, Any] = {"Type": mapping["Type"], "AmbiguousRoleResolution": ambiguous}
    if mapping["Type"] == "Rules":
        rules = (mapping.get("RulesConfiguration") or {}).get("Rules")
        if not isinstance(rules, list) or not 1 <= len(rules) <= _MAX_RULES:
            raise _Refused(
                "InvalidParameterException",
                f"RoleMappings.{key}.RulesConfiguration.Rules: expected 1 to {_MAX_RULES} rules",
            )
        for rule in rules:
            if (
                not isinstance(rule, dict)
                or not isinstance(rule.get("Claim"), str)
                or not 1 <= len(rule["Claim"]) <= 64
                or rule.get("MatchType") not in _MATCH_TYPES
                or not isinstance(rule.get("Value"), str)
                or not 1 <= len(rule["Value"]) <= 128
                or not isinstance(rule.get("RoleARN"), str)
                or not _ROLE_ARN.fullmatch(rule["RoleARN"])
            ):
                raise _Refused(
                    "InvalidParameterException", f"RoleMappings.{key}: bad rule {rule!r}"
                )
        result["RulesConfiguration"] = {"Rules": [dict(r) for r in rules]}
    return result


def _region(environ: Mapping[str, Any]) -> str:
    found = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
    return found.group(1) if found else "us-east-1"


def _respond(start_response: StartResponse, status: str, document: Any) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response(
        status,
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]
