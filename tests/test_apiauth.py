"""API authorization in the core: scopes, machine tokens, resource binding (access-token
``aud``), the verifiers' ``check=`` hook and ``MultiPoolVerifier``."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
import respx

from cognises import sync
from cognises.aio import (
    CognitoVerifier,
    JWKSCache,
    MultiPoolVerifier,
    require_groups,
    require_scopes,
)
from cognises.errors import (
    ConfigurationError,
    InvalidAudienceError,
    InvalidClaimTypeError,
    InvalidIssuerError,
    MissingClaimError,
    PermissionDenied,
    TokenError,
    UnknownKeyError,
)
from cognises.testing import LocalIssuer

CLIENT = "apiclient00000000000000001"
MACHINE = "machineclient0000000000001"
API = "https://api.example.test"


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(user_pool_id="us-east-1_ApiAuth01", client_id=CLIENT)


@pytest.fixture(scope="module")
def other() -> LocalIssuer:
    return LocalIssuer(region="eu-west-1", user_pool_id="eu-west-1_ApiAuth02", client_id="c2")


def machine_claims(issuer: LocalIssuer, *, scope: Any = "orders/read", **extra: Any) -> dict:
    """What Cognito puts in a client-credentials access token."""
    now = int(time.time())
    claims = {
        "sub": MACHINE,
        "token_use": "access",
        "scope": scope,
        "auth_time": now,
        "iss": issuer.issuer,
        "exp": now + 3600,
        "iat": now,
        "version": 2,
        "jti": str(uuid.uuid4()),
        "client_id": MACHINE,
    }
    claims.update(extra)
    if scope is None:
        del claims["scope"]
    return claims


def verifier(issuer: LocalIssuer, cls: type = sync.CognitoVerifier, **options: Any) -> Any:
    options.setdefault("client_ids", [CLIENT, MACHINE])
    options.setdefault("token_use", "access")
    made = cls(issuer.region, issuer.user_pool_id, **options)
    made.jwks_cache.load(made.jwks_url, issuer.jwks())
    return made


# --------------------------------------------------------------------------- scopes


def scoped(scope: Any) -> dict[str, Any]:
    return {"token_use": "access", "scope": scope}


def test_all_of_needs_every_scope():
    require_scopes(scoped("orders/read orders/write"), all_of=["orders/read", "orders/write"])
    with pytest.raises(PermissionDenied, match="without \\['orders/write'\\]"):
        require_scopes(scoped("orders/read"), all_of=["orders/read", "orders/write"])


def test_any_of_needs_one_scope_and_combines_with_all_of():
    require_scopes(scoped("a/x b/y"), any_of=["b/y", "c/z"])
    with pytest.raises(PermissionDenied, match="one of the scopes"):
        require_scopes(scoped("a/x"), any_of=["b/y", "c/z"])
    with pytest.raises(PermissionDenied):
        require_scopes(scoped("b/y"), all_of="a/x", any_of=["b/y"])
    require_scopes(scoped("a/x b/y"), all_of="a/x", any_of=["b/y"])


def test_a_missing_scope_claim_grants_nothing():
    with pytest.raises(PermissionDenied):
        require_scopes({"token_use": "access"}, all_of="a/x")


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\t", "\n", "\u3000", "\x1f"])
def test_scopes_split_on_ascii_space_only(space):
    # str.split() would make "admin" and "read" of these: one odd scope, matching nothing.
    claims = scoped(f"admin{space}read")
    for wanted in ("admin", "read"):
        with pytest.raises(PermissionDenied):
            require_scopes(claims, all_of=wanted)
    assert sync.Claims(claims).scopes == [f"admin{space}read"]


def test_runs_of_spaces_and_a_scope_injected_by_spaces():
    assert sync.Claims(scoped("  a/x   b/y ")).scopes == ["a/x", "b/y"]
    # A required scope is never an empty string or several scopes in one.
    with pytest.raises(ConfigurationError):
        require_scopes(scoped("a b"), all_of="a b")
    with pytest.raises(ConfigurationError):
        require_scopes(scoped("a"), all_of=[""])
    with pytest.raises(ConfigurationError):
        require_scopes(scoped("a"), all_of="caf\u00e9")
    with pytest.raises(ConfigurationError):
        require_scopes(scoped("a"))


def test_a_scope_claim_that_is_a_list_is_an_invalid_token(issuer):
    check = verifier(issuer)
    token = issuer.sign(machine_claims(issuer, scope=["orders/read", "admin"]))
    with pytest.raises(InvalidClaimTypeError, match="scope"):
        check.verify(token)
    # And were it handed over unverified, it still grants nothing.
    with pytest.raises(PermissionDenied):
        require_scopes({"scope": ["orders/read"]}, all_of="orders/read")


# --------------------------------------------------------------------------- machine tokens


def test_a_machine_token_verifies_and_says_it_is_a_machine(issuer):
    claims = verifier(issuer).verify(issuer.sign(machine_claims(issuer)))
    assert claims.is_machine
    assert claims.client_id == MACHINE
    assert claims.username is None
    assert claims.email is None
    assert claims.groups == []
    assert claims.scopes == ["orders/read"]


def test_a_users_access_token_is_no_machine_even_without_username(issuer):
    check = verifier(issuer)
    user = check.verify(issuer.token(token_use="access"))
    assert not user.is_machine
    # sub is still the user's UUID, not the client: a trigger dropped only the username.
    claims = issuer.claims(token_use="access")
    del claims["username"]
    assert not check.verify(issuer.sign(claims)).is_machine
    # An ID token is never a machine's, even with sub equal to its client.
    assert not sync.Claims({**issuer.claims(), "sub": CLIENT}).is_machine


def test_group_checks_on_a_machine_token_fail_closed_saying_why(issuer):
    claims = verifier(issuer).verify(
        issuer.sign(machine_claims(issuer, **{"cognito:groups": ["admins"]}))
    )
    with pytest.raises(PermissionDenied, match="machine token"):
        require_groups(claims, any_of=["admins"])


# --------------------------------------------------------------------------- resource binding


def test_audiences_require_an_aud_naming_one_of_them(issuer):
    check = verifier(issuer, audiences=[API, "urn:other"])
    assert check.verify(issuer.sign(machine_claims(issuer, aud=API)))["aud"] == API
    with pytest.raises(MissingClaimError, match="aud"):
        check.verify(issuer.sign(machine_claims(issuer)))
    with pytest.raises(InvalidAudienceError, match="aud"):
        check.verify(issuer.sign(machine_claims(issuer, aud="https://elsewhere.test")))


def test_audiences_still_check_client_id(issuer):
    check = verifier(issuer, audiences=API)
    token = issuer.sign(machine_claims(issuer, aud=API, client_id="stranger", sub="stranger"))
    with pytest.raises(InvalidAudienceError, match="client_id"):
        check.verify(token)


def test_an_aud_list_passes_when_any_value_is_an_audience(issuer):
    # RFC 7519 4.1.3: a token for several resources is meant for each of them.
    check = verifier(issuer, audiences=API)
    claims = check.verify(issuer.sign(machine_claims(issuer, aud=["urn:x", API, "urn:y"])))
    assert claims["aud"] == ["urn:x", API, "urn:y"]
    with pytest.raises(InvalidAudienceError):
        check.verify(issuer.sign(machine_claims(issuer, aud=["urn:x", "urn:y"])))


@pytest.mark.parametrize("aud", [None, 7, [], [API, 7], {"aud": API}, True])
def test_a_malformed_aud_is_refused_with_or_without_audiences(issuer, aud):
    token = issuer.sign(machine_claims(issuer, aud=aud))
    for check in (verifier(issuer), verifier(issuer, audiences=API)):
        with pytest.raises(InvalidClaimTypeError, match="aud"):
            check.verify(token)


def test_without_audiences_a_well_formed_aud_is_ignored(issuer):
    check = verifier(issuer)
    for aud in ("urn:anything", ["urn:a", "urn:b"]):
        assert check.verify(issuer.sign(machine_claims(issuer, aud=aud)))["aud"] == aud


def test_audiences_are_for_access_tokens(issuer):
    with pytest.raises(ConfigurationError, match="audiences"):
        sync.CognitoVerifier(issuer.region, issuer.user_pool_id, token_use="id", audiences=API)
    with pytest.raises(ConfigurationError, match="audiences"):
        sync.CognitoVerifier(issuer.region, issuer.user_pool_id, audiences=[""])
    # ID tokens of a verifier of both kinds keep their aud as the client.
    both = verifier(issuer, token_use=None, client_ids=CLIENT, audiences=API)
    assert both.verify(issuer.token())["aud"] == CLIENT


# --------------------------------------------------------------------------- check=


class Seen:
    def __init__(self, error: BaseException | None = None) -> None:
        self.calls: list[tuple[dict, Any]] = []
        self.error = error

    def __call__(self, header: Any, claims: Any) -> None:
        self.calls.append((dict(header), claims))
        if self.error is not None:
            raise self.error


def test_check_sees_header_and_claims_on_every_verification_cache_hits_too(issuer):
    seen = Seen()
    check = verifier(issuer, check=seen)
    token = issuer.token(token_use="access")
    for _ in range(4):  # the second admits it to the result cache, the rest are hits
        check.verify(token)
    assert len(check._results) == 1
    assert len(seen.calls) == 4
    header, claims = seen.calls[-1]
    assert header == {"kid": issuer.kid, "alg": "RS256"}
    assert claims["token_use"] == "access"


def test_check_runs_after_the_built_in_checks(issuer):
    seen = Seen()
    check = verifier(issuer, check=seen)
    with pytest.raises(InvalidAudienceError):
        check.verify(issuer.token(token_use="access", client_id="stranger"))
    assert seen.calls == []


@pytest.mark.parametrize(
    "error", [InvalidIssuerError("tenant gone", claim="iss"), PermissionDenied("no")]
)
def test_a_refusing_check_raises_its_error_even_on_a_cache_hit(issuer, error):
    seen = Seen()
    check = verifier(issuer, check=seen)
    token = issuer.token(token_use="access")
    check.verify(token)
    check.verify(token)
    seen.error = error
    with pytest.raises(type(error)):
        check.verify(token)


def test_a_bug_in_a_check_surfaces_as_itself(issuer):
    check = verifier(issuer, check=Seen(KeyError("tenant")))
    with pytest.raises(KeyError):
        check.verify(issuer.token(token_use="access"))


@pytest.mark.parametrize("result", [False, True, 0, "no"])
def test_a_check_returning_a_value_fails_closed(issuer, result):
    check = verifier(issuer, check=lambda header, claims: result)
    with pytest.raises(ConfigurationError, match="returns None"):
        check.verify(issuer.token(token_use="access"))


def test_a_sync_check_returning_a_coroutine_fails_closed(issuer):
    async def later() -> None:
        pass

    check = verifier(issuer, check=lambda header, claims: later())
    with pytest.raises(ConfigurationError, match="awaitable"):
        check.verify(issuer.token(token_use="access"))


def test_an_async_check_is_awaited_on_every_verification(issuer):
    calls: list[str] = []

    async def tenant(header: Any, claims: Any) -> None:
        await asyncio.sleep(0)
        calls.append(claims.sub)
        if claims.sub == "blocked":
            raise PermissionDenied("tenant blocked")

    aio = verifier(issuer, CognitoVerifier, check=tenant)
    token = issuer.token(token_use="access")

    async def main() -> None:
        assert aio.verify_cached(token) is None  # it cannot await: fetch_and_verify does
        for _ in range(3):
            await aio.verify(token)
        with pytest.raises(PermissionDenied):
            await aio.verify(issuer.sign({**issuer.claims(token_use="access"), "sub": "blocked"}))

    asyncio.run(main())
    assert len(calls) == 4
    assert len(aio._results) == 1  # the result cache still works
    # The sync verifier runs it too (on cognises' loop).
    blocking = verifier(issuer, check=tenant)
    blocking.verify(token)
    assert len(calls) == 5


def test_check_must_be_callable(issuer):
    with pytest.raises(ConfigurationError, match="callable"):
        sync.CognitoVerifier(issuer.region, issuer.user_pool_id, check="tenant")


# --------------------------------------------------------------------------- several pools


def pools(issuer: LocalIssuer, other: LocalIssuer, **first: Any) -> list[dict[str, Any]]:
    return [
        {
            "region": issuer.region,
            "user_pool_id": issuer.user_pool_id,
            "client_ids": [CLIENT, MACHINE],
            "token_use": "access",
            **first,
        },
        {
            "region": other.region,
            "user_pool_id": other.user_pool_id,
            "client_ids": "c2",
            "token_use": "id",
        },
    ]


def multi(issuer: LocalIssuer, other: LocalIssuer, cls: type = sync.MultiPoolVerifier, **first):
    made = cls(pools(issuer, other, **first))
    for pool, local in zip(made.pools, (issuer, other), strict=True):
        made.jwks_cache.load(pool.jwks_url, local.jwks())
    return made


def test_each_token_goes_to_the_pool_that_issued_it(issuer, other):
    both = multi(issuer, other)
    assert both.verify(issuer.token(token_use="access")).client_id == CLIENT
    assert both.verify(other.token(client_id="c2")).client_id == "c2"
    # Each pool keeps its own rules: the first takes access tokens only, the second ID.
    with pytest.raises(TokenError, match="token_use"):
        both.verify(issuer.token())
    with pytest.raises(TokenError, match="token_use"):
        both.verify(other.token(token_use="access", client_id="c2"))
    assert both.pools[0].jwks_cache is both.pools[1].jwks_cache is both.jwks_cache


def test_an_unknown_issuer_is_refused_without_a_network_call(issuer, other):
    stranger = LocalIssuer(user_pool_id="us-east-1_Stranger1", client_id=CLIENT)
    both = sync.MultiPoolVerifier(pools(issuer, other))  # no keys loaded: any use would fetch
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().mock(return_value=httpx.Response(500))
        with pytest.raises(InvalidIssuerError, match="Stranger1"):
            both.verify(stranger.token(token_use="access"))
        claims = stranger.claims(token_use="access")
        del claims["iss"]
        with pytest.raises(MissingClaimError, match="iss"):
            both.verify(stranger.sign(claims))
        with pytest.raises(InvalidIssuerError):
            both.verify(stranger.sign({**claims, "iss": ["not", "a", "string"]}))
        assert not route.called
    assert all(both.jwks_cache.fetch_count(p.jwks_url) == 0 for p in both.pools)


def test_an_iss_of_one_pool_with_a_kid_of_another_is_refused(issuer, other):
    both = multi(issuer, other)
    # Signed by the other pool's key, claiming to come from the first pool.
    forged = other.sign(issuer.claims(token_use="access"), kid=other.kid)
    # And the reverse: the first pool's key under the other's kid and issuer.
    reverse = issuer.sign(other.claims(client_id="c2"), header={"kid": other.kid, "alg": "RS256"})
    with respx.mock(assert_all_called=False) as mock:
        # Should a refetch happen (the cooldown passed), each pool serves its own keys.
        for pool, local in zip(both.pools, (issuer, other), strict=True):
            mock.get(pool.jwks_url).mock(return_value=httpx.Response(200, json=local.jwks()))
        with pytest.raises(UnknownKeyError):
            both.verify(forged)
        with pytest.raises(TokenError, match="signature"):
            both.verify(reverse)
        # Nor does a verifier of the first pool alone take the forged token.
        with pytest.raises(UnknownKeyError):
            verifier(issuer).verify(forged)


def test_each_pool_keeps_its_own_check_and_audiences(issuer, other):
    seen = Seen(PermissionDenied("not this tenant"))
    both = multi(issuer, other, check=seen, audiences=API)
    with pytest.raises(PermissionDenied):
        both.verify(issuer.sign(machine_claims(issuer, aud=API)))
    with pytest.raises(MissingClaimError, match="aud"):
        both.verify(issuer.sign(machine_claims(issuer)))
    assert len(seen.calls) == 1
    assert both.verify(other.token(client_id="c2"))["aud"] == "c2"


def test_the_multi_pool_result_cache_and_check_on_hits(issuer, other):
    seen = Seen()
    both = multi(issuer, other, check=seen)
    token = issuer.token(token_use="access")
    for _ in range(3):
        both.verify(token)
    assert len(both.pools[0]._results) == 1
    assert len(seen.calls) == 3


def test_the_async_multi_pool_verifier_fetches_the_right_pools_keys(issuer, other):
    both = MultiPoolVerifier(pools(issuer, other), jwks_cache=JWKSCache())

    async def main() -> None:
        with respx.mock() as mock:
            mock.get(both.pools[1].jwks_url).mock(
                return_value=httpx.Response(200, json=other.jwks())
            )
            claims = await both.verify(other.token(client_id="c2"))
        assert claims.client_id == "c2"

    asyncio.run(main())
    assert both.jwks_cache.fetch_count(both.pools[1].jwks_url) == 1
    assert both.jwks_cache.fetch_count(both.pools[0].jwks_url) == 0


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"region": "us-east-1", "user_pool_id": "us-east-1_X"},
        [{"region": "us-east-1"}],
        [{"region": "us-east-1", "user_pool_id": "us-east-1_X", "colour": "red"}],
        [{"region": "us-east-1", "user_pool_id": "us-east-1_X"}] * 2,
        ["us-east-1_X"],
    ],
)
def test_bad_pool_lists_are_configuration_errors(bad):
    with pytest.raises(ConfigurationError):
        sync.MultiPoolVerifier(bad)
