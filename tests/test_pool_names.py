"""Region and user pool id are held to AWS's form wherever they enter (issue 12, section 3).

A region or pool id ends up in the host and path of the key fetch: left unchecked,
``"x@127.0.0.1:8000/"`` or ``"evil.example/"`` would fetch the keys from another host.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cognises import sync
from cognises.aio import CognitoVerifier, JWKSCache, create_update
from cognises.cli import main
from cognises.errors import ConfigurationError
from cognises.flask import login_check

# Every region botocore lists for the partitions whose Cognito hosts are under
# amazonaws.com (aws, aws-us-gov), and the other partitions' names of the same shape.
REGIONS = [
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
    "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
    "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
    "us-west-2", "us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
    "us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "us-isof-south-1", "eu-isoe-west-1",
]  # fmt: skip

BAD_REGIONS = [
    "",
    "x@127.0.0.1:8000/",
    "evil.example/",
    "evil.example",
    "us-east-1.evil.example",
    "us-east-1/",
    "us-east-1/../x",
    "us-east-1\n",
    "us-east-1 ",
    "US-EAST-1",
    "us_east_1",
    "us-east-",
    "us-east-1a",
    "fips-us-east-1",
    "us-east-\uff11",  # a full-width digit one
    "127.0.0.1",
    "localhost",
    None,
    7,
    b"us-east-1",
    ["us-east-1"],
]

BAD_POOL_IDS = [
    "",
    "us-east-1",
    "us-east-1_",
    "_AbC123",
    "us-east-1_AbC/../x",
    "us-east-1_AbC@evil.example",
    "us-east-1_AbC#",
    "us-east-1_Ab-C",
    "us-east-1_Ab_C",
    "us-east-1_AbC\n",
    "x@127.0.0.1:8000/_AbC",
    "evil.example/_AbC",
    "evil_AbC123",  # the old check let any [\w-]+ region part through
    "us-east-1_" + "a" * 46,  # 56 characters: over Cognito's 55
    None,
    123,
]


def construct(kind: str, region: Any, pool: Any, **options: Any) -> Any:
    verifier = CognitoVerifier if kind == "aio" else sync.CognitoVerifier
    return verifier(region, pool, client_ids="web", jwks_cache=JWKSCache(), **options)


@pytest.mark.parametrize("region", REGIONS)
def test_aws_regions_and_their_pool_ids_are_accepted(region):
    pool = f"{region}_AbC123xyz"
    verifier = construct("aio", region, pool)
    assert verifier.jwks_url == (
        f"https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json"
    )
    assert construct("sync", region, pool).issuers == verifier.issuers


def test_the_longest_pool_id_and_moto_pool_ids_are_accepted():
    construct("aio", "us-east-1", "us-east-1_" + "a" * 45)  # 55 characters
    construct("aio", "us-east-1", "us-east-1_0123456789abcdef0123456789abcdef")


@pytest.mark.parametrize("kind", ["aio", "sync"])
@pytest.mark.parametrize("region", BAD_REGIONS)
def test_a_bad_region_is_refused_by_both_verifiers(kind, region):
    with pytest.raises(ConfigurationError) as info:
        construct(kind, region, "us-east-1_AbC123")
    message = str(info.value)
    assert message.startswith("region: expected an AWS region such as 'us-east-1', found ")
    assert repr(region)[:40] in message


@pytest.mark.parametrize("kind", ["aio", "sync"])
@pytest.mark.parametrize("pool", BAD_POOL_IDS)
def test_a_bad_pool_id_is_refused_by_both_verifiers(kind, pool):
    with pytest.raises(ConfigurationError) as info:
        construct(kind, "us-east-1", pool)
    message = str(info.value)
    assert message.startswith("user_pool_id: expected a user pool id '<region>_<id>'")
    assert repr(pool)[:40] in message


@pytest.mark.parametrize("kind", ["aio", "sync"])
def test_a_pool_id_of_another_region_is_refused(kind):
    with pytest.raises(ConfigurationError, match=r"of region 'eu-west-1'.*'us-east-1_AbC123'"):
        construct(kind, "eu-west-1", "us-east-1_AbC123")


@pytest.mark.parametrize("kind", ["aio", "sync"])
@pytest.mark.parametrize("region", ["evil.example/", "us-east-1 ", "", 7])
def test_a_bad_additional_region_is_refused(kind, region):
    with pytest.raises(ConfigurationError, match="additional_regions: expected an AWS region"):
        construct(kind, "us-east-1", "us-east-1_AbC123", additional_regions=["eu-west-1", region])


@pytest.mark.parametrize(
    ("region", "pool", "named"),
    [
        ("evil.example/", "us-east-1_AbC123", "cognito_pool_region"),
        ("x@127.0.0.1:8000/", "us-east-1_AbC123", "cognito_pool_region"),
        ("us-east-1", "us-east-1_AbC/../x", "cognito_pool_id"),
        ("us-east-1", "eu-west-1_AbC123", "cognito_pool_id"),
        ("cognito_pool_region", "cognito_pool_id", "cognito_pool_region"),
    ],
)
def test_login_check_refuses_a_bad_pool_at_decoration(region, pool, named):
    with pytest.raises(ConfigurationError, match=f"login_check: {named}: expected"):
        login_check(region, pool)


def test_login_check_with_a_bad_pool_never_reaches_a_request():
    app = Flask(__name__)
    with pytest.raises(ConfigurationError):

        @app.route("/")
        @login_check("x@127.0.0.1:8000/", "us-east-1_AbC123")
        def view(response: Any) -> str:
            return "ok"

    assert "view" not in app.view_functions


def test_provisioning_refuses_a_pool_id_the_old_check_let_through(tmp_path):
    doc = json.loads(Path(document_file(tmp_path)).read_text())
    for pool in ("evil_AbC123", "us-east-1_AbC/../x", "us-east-1_" + "a" * 46):
        # No client is touched: the pool id is checked before anything is called.
        with pytest.raises(ConfigurationError, match="cognito_pool_id: expected a user pool id"):
            asyncio.run(create_update(doc, object(), object(), pool))
        with pytest.raises(ConfigurationError, match="cognito_pool_id: expected a user pool id"):
            sync.create_update(doc, object(), object(), pool)


def document_file(tmp_path: Path) -> str:
    path = tmp_path / "groups.json"
    path.write_text(
        json.dumps(
            [
                {
                    "group_name": "g",
                    "group_policy": {"Version": "2012-10-17", "Statement": []},
                    "created": "false",
                    "allowed_functions": ["view"],
                }
            ]
        )
    )
    return str(path)


# A closed port: were anything called, it would fail differently (and exit 1).
NOWHERE = ["--endpoint-url", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("argv", "named", "value"),
    [
        (["verify", "a.b.c", "--region", "evil.example/", "--pool-id", "us-east-1_A"],
         "--region", "'evil.example/'"),
        (["verify", "a.b.c", "--region", "us-east-1", "--pool-id", "us-east-1_A/x"],
         "--pool-id", "'us-east-1_A/x'"),
        (["verify", "a.b.c", "--region", "eu-west-1", "--pool-id", "us-east-1_A"],
         "--pool-id", "'us-east-1_A'"),
        (["provision", "{doc}", "--pool-id", "x@127.0.0.1:8000/_A", *NOWHERE],
         "--pool-id", "'x@127.0.0.1:8000/_A'"),
        (["provision", "{doc}", "--pool-id", "us-east-1_A", "--region", "us-east-1/", *NOWHERE],
         "--region", "'us-east-1/'"),
        (["users", "list", "--pool-id", "evil_AbC", *NOWHERE], "--pool-id", "'evil_AbC'"),
        (["users", "add", "g", "ann", "--pool-id", "us-east-1_A", "--region", "x", *NOWHERE],
         "--region", "'x'"),
    ],
)  # fmt: skip
def test_the_cli_refuses_a_bad_region_or_pool_id_with_exit_2(
    argv, named, value, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    argv = [document_file(tmp_path) if arg == "{doc}" else arg for arg in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"invalid input: {named}: expected ")
    assert value in err
    assert err.count("\n") == 1
