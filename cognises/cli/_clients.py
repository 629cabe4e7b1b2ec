"""AWS clients for the command line, from the usual AWS configuration."""

from __future__ import annotations

from typing import Any


def boto3_clients(region: str | None, endpoint_url: str | None) -> tuple[Any, Any]:
    """An IAM and a Cognito user-pool client (boto3; thread-safe, reused for every call)."""
    import boto3

    options = _options(region, endpoint_url)
    return boto3.client("iam", **options), boto3.client("cognito-idp", **options)


def boto3_identity_client(region: str | None, endpoint_url: str | None) -> Any:
    """A Cognito identity-pool (cognito-identity) client, configured like the others."""
    import boto3

    return boto3.client("cognito-identity", **_options(region, endpoint_url))


def _options(region: str | None, endpoint_url: str | None) -> dict[str, Any]:
    from botocore.config import Config

    # Room for every concurrent call: botocore's default pool of 10 would queue them.
    options: dict[str, Any] = {"config": Config(max_pool_connections=64)}
    if region:
        options["region_name"] = region
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    return options
