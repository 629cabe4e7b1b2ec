"""End to end: real tokens from a moto user pool, keys fetched from moto over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import boto3
import pytest

from cognises.aio import CognitoVerifier
from cognises.errors import InvalidAudienceError, InvalidTokenUseError
from cognises.testing._cognito import PoolSetup, create_pool, create_user, log_in
from cognises.testing._emulator import MotoEmulator


@pytest.fixture(scope="module")
def pool(moto_server: MotoEmulator) -> tuple[PoolSetup, dict[str, str], Any]:
    cognito = boto3.client("cognito-idp", **moto_server.client_kwargs())
    setup = create_pool(cognito, f"verify-{uuid.uuid4().hex[:8]}")
    create_user(cognito, setup, "alice", groups=["admins", "editors"], email="alice@example.com")
    return setup, log_in(cognito, setup, "alice"), cognito


def _verifier(moto_server: MotoEmulator, pool: PoolSetup, **options: Any) -> CognitoVerifier:
    return CognitoVerifier(
        moto_server.region,
        pool.user_pool_id,
        jwks_url=moto_server.jwks_url(pool.user_pool_id),
        **options,
    )


def test_real_id_token_verifies_with_groups_and_email(moto_server, pool):
    setup, tokens, _ = pool
    verifier = _verifier(moto_server, setup, client_ids=setup.client_id, token_use="id")
    claims = asyncio.run(verifier.verify(tokens["IdToken"]))
    assert claims.token_use == "id"
    assert claims.client_id == setup.client_id
    assert sorted(claims.groups) == ["admins", "editors"]
    assert claims.email == "alice@example.com"
    assert claims.username == "alice"
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{setup.user_pool_id}"
    assert verifier.jwks_cache.fetch_count(verifier.jwks_url) == 1


def test_real_access_token_verifies(moto_server, pool):
    setup, tokens, _ = pool
    verifier = _verifier(moto_server, setup, client_ids=[setup.client_id], token_use="access")
    claims = asyncio.run(verifier.verify(tokens["AccessToken"]))
    assert claims.token_use == "access"
    assert claims.client_id == setup.client_id
    assert sorted(claims.groups) == ["admins", "editors"]


def test_real_tokens_of_another_client_are_refused(moto_server, pool):
    setup, tokens, _ = pool
    verifier = _verifier(moto_server, setup, client_ids="some-other-client")
    with pytest.raises(InvalidAudienceError) as info:
        asyncio.run(verifier.verify(tokens["IdToken"]))
    assert info.value.claim == "aud"


def test_real_access_token_refused_where_id_token_required(moto_server, pool):
    setup, tokens, _ = pool
    verifier = _verifier(moto_server, setup, client_ids=setup.client_id, token_use="id")
    with pytest.raises(InvalidTokenUseError):
        asyncio.run(verifier.verify(tokens["AccessToken"]))
