"""Revocation and freshness (issue 16) against the moto server over HTTP: the emulator's
RevokeToken, is_revoked=, Denylist, revoke(), the online check and live groups."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import uuid
from typing import Any

import boto3
import pytest

from cognises import aio, sync
from cognises._claims import Claims
from cognises.errors import (
    AWSUnavailableError,
    ConfigurationError,
    PermissionDenied,
    RevokedTokenError,
    TokenError,
    TokenRefusedError,
)
from cognises.testing._cognito import PoolSetup, create_pool, create_user, log_in
from cognises.testing._emulator import MotoEmulator


class Clock:
    """A monotonic clock the test moves by hand, instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def cognito(moto_server: MotoEmulator) -> Any:
    return boto3.client("cognito-idp", **moto_server.client_kwargs())


@pytest.fixture(scope="module")
def pool(cognito: Any) -> PoolSetup:
    setup = create_pool(cognito, f"revoke-{uuid.uuid4().hex[:8]}")
    create_user(cognito, setup, "alice", groups=["staff", "admins"])
    create_user(cognito, setup, "bob", groups=["staff"])
    return setup


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: MotoEmulator) -> None:
    """Credentials for the signed calls (AdminListGroupsForUser) to the emulator."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", moto_server.region),
    ):
        monkeypatch.setenv(name, value)


def closed_port_url() -> str:
    """An endpoint on loopback where nothing listens: Cognito unreachable."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def verifier(
    moto_server: MotoEmulator, pool: PoolSetup, cls: Any = aio.CognitoVerifier, **options: Any
) -> Any:
    options.setdefault("token_use", "access")
    return cls(
        moto_server.region,
        pool.user_pool_id,
        client_ids=pool.client_id,
        jwks_url=moto_server.jwks_url(pool.user_pool_id),
        **options,
    )


def get_user_calls(moto_server: MotoEmulator) -> int:
    assert moto_server.revocation is not None
    return moto_server.revocation.calls.count("GetUser")


# --- the emulator's RevokeToken ------------------------------------------------------


