"""cognito:roles and cognito:preferred_role: checks, require_roles, permission_required(roles=)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_support import bearer

from cognises.errors import InvalidClaimTypeError, PermissionDenied
from cognises.flask import Cognises, current_claims, login_check, permission_required
from cognises.sync import CognitoVerifier, require_roles
from cognises.testing import LocalIssuer, use_local_issuer

ADMIN = "arn:aws:iam::123456789012:role/cognises/role_admins"
EDITOR = "arn:aws:iam::123456789012:role/role_editors"


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="eu-west-1", user_pool_id="eu-west-1_Roles1", client_id="app")


@pytest.fixture
def verifier(issuer: LocalIssuer) -> CognitoVerifier:
    verifier = CognitoVerifier(issuer.region, issuer.user_pool_id, client_ids="app")
    verifier.jwks_cache.load(verifier.jwks_url, issuer.jwks())
    return verifier


def _token(issuer: LocalIssuer, **extra: object) -> str:
    return issuer.token(groups=["admins"], extra=extra)


def test_claims_give_the_roles_and_the_preferred_role(issuer, verifier) -> None:
    claims = verifier.verify(
        _token(issuer, **{"cognito:roles": [ADMIN, EDITOR], "cognito:preferred_role": ADMIN})
    )
    assert claims.roles == [ADMIN, EDITOR]
    assert claims.preferred_role == ADMIN
    bare = verifier.verify(issuer.token())
    assert bare.roles == []
    assert bare.preferred_role is None


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("cognito:roles", ADMIN),
        ("cognito:roles", [ADMIN, 7]),
        ("cognito:roles", {"a": ADMIN}),
        ("cognito:roles", None),
        ("cognito:preferred_role", [ADMIN]),
        ("cognito:preferred_role", 1),
        ("cognito:preferred_role", None),
    ],
)
def test_roles_of_the_wrong_type_make_the_token_invalid(issuer, verifier, claim, value) -> None:
    with pytest.raises(InvalidClaimTypeError) as caught:
        verifier.verify(_token(issuer, **{claim: value}))
    assert caught.value.claim == claim


@pytest.mark.parametrize(
    ("wanted", "allowed"),
    [
        ([ADMIN], True),
        (["role_admins"], True),  # the name: the ARN's last path segment
        (["cognises"], False),  # a path segment is not the name
        (["cognises/role_admins"], False),
        (["role/cognises/role_admins"], False),
        (["arn:aws:iam::999999999999:role/cognises/role_admins"], False),  # another account
        (["role_admin"], False),
        (["ROLE_ADMINS"], False),
        (["role_editors", "role_admins"], True),
    ],
)
def test_require_roles_by_arn_or_by_name(wanted, allowed) -> None:
    claims = {"token_use": "id", "cognito:roles": [ADMIN]}
    if allowed:
        require_roles(claims, any_of=wanted)
    else:
        with pytest.raises(PermissionDenied, match="expected one of the roles"):
            require_roles(claims, any_of=wanted)


def test_a_name_never_matches_an_arn_that_is_not_a_role() -> None:
    with pytest.raises(PermissionDenied):
        require_roles({"cognito:roles": ["arn:aws:iam::1:user/role_admins"]}, any_of="role_admins")
    with pytest.raises(PermissionDenied):
        require_roles({"cognito:roles": "arn:aws:iam::1:role/admins"}, any_of="admins")


def test_an_access_token_is_refused_with_the_reason() -> None:
    with pytest.raises(PermissionDenied, match="access token, which carries no cognito:roles"):
        require_roles({"token_use": "access", "client_id": "app"}, any_of=["role_admins"])


@pytest.fixture
def app(issuer: LocalIssuer) -> Flask:
    app = Flask(__name__)
    app.config.update(
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=["app"],
        COGNISES_TOKEN_USE=None,
    )
    Cognises(app)
    calls: list[str] = []
    app.config["calls"] = calls

    @app.get("/by-role")
    @login_check(pass_response=False)
    @permission_required(roles=["role_admins"])
    def by_role() -> str:
        calls.append("by-role")
        return str(current_claims.preferred_role)

    @app.get("/both")
    @login_check(pass_response=False)
    @permission_required(groups=["admins"], roles=[EDITOR])
    async def both() -> str:
        calls.append("both")
        return "ok"

    use_local_issuer(app, issuer)
    return app


def test_permission_required_by_role(app: Flask, issuer: LocalIssuer) -> None:
    client = app.test_client()
    admin = _token(issuer, **{"cognito:roles": [ADMIN], "cognito:preferred_role": ADMIN})
    editor = _token(issuer, **{"cognito:roles": [EDITOR]})
    access = issuer.token(token_use="access", groups=["admins"])
    assert client.get("/by-role", headers=bearer(admin)).status_code == 200
    for token in (editor, access, issuer.token()):
        assert client.get("/by-role", headers=bearer(token)).status_code == 403
    assert app.config["calls"] == ["by-role"]


def test_groups_and_roles_on_one_view_must_both_pass(app: Flask, issuer: LocalIssuer) -> None:
    client = app.test_client()
    both = issuer.token(groups=["admins"], extra={"cognito:roles": [EDITOR]})
    group_only = issuer.token(groups=["admins"], extra={"cognito:roles": [ADMIN]})
    role_only = issuer.token(groups=["viewers"], extra={"cognito:roles": [EDITOR]})
    assert client.get("/both", headers=bearer(both)).status_code == 200
    assert client.get("/both", headers=bearer(group_only)).status_code == 403
    assert client.get("/both", headers=bearer(role_only)).status_code == 403
    assert app.config["calls"] == ["both"]
