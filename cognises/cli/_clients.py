"""AWS clients for the command line, from the usual AWS configuration."""

from __future__ import annotations

from typing import Any


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
