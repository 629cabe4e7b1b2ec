"""AWS clients for the command line, from the usual AWS configuration."""

from __future__ import annotations

from typing import Any

from cognises._names import check_region, check_user_pool_id


def check_pool_options(region: str | None, pool_id: str, *, same_region: bool) -> None:
    """``--region`` and ``--pool-id`` in AWS's form, before anything is called (else exit 2).

    ``same_region``: the pool id must be of ``--region`` (verify, where the region names
    the pool's issuer). For management calls ``--region`` names the endpoint to call and
    may be left to the AWS configuration, so only the forms are checked.
    """
    if region is not None:
        check_region(region, "--region")
    check_user_pool_id(pool_id, "--pool-id", region=region if same_region else None)


def boto3_clients(region: str | None, endpoint_url: str | None) -> tuple[Any, Any]:
    """An IAM and a Cognito user-pool client (boto3; thread-safe, reused for every call)."""
    import boto3
    from botocore.config import Config

    # Room for every concurrent call: botocore's default pool of 10 would queue them.
    config = Config(max_pool_connections=64)
    options: dict[str, Any] = {"config": config}
    if region:
        options["region_name"] = region
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    return boto3.client("iam", **options), boto3.client("cognito-idp", **options)
