"""Cognito's two issuer forms, replica regions, and nothing looser (issue 12, section 2)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flask import Flask
from flask_support import bearer
from jwks_server import JWKSServer, Reply

from cognises import sync
from cognises.aio import CognitoVerifier, JWKSCache
from cognises.cli import main
from cognises.errors import ConfigurationError, InvalidIssuerError
from cognises.flask import Cognises, login_check
from cognises.testing import LocalIssuer, use_local_issuer

REGION, POOL = "eu-west-1", "eu-west-1_Issuers01"
JWKS_URL = "https://keys.example.com/jwks.json"
ORIGINAL = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
UPDATED = f"https://issuer-cognito-idp.{REGION}.amazonaws.com/{POOL}"


def original(region: str = REGION, pool: str = POOL) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool}"


def updated(region: str = REGION, pool: str = POOL) -> str:
    return f"https://issuer-cognito-idp.{region}.amazonaws.com/{pool}"


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region=REGION, user_pool_id=POOL, client_id="web")


def make(local: LocalIssuer, kind: str = "aio", **options: Any) -> Any:
    cache = JWKSCache()
    cache.load(options.get("jwks_url") or JWKS_URL, local.jwks())
    options.setdefault("jwks_url", JWKS_URL)
    verifier_class = CognitoVerifier if kind == "aio" else sync.CognitoVerifier
    return verifier_class(REGION, POOL, client_ids="web", jwks_cache=cache, **options)


def verify(verifier: Any, token: str) -> Any:
    if isinstance(verifier, sync.CognitoVerifier):
        return verifier.verify(token)
    return asyncio.run(verifier.verify(token))


def token_from(issuer: LocalIssuer, iss: str) -> str:
    return issuer.token(extra={"iss": iss})


@pytest.mark.parametrize("kind", ["aio", "sync"])
@pytest.mark.parametrize("iss", [ORIGINAL, UPDATED], ids=["original", "updated"])
def test_both_issuer_forms_of_the_pool_are_accepted_by_default(issuer, kind, iss):
    verifier = make(issuer, kind)
    assert verify(verifier, token_from(issuer, iss))["iss"] == iss
    # Twice: the second answer comes from the result cache.
    assert verify(verifier, token_from(issuer, iss))["iss"] == iss


def test_the_verifier_exposes_exactly_the_accepted_issuers(issuer):
    verifier = make(issuer)
    assert verifier.issuers == frozenset({ORIGINAL, UPDATED})
    assert verifier.issuer == ORIGINAL  # the keys' URL is built from it
    assert make(issuer, jwks_url=None).jwks_url == f"{ORIGINAL}/.well-known/jwks.json"
    replicated = make(issuer, additional_regions=["us-east-1", "eu-west-1"])
    assert replicated.issuers == frozenset({ORIGINAL, UPDATED, original("us-east-1")})


REFUSED = [
    pytest.param(original(pool="eu-west-1_OtherPool"), id="original-other-pool"),
    pytest.param(updated(pool="eu-west-1_OtherPool"), id="updated-other-pool"),
    pytest.param(original("eu-west-2"), id="original-other-region"),
    pytest.param(updated("eu-west-2"), id="updated-other-region"),
    pytest.param(f"https://cognito-idp-issuer.{REGION}.amazonaws.com/{POOL}", id="third-form"),
    pytest.param(f"https://issuer.cognito-idp.{REGION}.amazonaws.com/{POOL}", id="dotted-form"),
    pytest.param(f"https://evil-cognito-idp.{REGION}.amazonaws.com/{POOL}", id="prefixed-host"),
    pytest.param(f"https://cognito-idp.{REGION}.amazonaws.com.evil.example/{POOL}", id="suffix"),
    pytest.param(f"https://issuer-cognito-idp.{REGION}.amazonaws.com./{POOL}", id="trailing-dot"),
    pytest.param(f"https://COGNITO-IDP.{REGION}.AMAZONAWS.COM/{POOL}", id="upper-case-host"),
    pytest.param(f"https://cognito-idp.{REGION}.amazonaws.com:443/{POOL}", id="explicit-port"),
    pytest.param(f"http://cognito-idp.{REGION}.amazonaws.com/{POOL}", id="http"),
    pytest.param(f"{ORIGINAL}/", id="trailing-slash"),
    pytest.param(f"{UPDATED}?x=1", id="query"),
    pytest.param(f"{UPDATED}#", id="fragment"),
    pytest.param(f" {ORIGINAL}", id="leading-space"),
    pytest.param(ORIGINAL.replace("cognito", "cogn\u0456to"), id="cyrillic-i"),
    pytest.param(ORIGINAL.lower(), id="pool-id-lower-case"),
    pytest.param(["https://x", ORIGINAL], id="a-list"),
    pytest.param({ORIGINAL: 1}, id="an-object"),
]


@pytest.mark.parametrize("kind", ["aio", "sync"])
@pytest.mark.parametrize("iss", REFUSED)
def test_other_issuers_are_refused_with_the_accepted_ones_named(issuer, kind, iss):
    with pytest.raises(InvalidIssuerError) as info:
        verify(make(issuer, kind, additional_regions="us-east-1"), token_from(issuer, iss))
    assert info.value.claim == "iss"
    accepted = sorted({ORIGINAL, UPDATED, original("us-east-1")})
    assert str(info.value).startswith(f"expected iss one of {accepted}, found ")


@pytest.mark.parametrize("kind", ["aio", "sync"])
def test_replica_regions_are_accepted_in_the_original_form_only(issuer, kind):
    verifier = make(issuer, kind, additional_regions=["us-east-1", "ap-southeast-5"])
    for region in ("us-east-1", "ap-southeast-5"):
        assert verify(verifier, token_from(issuer, original(region)))["iss"] == original(region)
        # The updated form always names the primary region, never a replica's.
        with pytest.raises(InvalidIssuerError):
            verify(verifier, token_from(issuer, updated(region)))
    with pytest.raises(InvalidIssuerError):
        verify(verifier, token_from(issuer, original("us-west-2")))  # not listed
    # Without additional_regions, no replica.
    with pytest.raises(InvalidIssuerError):
        verify(make(issuer, kind), token_from(issuer, original("us-east-1")))


def test_an_explicit_issuer_is_the_only_one_accepted(issuer):
    emulator = "http://127.0.0.1:5000/eu-west-1_Issuers01"
    verifier = make(issuer, issuer=emulator)
    assert verifier.issuers == frozenset({emulator})
    assert verify(verifier, token_from(issuer, emulator))["iss"] == emulator
    for iss in (ORIGINAL, UPDATED):
        with pytest.raises(InvalidIssuerError):
            verify(verifier, token_from(issuer, iss))
    with pytest.raises(ConfigurationError, match="additional_regions"):
        make(issuer, issuer=emulator, additional_regions=["us-east-1"])


def test_local_issuer_signs_either_form_and_use_local_issuer_trusts_it(issuer):
    fresh = LocalIssuer(region=REGION, user_pool_id=POOL, client_id="web", issuer_form="updated")
    assert fresh.issuer == UPDATED
    assert fresh.claims()["iss"] == UPDATED
    assert LocalIssuer(region=REGION, user_pool_id=POOL).issuer == ORIGINAL
    with pytest.raises(ValueError, match="issuer_form"):
        LocalIssuer(issuer_form="new")  # type: ignore[arg-type]

    app = Flask(__name__)
    app.config.update(
        TESTING=True, COGNISES_REGION=REGION, COGNISES_USER_POOL_ID=POOL, COGNISES_CLIENT_IDS="web"
    )

    @app.route("/me")
    @login_check(pass_response=False)
    def me() -> str:
        return "ok"

    use_local_issuer(app, fresh)  # before the verifier exists
    client = app.test_client()
    assert client.get("/me", headers=bearer(fresh.token())).status_code == 200
    fresh.rotate()
    use_local_issuer(app, fresh)  # and after: the new key reaches the verifier made since
    assert client.get("/me", headers=bearer(fresh.token())).status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(["us-east-1", "ap-southeast-5"], id="list"),
        pytest.param("us-east-1, ap-southeast-5", id="comma-separated"),
        pytest.param(("us-east-1", "ap-southeast-5"), id="tuple"),
    ],
)
def test_flask_config_additional_regions(issuer, value):
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        COGNISES_REGION=REGION,
        COGNISES_USER_POOL_ID=POOL,
        COGNISES_CLIENT_IDS="web",
        COGNISES_ADDITIONAL_REGIONS=value,
    )
    Cognises(app)

    @app.route("/me")
    @login_check(pass_response=False)
    def me() -> str:
        return "ok"

    @app.route("/named")
    @login_check(REGION, POOL)  # the config's own pool: its replicas apply
    def named(response: Any) -> str:
        return "ok"

    use_local_issuer(app, issuer)
    client = app.test_client()
    for path in ("/me", "/named"):
        for iss in (ORIGINAL, UPDATED, original("us-east-1"), original("ap-southeast-5")):
            assert client.get(path, headers=bearer(token_from(issuer, iss))).status_code == 200
        for iss in (updated("us-east-1"), original("us-west-2")):
            assert client.get(path, headers=bearer(token_from(issuer, iss))).status_code == 401


def test_flask_without_additional_regions_accepts_both_forms_and_no_replica(issuer):
    app = Flask(__name__)
    app.config.update(
        TESTING=True, COGNISES_REGION=REGION, COGNISES_USER_POOL_ID=POOL, COGNISES_CLIENT_IDS="web"
    )

    @app.route("/me")
    @login_check(pass_response=False)
    def me() -> str:
        return "ok"

    use_local_issuer(app, issuer)
    client = app.test_client()
    assert client.get("/me", headers=bearer(token_from(issuer, ORIGINAL))).status_code == 200
    assert client.get("/me", headers=bearer(token_from(issuer, UPDATED))).status_code == 200
    replica = client.get("/me", headers=bearer(token_from(issuer, original("us-east-1"))))
    assert replica.status_code == 401


def test_cli_verify_accepts_both_forms_and_listed_replicas(issuer, capsys):
    with JWKSServer() as server:
        server.reply = Reply.json(issuer.jwks())
        common = ["--pool-id", POOL, "--region", REGION, "--client-id", "web"]
        common += ["--jwks-url", server.url()]
        for iss in (ORIGINAL, UPDATED):
            assert main(["verify", token_from(issuer, iss), *common]) == 0
        replica = token_from(issuer, original("us-east-1"))
        assert main(["verify", replica, *common]) == 1
        assert "InvalidIssuerError" in capsys.readouterr().err
        assert main(["verify", replica, *common, "--additional-region", "us-east-1"]) == 0
        assert main(["verify", replica, *common, "--additional-region", "evil.example/"]) == 2
        assert "'evil.example/'" in capsys.readouterr().err