def test_emulated_revoke_token_refuses_get_user_and_refresh(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")
    other = log_in(cognito, pool, "alice")  # another sign-in: another origin_jti
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    cognito.revoke_token(Token=tokens["RefreshToken"], ClientId=pool.client_id)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.admin_initiate_auth(
            UserPoolId=pool.user_pool_id,
            ClientId=pool.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    assert cognito.get_user(AccessToken=other["AccessToken"])["Username"] == "alice"


def test_emulated_revoke_token_checks_the_client(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")
    with pytest.raises(cognito.exceptions.UnauthorizedException):
        cognito.revoke_token(Token=tokens["RefreshToken"], ClientId="another-client")
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    # A token it never issued: accepted silently (RFC 7009).
    cognito.revoke_token(Token="not-a-token-it-issued", ClientId=pool.client_id)


def test_emulated_get_user_honours_global_sign_out(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "bob")
    cognito.admin_user_global_sign_out(UserPoolId=pool.user_pool_id, Username="bob")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])


# --- is_revoked ------------------------------------------------------------------------


def test_is_revoked_refuses_also_on_a_result_cache_hit(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")
    revoked: set[str] = set()
    seen: list[str] = []

    def is_revoked(claims: Claims) -> bool:
        seen.append(claims["origin_jti"])
        return claims["origin_jti"] in revoked

    check = verifier(moto_server, pool, sync.CognitoVerifier, is_revoked=is_revoked)
    for _ in range(3):  # the second admits it to the result cache, the third is a hit
        assert check.verify(tokens["AccessToken"]).username == "alice"
    assert check._results is not None
    assert len(check._results) == 1
    revoked.add(check.verify(tokens["AccessToken"])["origin_jti"])
    with pytest.raises(RevokedTokenError):
        check.verify(tokens["AccessToken"])
    assert len(seen) == 5


def test_async_is_revoked_on_both_verifiers(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")

    async def is_revoked(claims: Claims) -> bool:
        await asyncio.sleep(0)
        return claims.username == "alice"

    with pytest.raises(RevokedTokenError):
        asyncio.run(
            verifier(moto_server, pool, is_revoked=is_revoked).verify(tokens["AccessToken"])
        )
    check = verifier(moto_server, pool, sync.CognitoVerifier, is_revoked=is_revoked)
    for _ in range(3):
        with pytest.raises(RevokedTokenError):
            check.verify(tokens["AccessToken"])


@pytest.mark.parametrize("answer", [None, 1, "yes", 0])
def test_is_revoked_answering_other_than_a_bool_fails_closed(moto_server, pool, cognito, answer):
    tokens = log_in(cognito, pool, "alice")
    check = verifier(moto_server, pool, sync.CognitoVerifier, is_revoked=lambda claims: answer)
    with pytest.raises(ConfigurationError, match="expected True"):
        check.verify(tokens["AccessToken"])


def test_is_revoked_errors_surface(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")

    def broken(claims: Claims) -> bool:
        raise LookupError("the denylist store is down")

    check = verifier(moto_server, pool, sync.CognitoVerifier, is_revoked=broken)
    with pytest.raises(LookupError):
        check.verify(tokens["AccessToken"])
    with pytest.raises(ConfigurationError, match="callable"):
        verifier(moto_server, pool, is_revoked="no")


def test_revoked_token_error_is_a_token_error():
    assert issubclass(RevokedTokenError, TokenError)


# --- Denylist --------------------------------------------------------------------------


def test_denylist_refuses_every_token_of_one_sign_in(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")
    other = log_in(cognito, pool, "alice")
    denylist = sync.Denylist()
    check = verifier(moto_server, pool, sync.CognitoVerifier, token_use=None, is_revoked=denylist)
    claims = check.verify(tokens["AccessToken"])
    denylist.add(claims)
    with pytest.raises(RevokedTokenError):
        check.verify(tokens["AccessToken"])
    with pytest.raises(RevokedTokenError):  # the ID token of that sign-in: same origin_jti
        check.verify(tokens["IdToken"])
    assert check.verify(other["AccessToken"]).username == "alice"


def test_denylist_drops_expired_entries_and_never_drops_a_live_one():
    clock = Clock()
    denylist = aio.Denylist(size=2, clock=clock)
    denylist.add(key="a", until=clock.now + 10)
    denylist.add(key="b", until=clock.now + 100)
    full = Claims._adopt({"origin_jti": "c", "exp": clock.now + 100})
    with pytest.raises(ConfigurationError, match="Denylist full"):
        denylist.add(full)
    assert denylist(Claims._adopt({"origin_jti": "a"}))  # still refused
    clock.now += 11  # "a" has expired: its tokens are gone
    assert not denylist(Claims._adopt({"origin_jti": "a"}))
    assert denylist.add(full) == "c"
    assert "a" not in denylist
    assert len(denylist) == 2
    assert denylist(Claims._adopt({"jti": "x", "origin_jti": "c"}))
    assert not denylist(Claims._adopt({"jti": "b2"}))
    clock.now += 1000
    assert denylist.purge() == 0


def test_denylist_keys_on_jti_without_origin_jti():
    denylist = aio.Denylist(clock=lambda: 0.0)
    assert denylist.add(Claims._adopt({"jti": "j1", "exp": 10})) == "j1"
    assert denylist(Claims._adopt({"jti": "j1"}))
    with pytest.raises(ConfigurationError):
        denylist.add(Claims._adopt({"exp": 10}))
    with pytest.raises(ConfigurationError):
        denylist.add(key="k")  # no expiry: would never be dropped


# --- revoke() --------------------------------------------------------------------------


def test_aio_and_sync_revoke_call_revoke_token(moto_server, pool, cognito):
    first, second = log_in(cognito, pool, "alice"), log_in(cognito, pool, "alice")
    asyncio.run(
        aio.revoke(
            first["RefreshToken"],
            client_id=pool.client_id,
            region=moto_server.region,
            endpoint_url=moto_server.endpoint,
        )
    )
    sync.revoke(
        second["RefreshToken"],
        client_id=pool.client_id,
        region=moto_server.region,
        endpoint_url=moto_server.endpoint,
    )
    for tokens in (first, second):
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            cognito.get_user(AccessToken=tokens["AccessToken"])


def test_revoke_errors(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")
    with pytest.raises(ConfigurationError, match="UnauthorizedException"):
        sync.revoke(
            tokens["RefreshToken"],
            client_id="another-client",
            region=moto_server.region,
            endpoint_url=moto_server.endpoint,
        )
    with pytest.raises(AWSUnavailableError):
        sync.revoke(
            tokens["RefreshToken"],
            client_id=pool.client_id,
            region=moto_server.region,
            endpoint_url=closed_port_url(),
        )
    with pytest.raises(ConfigurationError):
        sync.revoke("", client_id=pool.client_id, region=moto_server.region)
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    assert issubclass(TokenRefusedError, TokenError)


# --- the online check ------------------------------------------------------------------


@pytest.mark.parametrize("cls", [aio.CognitoVerifier, sync.CognitoVerifier])
def test_online_check_refuses_a_revoked_token_within_ttl(moto_server, pool, cognito, cls):
    tokens = log_in(cognito, pool, "alice")
    clock = Clock()
    online = aio.OnlineCheck(ttl=60, endpoint_url=moto_server.endpoint, clock=clock)
    check = verifier(moto_server, pool, cls, online_check=online)

    def verify() -> Claims:
        result = check.verify(tokens["AccessToken"])
        return asyncio.run(result) if asyncio.iscoroutine(result) else result

    before = get_user_calls(moto_server)
    for _ in range(5):
        assert verify().username == "alice"
    assert get_user_calls(moto_server) == before + 1  # one GetUser per ttl
    # The hot path answers from the cache, on the caller's thread, without awaiting.
    assert check.verify_cached(tokens["AccessToken"]) is not None
    sync.revoke(
        tokens["RefreshToken"],
        client_id=pool.client_id,
        region=moto_server.region,
        endpoint_url=moto_server.endpoint,
    )
    clock.now += 59  # within ttl the cached answer stands (what ttl costs)
    assert verify().username == "alice"
    clock.now += 2
    assert check.verify_cached(tokens["AccessToken"]) is None  # must ask again
    with pytest.raises(RevokedTokenError, match="NotAuthorizedException"):
        verify()
    calls = get_user_calls(moto_server)
    with pytest.raises(RevokedTokenError):  # the refusal is cached too
        verify()
    assert get_user_calls(moto_server) == calls


def test_online_check_refuses_after_global_sign_out(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "bob")
    online = aio.OnlineCheck(ttl=30, endpoint_url=moto_server.endpoint)
    check = verifier(moto_server, pool, sync.CognitoVerifier, online_check=online)
    cognito.admin_user_global_sign_out(UserPoolId=pool.user_pool_id, Username="bob")
    with pytest.raises(RevokedTokenError):
        check.verify(tokens["AccessToken"])


def test_online_check_is_bounded(moto_server, pool, cognito):
    online = aio.OnlineCheck(ttl=60, size=2, endpoint_url=moto_server.endpoint)
    check = verifier(moto_server, pool, sync.CognitoVerifier, online_check=online)
    sign_ins = [log_in(cognito, pool, "alice")["AccessToken"] for _ in range(3)]
    for token in sign_ins:
        check.verify(token)
    assert len(online) == 2
    assert check.verify_cached(sign_ins[0]) is None  # the least recent was dropped
    assert check.verify_cached(sign_ins[2]) is not None


def test_200_concurrent_requests_of_one_token_make_one_get_user(moto_server, pool, cognito):
    token = log_in(cognito, pool, "alice")["AccessToken"]
    online = aio.OnlineCheck(ttl=60, endpoint_url=moto_server.endpoint)
    check = verifier(moto_server, pool, online_check=online)
    asyncio.run(check.hydrate())
    before = get_user_calls(moto_server)

    async def many() -> list[Claims]:
        return await asyncio.gather(*(check.verify(token) for _ in range(100)))

    # 100 on one event loop, 100 more on loops of their own in other threads.
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(asyncio.run(check.verify(token))))
        for _ in range(100)
    ]
    for thread in threads:
        thread.start()
    results.extend(asyncio.run(many()))
    for thread in threads:
        thread.join()
    assert len(results) == 200
    assert all(c.username == "alice" for c in results)
    assert get_user_calls(moto_server) == before + 1


def test_online_check_cognito_down_fails_closed_by_default(moto_server, pool, cognito):
    token = log_in(cognito, pool, "alice")["AccessToken"]
    online = aio.OnlineCheck(endpoint_url=closed_port_url())
    check = verifier(moto_server, pool, sync.CognitoVerifier, online_check=online)
    with pytest.raises(AWSUnavailableError) as info:
        check.verify(token)
    assert info.value.retry_after > 0
    assert len(online) == 0  # nothing cached: the next request asks again


def test_online_check_cognito_down_fail_open_passes_with_a_warning(
    moto_server, pool, cognito, caplog
):
    token = log_in(cognito, pool, "alice")["AccessToken"]
    clock = Clock()
    online = aio.OnlineCheck(ttl=60, fail_open=True, endpoint_url=closed_port_url(), clock=clock)
    check = verifier(moto_server, pool, sync.CognitoVerifier, online_check=online)
    with caplog.at_level(logging.WARNING, logger="cognises"):
        assert check.verify(token).username == "alice"
    assert any(
        "fail_open" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )
    assert token not in caplog.text
    assert check.verify_cached(token) is not None  # the pass is kept a few seconds...
    clock.now += 3
    assert check.verify_cached(token) is None  # ...not for the whole ttl


def test_online_check_needs_access_tokens(moto_server, pool):
    for token_use in ("id", None):
        with pytest.raises(ConfigurationError, match="online_check"):
            verifier(moto_server, pool, token_use=token_use, online_check=aio.OnlineCheck())
    with pytest.raises(ConfigurationError):
        aio.OnlineCheck(ttl=0)
    with pytest.raises(ConfigurationError):
        verifier(moto_server, pool, online_check=object())


def test_verifier_without_hooks_keeps_the_plain_hot_path(moto_server, pool):
    assert verifier(moto_server, pool)._after is None


# --- live groups -----------------------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_live_groups_see_a_removal_within_ttl(moto_server, pool, cognito):
    username = f"carol-{uuid.uuid4().hex[:6]}"
    create_user(cognito, pool, username, groups=["staff", "editors"])
    claims = verifier(moto_server, pool, sync.CognitoVerifier, token_use="id").verify(
        log_in(cognito, pool, username)["IdToken"]
    )
    clock = Clock()
    live = sync.LiveGroups(
        moto_server.region,
        pool.user_pool_id,
        ttl=30,
        endpoint_url=moto_server.endpoint,
        clock=clock,
    )
    assert live.of(claims) == {"staff", "editors"}
    live.require(claims, any_of="editors")
    cognito.admin_remove_user_from_group(
        UserPoolId=pool.user_pool_id, Username=username, GroupName="editors"
    )
    live.require(claims, any_of="editors")  # cached: within ttl
    clock.now += 31
    with pytest.raises(PermissionDenied, match="editors"):
        live.require(claims, any_of=["editors"])
    assert sorted(claims.groups) == ["editors", "staff"]  # the token's own, unchanged
    assert asyncio.run(
        aio.LiveGroups(moto_server.region, pool.user_pool_id, endpoint_url=moto_server.endpoint).of(
            claims
        )
    ) == {"staff"}


@pytest.mark.usefixtures("aws_env")
def test_live_groups_read_every_page_and_are_bounded(moto_server, pool, cognito):
    username = f"dave-{uuid.uuid4().hex[:6]}"
    groups = [f"g{i:02d}" for i in range(65)]  # more than one page of 60
    create_user(cognito, pool, username, groups=groups)
    live = sync.LiveGroups(
        moto_server.region, pool.user_pool_id, size=1, endpoint_url=moto_server.endpoint
    )
    assert live.of(Claims._adopt({"cognito:username": username})) == set(groups)
    assert live.of(Claims._adopt({"cognito:username": "alice"})) == {"staff", "admins"}
    assert len(live) == 1
    assert live.cached(username) is None
    with pytest.raises(PermissionDenied, match="machine token"):
        live.of(Claims._adopt({"client_id": "x"}))


@pytest.mark.usefixtures("aws_env")
def test_concurrent_requests_of_one_user_make_one_live_groups_call(moto_server, pool, faults):
    claims = Claims._adopt({"cognito:username": "bob"})
    live = aio.LiveGroups(moto_server.region, pool.user_pool_id, endpoint_url=moto_server.endpoint)
    faults.reset(latency=0.05)  # the first call is still in flight when the others ask

    async def many() -> list[frozenset[str]]:
        return await asyncio.gather(*(live.of(claims) for _ in range(100)))

    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(asyncio.run(live.of(claims))))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    results.extend(asyncio.run(many()))
    for thread in threads:
        thread.join()
    assert len(results) == 120
    assert all(groups == {"staff"} for groups in results)
    assert faults.actions().count("AdminListGroupsForUser") == 1


@pytest.mark.usefixtures("aws_env")
def test_live_groups_cognito_down(moto_server, pool, caplog):
    claims = Claims._adopt({"cognito:username": "alice", "cognito:groups": ["staff"]})
    closed = sync.LiveGroups(moto_server.region, pool.user_pool_id, endpoint_url=closed_port_url())
    with pytest.raises(AWSUnavailableError):
        closed.of(claims)
    fail_open = sync.LiveGroups(
        moto_server.region, pool.user_pool_id, fail_open=True, endpoint_url=closed_port_url()
    )
    with caplog.at_level(logging.WARNING, logger="cognises"):
        assert fail_open.of(claims) == {"staff"}  # the token's own groups
    assert "fail_open" in caplog.text


# --- removal with sign-out -------------------------------------------------------------


def test_remove_users_from_group_can_sign_them_out(moto_server, pool, cognito):
    username = f"erin-{uuid.uuid4().hex[:6]}"
    create_user(cognito, pool, username, groups=["staff"])
    tokens = log_in(cognito, pool, username)
    report = sync.remove_users_from_group(
        "staff", [username], cognito, pool.user_pool_id, sign_out=True
    )
    assert report.ok
    assert report.succeeded == (username,)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])
    online = aio.OnlineCheck(endpoint_url=moto_server.endpoint)
    with pytest.raises(RevokedTokenError):
        verifier(moto_server, pool, sync.CognitoVerifier, online_check=online).verify(
            tokens["AccessToken"]
        )


def test_remove_users_from_group_without_sign_out_leaves_tokens_working(moto_server, pool, cognito):
    username = f"fay-{uuid.uuid4().hex[:6]}"
    create_user(cognito, pool, username, groups=["staff"])
    tokens = log_in(cognito, pool, username)
    sync.remove_users_from_group("staff", [username], cognito, pool.user_pool_id)
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == username


def test_multi_pool_verifier_runs_each_pools_hooks(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")
    clock = Clock()
    online = aio.OnlineCheck(ttl=60, endpoint_url=moto_server.endpoint, clock=clock)
    denylist = aio.Denylist()
    multi = sync.MultiPoolVerifier(
        [
            {
                "region": moto_server.region,
                "user_pool_id": pool.user_pool_id,
                "client_ids": pool.client_id,
                "token_use": "access",
                "jwks_url": moto_server.jwks_url(pool.user_pool_id),
                "is_revoked": denylist,
                "online_check": online,
            }
        ]
    )
    for _ in range(3):
        assert multi.verify(tokens["AccessToken"]).username == "alice"
    assert multi.verify_cached(tokens["AccessToken"]) is not None
    revoke(moto_server, pool, tokens)
    clock.now += 61
    assert multi.verify_cached(tokens["AccessToken"]) is None
    with pytest.raises(RevokedTokenError):
        multi.verify(tokens["AccessToken"])
    other = log_in(cognito, pool, "alice")
    denylist.add(multi.verify(other["AccessToken"]))
    with pytest.raises(RevokedTokenError):
        multi.verify(other["AccessToken"])


def revoke(moto_server: MotoEmulator, pool: PoolSetup, tokens: dict[str, str]) -> None:
    sync.revoke(
        tokens["RefreshToken"],
        client_id=pool.client_id,
        region=moto_server.region,
        endpoint_url=moto_server.endpoint,
    )


# --- the command line ------------------------------------------------------------------


def run_cli(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", **env)
    environment["AWS_DEFAULT_REGION"] = "us-east-1"
    return subprocess.run(
        [sys.executable, "-m", "cognises", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=environment,
        timeout=300,
        check=False,
    )


def test_cli_revoke(moto_server, pool, cognito):
    tokens = log_in(cognito, pool, "alice")
    common = ("--client-id", pool.client_id, "--region", moto_server.region)
    done = run_cli(
        "revoke", "-", *common, "--endpoint-url", moto_server.endpoint, stdin=tokens["RefreshToken"]
    )
    assert done.returncode == 0, done.stderr
    assert "revoked" in done.stdout
    assert tokens["RefreshToken"] not in done.stdout + done.stderr
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])
    wrong = run_cli(
        "revoke",
        "-",
        "--client-id",
        "other",
        "--region",
        moto_server.region,
        "--endpoint-url",
        moto_server.endpoint,
        "--json",
        stdin=log_in(cognito, pool, "alice")["RefreshToken"],
    )
    assert wrong.returncode == 2
    assert json.loads(wrong.stdout)["error"]["type"] == "ConfigurationError"
    down = run_cli("revoke", "-", *common, "--endpoint-url", closed_port_url(), stdin="x")
    assert down.returncode == 1
    assert "AWS" in down.stderr or "failed" in down.stderr
    no_secret = run_cli("revoke", "t", *common, "--client-secret-env", "NO_SUCH_VARIABLE_H9")
    assert no_secret.returncode == 2


def test_cli_users_remove_sign_out(moto_server, pool, cognito):
    username = f"jo-{uuid.uuid4().hex[:6]}"
    create_user(cognito, pool, username, groups=["staff"])
    tokens = log_in(cognito, pool, username)
    common = ("--pool-id", pool.user_pool_id, "--endpoint-url", moto_server.endpoint)
    removed = run_cli("users", "remove", "staff", username, "--sign-out", *common)
    assert removed.returncode == 0, removed.stderr
    assert f"{username}: removed from staff (signed out)" in removed.stdout
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])
