"""What moto lacks for identity-pool credentials, added in front of its WSGI app.

Real Cognito does three things here that moto 5.2 does not, and cognises' tests, demo and
users' tests need them to see which role a user's credentials are for:

- **Roles in ID tokens.** When a user's groups have IAM roles, Cognito puts them in the
  ID token: ``cognito:roles`` (the roles of all the user's groups) and
  ``cognito:preferred_role`` (the role of the group with the lowest ``Precedence``; groups
  without a precedence come last; omitted when the best groups tie with different roles).
  moto's tokens carry neither, so ID tokens in ``AdminInitiateAuth``, ``InitiateAuth`` and
  ``RespondToAuthChallenge`` answers are re-signed with moto's own key, these two claims
  added. Access tokens are left as they are (Cognito puts no roles in them).
- **GetId** checks the ``Logins``, as AWS does: each provider must be one of the identity
  pool's Cognito providers, and its token a valid ID token of that pool and one of the
  provider's app clients; else ``NotAuthorizedException``. The identity id is stable per
  identity pool and user (moto makes a new one per call).
- **GetCredentialsForIdentity** chooses the role from the identity pool's role mapping for
  the provider ``cognito-idp.<region>.amazonaws.com/<pool>:<client>`` (type ``Token``: a
  ``CustomRoleArn`` that is one of ``cognito:roles``, else ``cognito:preferred_role``, else
  ``AmbiguousRoleResolution``: the pool's authenticated role or ``Deny``), then issues
  credentials through moto's STS ``AssumeRoleWithWebIdentity`` for that role, so that
  ``sts.get_caller_identity()`` with them names the role. Without a mapping, the pool's
  default authenticated role is used, as AWS does.

Where this may differ from AWS: the error codes of refusals (AWS's documentation does not
say which code an ambiguous ``Deny`` gives; here it is
``InvalidIdentityPoolConfigurationException``, as for a pool without an authenticated
role), their messages, ``Rules`` mappings (not implemented: refused with
``InvalidParameterException``), and the trust policy of the role (STS here does not check
it). The role mappings are read through ``role_mappings``, a callable given the identity
pool id and returning ``GetIdentityPoolRoles``' ``Roles`` and ``RoleMappings``.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from cognises.testing._wsgi import (
    StartResponse,
    WSGIApp,
    call,
    json_answer,
    json_error,
    read_json,
    unverified_claims,
)

__all__ = ["INTERNAL_HEADER", "IdentityExtras", "RoleMappings"]

# identity pool id -> {"Roles": {...}, "RoleMappings": {...}} as GetIdentityPoolRoles gives.
RoleMappings = Callable[[str], dict[str, Any]]

_IDP = "AWSCognitoIdentityProviderService."
_IDENTITY = "AWSCognitoIdentityService."
_AUTH_ACTIONS = frozenset({"AdminInitiateAuth", "InitiateAuth", "RespondToAuthChallenge"})


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _moto_key(name: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("moto.cognitoidp")
    assert spec is not None
    assert spec.origin is not None
    with gzip.open(Path(spec.origin).parent / "resources" / name, "rt") as f:
        return json.load(f)  # type: ignore[no-any-return]


INTERNAL_HEADER = "X-Cognises-Emulator"


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers[INTERNAL_HEADER] = "internal"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class IdentityExtras:
    """WSGI middleware: roles in ID tokens, and identity-pool credentials for those roles."""

    def __init__(
        self, app: WSGIApp, *, endpoint: Callable[[], str], role_mappings: RoleMappings
    ) -> None:
        self.app = app
        self._endpoint = endpoint
        self._role_mappings = role_mappings
        self._private = RSAKey.import_key(_moto_key("jwks-private.json.gz"))
        self._public = KeySet.import_key_set(_moto_key("jwks-public.json.gz"))  # type: ignore[arg-type]
        self._lock = threading.Lock()
        # (identity pool, user pool, sub) -> identity id, and back.
        self._identities: dict[tuple[str, str, str], str] = {}
        self._owners: dict[str, tuple[str, str, str]] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self.calls: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(_IDENTITY):
            action = target[len(_IDENTITY) :]
            if action in ("GetId", "GetCredentialsForIdentity"):
                with self._lock:
                    self.calls.append(action)
                return self._answer(environ, start_response, action)
        if target.startswith(_IDP) and target[len(_IDP) :] in _AUTH_ACTIONS:
            return self._with_roles(environ, start_response)
        return self.app(environ, start_response)

    # -- helpers -------------------------------------------------------------------------------

    def _client(self, service: str, region: str) -> Any:
        import boto3

        client = self._clients.get((service, region))
        if client is None:
            client = self._clients[service, region] = boto3.client(  # type: ignore[call-overload]
                service,
                region_name=region,
                endpoint_url=self._endpoint(),
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            # Marked, so that the fault injector neither counts nor delays our own reads.
            client.meta.events.register("before-send", _mark_internal)
        return client

    def _answer(
        self, environ: dict[str, Any], start_response: StartResponse, action: str
    ) -> list[bytes]:
        request = read_json(environ)
        try:
            result = self._get_id(request) if action == "GetId" else self._credentials(request)
        except _Refusal as refusal:
            return json_error(start_response, refusal.code, refusal.message)
        return json_answer(start_response, json.dumps(result).encode())

    def _identity_pool(self, identity_pool_id: str) -> dict[str, Any]:
        identity = self._client("cognito-identity", identity_pool_id.split(":")[0])
        try:
            return identity.describe_identity_pool(IdentityPoolId=identity_pool_id)  # type: ignore[no-any-return]
        except identity.exceptions.ResourceNotFoundException as exc:
            raise _Refusal(
                "ResourceNotFoundException", f"IdentityPool '{identity_pool_id}' not found."
            ) from exc

    def _login(self, pool: dict[str, Any], logins: object) -> tuple[str, str, dict[str, Any]]:
        """The one Cognito user-pool login of ``logins``: (provider, client, claims)."""
        if not isinstance(logins, dict) or not logins:
            raise _Refusal("NotAuthorizedException", "Unauthenticated access is not supported.")
        if len(logins) != 1:
            raise _Refusal("NotAuthorizedException", "expected one login provider")
        ((provider, token),) = logins.items()
        providers = {
            (p["ProviderName"], p.get("ClientId")) for p in pool.get("CognitoIdentityProviders", [])
        }
        names = {name for name, _ in providers}
        if provider not in names:
            raise _Refusal(
                "NotAuthorizedException",
                f"Invalid login token. Can't accept a token from {provider}.",
            )
        try:
            claims = dict(jwt.decode(token, self._public, algorithms=["RS256"]).claims)
        except (JoseError, ValueError) as exc:
            raise _Refusal("NotAuthorizedException", "Invalid login token.") from exc
        client = claims.get("aud")
        expected_issuer = f"https://{provider}"
        if (
            claims.get("token_use") != "id"
            or claims.get("iss") != expected_issuer
            or (provider, client) not in providers
        ):
            raise _Refusal("NotAuthorizedException", "Invalid login token. Issuer doesn't match.")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise _Refusal("NotAuthorizedException", "Invalid login token. Token expired.")
        return provider, str(client), claims

    def _get_id(self, request: dict[str, Any]) -> dict[str, Any]:
        pool_id = str(request.get("IdentityPoolId", ""))
        pool = self._identity_pool(pool_id)
        provider, _, claims = self._login(pool, request.get("Logins"))
        key = (pool_id, provider, str(claims["sub"]))
        with self._lock:
            identity_id = self._identities.get(key)
            if identity_id is None:
                identity_id = f"{pool_id.split(':')[0]}:{uuid.uuid4()}"
                self._identities[key] = identity_id
                self._owners[identity_id] = key
        return {"IdentityId": identity_id}

    def _credentials(self, request: dict[str, Any]) -> dict[str, Any]:
        identity_id = str(request.get("IdentityId", ""))
        with self._lock:
            owner = self._owners.get(identity_id)
        if owner is None:
            raise _Refusal("ResourceNotFoundException", f"Identity '{identity_id}' not found.")
        pool_id, owner_provider, sub = owner
        provider, client, claims = self._login(self._identity_pool(pool_id), request.get("Logins"))
        if (provider, str(claims["sub"])) != (owner_provider, sub):
            raise _Refusal("NotAuthorizedException", "Logins don't match the identity.")
        role = self._choose_role(pool_id, provider, client, claims, request.get("CustomRoleArn"))
        assumed = self._client("sts", pool_id.split(":")[0]).assume_role_with_web_identity(
            RoleArn=role, RoleSessionName="CognitoIdentityCredentials", WebIdentityToken="x" * 16
        )["Credentials"]
        return {
            "IdentityId": identity_id,
            "Credentials": {
                "AccessKeyId": assumed["AccessKeyId"],
                "SecretKey": assumed["SecretAccessKey"],
                "SessionToken": assumed["SessionToken"],
                "Expiration": assumed["Expiration"].timestamp(),
            },
        }

    def _choose_role(
        self, pool_id: str, provider: str, client: str, claims: dict[str, Any], custom: object
    ) -> str:
        config = self._role_mappings(pool_id)
        default = config.get("Roles", {}).get("authenticated")
        mapping = config.get("RoleMappings", {}).get(f"{provider}:{client}")
        roles = claims.get("cognito:roles") or []
        if custom is not None and custom not in roles:
            raise _Refusal(
                "NotAuthorizedException", "The CustomRoleArn is not one of the token's roles."
            )
        if mapping is None:
            chosen = custom or default
        elif mapping.get("Type") != "Token":
            raise _Refusal("InvalidParameterException", "only Token role mappings are emulated")
        else:
            chosen = custom or claims.get("cognito:preferred_role")
            if chosen is None and mapping.get("AmbiguousRoleResolution") == "AuthenticatedRole":
                chosen = default
        if not chosen:
            raise _Refusal(
                "InvalidIdentityPoolConfigurationException",
                "No role could be chosen for this identity: the role mapping is ambiguous "
                "and resolves to Deny, or the pool has no authenticated role.",
            )
        return str(chosen)

    def _with_roles(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        status, headers, body = call(self.app, environ)
        if status.startswith("200"):
            body = self._add_roles(body)
        return json_answer(start_response, body, status, headers)

    def _add_roles(self, body: bytes) -> bytes:
        answer = json.loads(body)
        result = answer.get("AuthenticationResult") or {}
        token = result.get("IdToken")
        if not token:
            return body
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        claims = unverified_claims(token)
        groups = claims.get("cognito:groups") or []
        if groups:
            pool_id = claims["iss"].rsplit("/", 1)[-1]
            roles, preferred = self._roles_of(pool_id, groups)
            if roles:
                claims["cognito:roles"] = roles
                if preferred:
                    claims["cognito:preferred_role"] = preferred
                result["IdToken"] = self._sign(header, claims)
        return json.dumps(answer).encode()

    def _roles_of(self, pool_id: str, groups: list[str]) -> tuple[list[str], str | None]:
        region = pool_id.split("_")[0]
        listing = self._client("cognito-idp", region).get_paginator("list_groups")
        found = {
            g["GroupName"]: g
            for page in listing.paginate(UserPoolId=pool_id)
            for g in page.get("Groups", [])
        }
        with_roles = [found[g] for g in groups if g in found and found[g].get("RoleArn")]
        roles = list(dict.fromkeys(g["RoleArn"] for g in with_roles))
        ranked = [g for g in with_roles if g.get("Precedence") is not None]
        best = ranked or with_roles
        if not best:
            return roles, None
        lowest = min((g.get("Precedence") for g in best), default=None)
        top = {g["RoleArn"] for g in best if g.get("Precedence") == lowest}
        return roles, (top.pop() if len(top) == 1 else None)

    def _sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        private = self._private.private_key
        assert private is not None
        signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"
