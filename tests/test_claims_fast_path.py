"""``check_claims`` decides most tokens in one pass; it must never accept what the
itemised checks (``_check_each``) refuse, nor refuse what they accept."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cognises._checks import ClaimRules, _check_each, check_claims
from cognises.errors import ClaimError

NOW = 1_800_000_000
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Fast00001"
UPDATED = "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_Fast00001"
BOTH = frozenset({ISSUER, UPDATED})
RULES = [
    ClaimRules(issuers=BOTH, token_use="id", client_ids=frozenset({"app"}), leeway=5.0),
    ClaimRules(issuers=frozenset({ISSUER}), token_use=None, client_ids=None, leeway=0.0),
    ClaimRules(issuers=BOTH, token_use="access", client_ids=frozenset({"app", "b"}), leeway=0.0),
    ClaimRules(
        issuers=BOTH,
        token_use=None,
        client_ids=frozenset({"app"}),
        leeway=0.0,
        audiences=frozenset({"https://api", "urn:b"}),
    ),
]

odd = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.text(max_size=5),
    st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
times = st.one_of(
    st.integers(min_value=NOW - 20, max_value=NOW + 20),
    st.floats(min_value=NOW - 20, max_value=NOW + 20),
    st.just(253402300799),
    st.just(253402300800),
    odd,
)
VALUES: dict[str, Any] = {
    "iss": st.sampled_from([ISSUER, UPDATED, ISSUER + "/", ""]) | odd,
    "token_use": st.sampled_from(["id", "access", "refresh"]) | odd,
    "aud": st.sampled_from(["app", "b", "other", "https://api", "urn:b"])
    | st.lists(st.sampled_from(["app", "https://api", "other"]), max_size=3)
    | odd,
    "client_id": st.sampled_from(["app", "b", "other"]) | odd,
    "exp": times,
    "nbf": times,
    "iat": times,
    "auth_time": times,
    "sub": st.just("user-1") | odd,
    "email": st.just("a@example.com") | odd,
    "cognito:username": st.just("alice") | odd,
    "username": st.just("alice") | odd,
    "scope": st.just("openid") | odd,
    "jti": st.just("j-1") | odd,
    "cognito:groups": st.lists(st.sampled_from(["admins", "b"]), max_size=3) | odd,
}
VALID = {
    "iss": ISSUER,
    "token_use": "id",
    "aud": "app",
    "exp": NOW + 60,
    "iat": NOW,
    "auth_time": NOW,
    "sub": "user-1",
    "email": "a@example.com",
    "cognito:username": "alice",
    "cognito:groups": ["admins"],
}


VALID_ACCESS = {
    **{k: v for k, v in VALID.items() if k not in ("aud", "email", "cognito:username")},
    "token_use": "access",
    "client_id": "app",
    "username": "alice",
    "scope": "openid",
    "aud": "https://api",
}


@st.composite
def claims(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ID or access token's claims with a few of them changed, added or removed."""
    payload = dict(draw(st.sampled_from([VALID, VALID_ACCESS])))
    for name in draw(st.sets(st.sampled_from(sorted(VALUES)), max_size=3)):
        payload[name] = draw(VALUES[name])
    for name in draw(st.sets(st.sampled_from(sorted(VALUES)), max_size=2)):
        payload.pop(name, None)
    return payload


def _verdict(check: Any, payload: dict[str, Any], rules: ClaimRules) -> str | None:
    try:
        check(payload, rules, NOW)
    except ClaimError as exc:
        return f"{type(exc).__name__}:{exc.claim}"
    return None


@settings(max_examples=2000, deadline=None, database=None)
@given(payload=claims(), rules=st.sampled_from(RULES))
def test_the_one_pass_check_agrees_with_the_itemised_checks(payload, rules):
    assert _verdict(check_claims, payload, rules) == _verdict(_check_each, payload, rules)


def test_the_fixture_token_passes_both_ways():
    assert _verdict(check_claims, dict(VALID), RULES[0]) is None
    assert _verdict(_check_each, dict(VALID), RULES[0]) is None
