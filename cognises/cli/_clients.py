"""AWS clients for the command line, from the usual AWS configuration."""

from __future__ import annotations

from typing import Any

from cognises._names import check_region, check_user_pool_id
from cognises.aio._aws import setup_error
from cognises.errors import ConfigurationError


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
    """An IAM and a Cognito user-pool client (boto3; thread-safe, reused for every call).

    The AWS configuration is checked here, before any call: a missing region or extra,
    an unknown profile or no credentials at all is a ``ConfigurationError`` saying what to
    set, instead of the same failure for every group or user.
    """
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoCredentialsError
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"this command needs {exc.name}, which is not installed: pip install 'cognises[aws]'"
        ) from exc

    # Room for every concurrent call: botocore's default pool of 10 would queue them.
    config = Config(max_pool_connections=64)
    options: dict[str, Any] = {"config": config}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    try:
        session = boto3.session.Session(region_name=region or None)
        clients = session.client("iam", **options), session.client("cognito-idp", **options)
        if session.get_credentials() is None:
            raise NoCredentialsError()
    except Exception as exc:
        setup = setup_error(exc)
        if setup is None:
            raise
        raise setup from exc
    return clients


def boto3_identity_client(region: str | None, endpoint_url: str | None) -> Any:
    """A Cognito identity-pool (cognito-identity) client, configured like the others."""
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {"config": Config(max_pool_connections=64)}
    if region:
        options["region_name"] = region
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    return boto3.client("cognito-identity", **options)
