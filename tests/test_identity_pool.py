"""Identity-pool credentials for the signed-in user's role, against the moto server over HTTP.

The emulator (cognises.testing._identity) issues credentials through moto's STS
``AssumeRoleWithWebIdentity`` for the role it chose, so ``get_caller_identity`` with them
names that role: the choice of role is observable, not assumed.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from joserfc.jwk import RSAKey

from cognises.aio import CognitoVerifier as AsyncVerifier
from cognises.aio import CredentialCache, IdentityPool
from cognises.errors import (
    AWSUnavailableError,
    ExpiredTokenError,
    InvalidTokenUseError,
    PermissionDenied,
    TokenError,
    TokenRefusedError,
)
from cognises.sync import CognitoVerifier
from cognises.sync import IdentityPool as BlockingIdentityPool
from cognises.testing import LocalIssuer, MotoEmulator, create_pool, create_user, log_in

REGION = "us-east-1"


@dataclass
class World:
    aws: MotoEmulator
    pool_id: str
    client_id: str
    identity_pool_id: str
    roles: dict[str, str]  # group -> role ARN
    tokens: dict[str, dict[str, str]]

    def provider(self) -> str:
        return f"cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def map_roles(self, ambiguous: str = "Deny") -> None:
        identity = boto3.client("cognito-identity", **self.aws.client_kwargs())
        identity.set_identity_pool_roles(
            IdentityPoolId=self.identity_pool_id,
            Roles={},
            RoleMappings={
                f"{self.provider()}:{self.client_id}": {
                    "Type": "Token",
                    "AmbiguousRoleResolution": ambiguous,
                }
            },
        )

    def verifier(self, kind: type[Any] = AsyncVerifier) -> Any:
        return kind(
            REGION,
            self.pool_id,
            client_ids=self.client_id,
            token_use="id",
            jwks_url=self.aws.jwks_url(self.pool_id),
        )

    def pool(self, kind: type[Any] = IdentityPool, **options: Any) -> Any:
        verifier_kind = CognitoVerifier if kind is BlockingIdentityPool else AsyncVerifier
        return kind(
            self.identity_pool_id,
            region=REGION,
            user_pool_id=self.pool_id,
            verifier=self.verifier(verifier_kind),
            endpoint_url=self.aws.endpoint,
            **options,
        )

    def calls(self) -> list[str]:
        assert self.aws.identity is not None
        return list(self.aws.identity.calls)

    def role_of(self, credentials: Any) -> str:
        sts = boto3.client(
            "sts", region_name=REGION, endpoint_url=self.aws.endpoint, **credentials.as_boto3()
        )
        arn: str = sts.get_caller_identity()["Arn"]
        return arn.split("/")[1]  # arn:aws:sts::1:assumed-role/<role>/<session>


@pytest.fixture
def world(moto_server: MotoEmulator) -> World:
    kwargs = moto_server.client_kwargs()
    cognito = boto3.client("cognito-idp", **kwargs)
    iam = boto3.client("iam", **kwargs)
    identity = boto3.client("cognito-identity", **kwargs)
    tag = uuid.uuid4().hex[:8]
    setup = create_pool(cognito, f"roles-{tag}")
    roles = {}
    for group, precedence in (("admins", 1), ("editors", 2), ("twin-a", 5), ("twin-b", 5)):
        arn = iam.create_role(RoleName=f"r-{group}-{tag}", AssumeRolePolicyDocument="{}")
        roles[group] = arn["Role"]["Arn"]
        cognito.create_group(
            GroupName=group,
            UserPoolId=setup.user_pool_id,
            RoleArn=roles[group],
            Precedence=precedence,
        )
    cognito.create_group(GroupName="plain", UserPoolId=setup.user_pool_id)
    users = {"alice": ["admins", "editors"], "tess": ["twin-a", "twin-b"], "nora": ["plain"]}
    for user, groups in users.items():
        create_user(cognito, setup, user, groups=groups)
    provider = f"cognito-idp.{REGION}.amazonaws.com/{setup.user_pool_id}"
    identity_pool_id = identity.create_identity_pool(
        IdentityPoolName=f"ip{tag}",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": setup.client_id}],
    )["IdentityPoolId"]
    tokens = {user: log_in(cognito, setup, user) for user in users}
    found = World(moto_server, setup.user_pool_id, setup.client_id, identity_pool_id, roles, tokens)
    found.map_roles()
    return found


def _id(world: World, user: str) -> str:
    return world.tokens[user]["IdToken"]


def test_id_tokens_carry_the_roles_of_the_users_groups(world: World) -> None:
    claims = world.verifier(CognitoVerifier).verify(_id(world, "alice"))
    assert sorted(claims.roles) == sorted([world.roles["admins"], world.roles["editors"]])
    assert claims.preferred_role == world.roles["admins"]  # the lower precedence wins
    tied = world.verifier(CognitoVerifier).verify(_id(world, "tess"))
    assert len(tied.roles) == 2
    assert tied.preferred_role is None  # equal precedence, different roles: omitted
    plain = world.verifier(CognitoVerifier).verify(_id(world, "nora"))
    assert plain.roles == []
    assert plain.preferred_role is None


def test_preferred_role_credentials_are_that_roles(world: World) -> None:
    credentials = asyncio.run(world.pool().credentials(_id(world, "alice")))
    assert world.role_of(credentials) == world.roles["admins"].rsplit("/", 1)[1]
    assert credentials.role_arn == world.roles["admins"]
    assert credentials.identity_id.startswith(f"{REGION}:")
    assert credentials.expiration.timestamp() > time.time()


def test_an_explicit_role_of_the_token_is_the_one_assumed(world: World) -> None:
    credentials = asyncio.run(
        world.pool().credentials(_id(world, "alice"), role_arn=world.roles["editors"])
    )
    assert world.role_of(credentials) == world.roles["editors"].rsplit("/", 1)[1]
    assert credentials.role_arn == world.roles["editors"]


def test_a_role_not_in_the_token_is_refused_before_any_aws_call(world: World) -> None:
    before = world.calls()
    with pytest.raises(PermissionDenied, match="cognito:roles"):
        asyncio.run(world.pool().credentials(_id(world, "alice"), role_arn=world.roles["twin-a"]))
    assert world.calls() == before


def test_an_ambiguous_mapping_set_to_deny_gives_no_credentials(world: World) -> None:
    with pytest.raises(PermissionDenied, match="no role"):
        asyncio.run(world.pool().credentials(_id(world, "tess")))
    # The same user may still ask for one of their roles by name.
    credentials = asyncio.run(
        world.pool().credentials(_id(world, "tess"), role_arn=world.roles["twin-b"])
    )
    assert world.role_of(credentials) == world.roles["twin-b"].rsplit("/", 1)[1]


def test_tokens_of_another_pool_and_expired_tokens_never_reach_aws(world: World) -> None:
    before = world.calls()
    stranger = LocalIssuer(region=REGION, user_pool_id="us-east-1_Stranger1").token()
    with pytest.raises(TokenError):  # another pool's key: unknown here
        asyncio.run(world.pool().credentials(stranger))
    with pytest.raises(ExpiredTokenError):
        asyncio.run(world.pool().credentials(_expired(_id(world, "alice"))))
    with pytest.raises(InvalidTokenUseError):
        asyncio.run(world.pool().credentials(world.tokens["alice"]["AccessToken"]))
    assert world.calls() == before


def test_a_token_the_identity_pool_does_not_trust_is_a_token_error(world: World) -> None:
    # The pool verifies the token, but the identity pool does not list this app client.
    identity = boto3.client("cognito-identity", **world.aws.client_kwargs())
    other = identity.create_identity_pool(
        IdentityPoolName=f"other{uuid.uuid4().hex[:6]}",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": world.provider(), "ClientId": "someone"}],
    )["IdentityPoolId"]
    pool = IdentityPool(
        other,
        region=REGION,
        user_pool_id=world.pool_id,
        verifier=world.verifier(),
        endpoint_url=world.aws.endpoint,
    )
    with pytest.raises(TokenRefusedError, match="refused the token"):
        asyncio.run(pool.credentials(_id(world, "alice")))


def test_credentials_are_reused_then_refreshed_near_expiry(world: World) -> None:
    now = [time.time()]
    cache = CredentialCache(refresh_margin=300, clock=lambda: now[0])
    pool = world.pool(cache=cache)
    first = asyncio.run(pool.credentials(_id(world, "alice")))
    calls = world.calls()
    again = asyncio.run(pool.credentials(_id(world, "alice")))
    assert again is first
    assert world.calls() == calls  # no AWS call
    now[0] = first.expiration.timestamp() - 299  # inside the margin: stale
    fresh = asyncio.run(pool.credentials(_id(world, "alice")))
    assert fresh is not first
    # One new GetCredentialsForIdentity; the identity id was remembered, so no GetId.
    assert world.calls()[len(calls) :] == ["GetCredentialsForIdentity"]


def test_one_hundred_concurrent_requests_make_one_aws_call(world: World) -> None:
    pool = world.pool()
    token = _id(world, "alice")
    before = len(world.calls())

    async def many() -> list[Any]:
        return await asyncio.gather(*(pool.credentials(token) for _ in range(100)))

    results = asyncio.run(many())
    assert len({id(r) for r in results}) == 1
    assert world.calls()[before:] == ["GetId", "GetCredentialsForIdentity"]


def test_threads_on_their_own_loops_share_one_fetch(world: World) -> None:
    pool = world.pool()
    token = _id(world, "alice")
    before = len(world.calls())
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        results.append(asyncio.run(pool.credentials(token)))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len({r.access_key_id for r in results}) == 1
    assert world.calls()[before:] == ["GetId", "GetCredentialsForIdentity"]


def test_the_blocking_twin_gives_a_boto3_session_of_the_role(world: World) -> None:
    pool = world.pool(BlockingIdentityPool)
    session = pool.session(_id(world, "alice"))
    sts = session.client("sts", endpoint_url=world.aws.endpoint)
    assert world.roles["admins"].rsplit("/", 1)[1] in sts.get_caller_identity()["Arn"]
    calls = world.calls()
    assert pool.credentials(_id(world, "alice")) is pool.credentials(_id(world, "alice"))
    assert world.calls() == calls


def test_the_async_session_is_an_aioboto3_session_of_the_role(world: World) -> None:
    async def caller() -> str:
        session = await world.pool().session(_id(world, "alice"))
        async with session.client("sts", endpoint_url=world.aws.endpoint) as sts:
            return str((await sts.get_caller_identity())["Arn"])

    assert world.roles["admins"].rsplit("/", 1)[1] in asyncio.run(caller())


def test_aws_unreachable_is_a_retryable_error_distinct_from_both(world: World) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = IdentityPool(
        world.identity_pool_id,
        region=REGION,
        user_pool_id=world.pool_id,
        verifier=world.verifier(),
        endpoint_url=f"http://127.0.0.1:{port}",
    )
    with pytest.raises(AWSUnavailableError) as caught:
        asyncio.run(pool.credentials(_id(world, "alice")))
    assert not isinstance(caught.value, (PermissionDenied, TokenRefusedError))


def test_credentials_and_tokens_never_appear_in_reprs_or_errors(world: World) -> None:
    pool = world.pool()
    credentials = asyncio.run(pool.credentials(_id(world, "alice")))
    for text in (repr(credentials), str(credentials), repr(pool)):
        assert credentials.secret_access_key not in text
        assert credentials.session_token not in text
        assert _id(world, "alice")[:30] not in text
    with pytest.raises(PermissionDenied) as caught:
        asyncio.run(pool.credentials(_id(world, "tess")))
    assert _id(world, "tess")[:30] not in str(caught.value)


def test_bounded_memory() -> None:
    cache = CredentialCache(size=3)
    for n in range(10):
        cache.remember_identity(f"user{n}", f"id{n}")
    assert [cache.identity(f"user{n}") for n in range(10)].count(None) == 7
    assert cache.identity("user9") == "id9"


def _expired(token: str) -> str:
    """The token re-signed by moto's own key, an hour past its expiry."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    spec = importlib.util.find_spec("moto.cognitoidp")
    assert spec is not None
    assert spec.origin is not None
    path = Path(spec.origin).parent / "resources" / "jwks-private.json.gz"
    with gzip.open(path, "rt") as f:
        key = RSAKey.import_key(json.load(f)).private_key
    head, body, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    past = int(time.time()) - 7200
    claims.update(iat=past, auth_time=past, exp=past + 3600)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    return f"{head}.{body}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def _flask_app(world: World, **config: Any) -> Any:
    from flask import Flask

    from cognises.flask import (
        Cognises,
        current_aws_session,
        current_aws_session_async,
        login_check,
    )

    app = Flask(__name__)
    app.config.update(
        COGNISES_REGION=REGION,
        COGNISES_USER_POOL_ID=world.pool_id,
        COGNISES_CLIENT_IDS=[world.client_id],
        COGNISES_JWKS_URL=world.aws.jwks_url(world.pool_id),
        COGNISES_IDENTITY_POOL_ID=world.identity_pool_id,
        COGNISES_IDENTITY_ENDPOINT_URL=world.aws.endpoint,
    )
    app.config.update(config)
    Cognises(app)

    @app.get("/whoami")
    @login_check(pass_response=False)
    def whoami() -> str:
        sts = current_aws_session().client("sts", endpoint_url=world.aws.endpoint)
        return str(sts.get_caller_identity()["Arn"])

    @app.get("/whoami-async")
    @login_check(pass_response=False)
    async def whoami_async() -> str:
        session = await current_aws_session_async()
        async with session.client("sts", endpoint_url=world.aws.endpoint) as sts:
            return str((await sts.get_caller_identity())["Arn"])

    return app


def test_flask_views_call_aws_as_the_users_role(world: World) -> None:
    client = _flask_app(world).test_client()
    headers = {"Authorization": f"Bearer {_id(world, 'alice')}"}
    admin_role = world.roles["admins"].rsplit("/", 1)[1]
    for path in ("/whoami", "/whoami-async"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        assert f"assumed-role/{admin_role}/" in answer.text


def test_flask_answers_403_without_a_role_and_503_without_aws(world: World) -> None:
    client = _flask_app(world).test_client()
    tess = {"Authorization": f"Bearer {_id(world, 'tess')}"}
    for path in ("/whoami", "/whoami-async"):
        refused = client.get(path, headers=tess)
        assert refused.status_code == 403
        assert refused.get_json()["message"] == "Forbidden access"
    down = _flask_app(world, COGNISES_IDENTITY_ENDPOINT_URL="http://127.0.0.1:9").test_client()
    alice = {"Authorization": f"Bearer {_id(world, 'alice')}"}
    for path in ("/whoami", "/whoami-async"):
        unavailable = down.get(path, headers=alice)
        assert unavailable.status_code == 503
        assert "Retry-After" in unavailable.headers
