"""Making the IAM and Cognito clients from an ``aioboto3.Session`` in one step.

aioboto3 is only needed by whoever makes the session, so it is never imported here:
``import cognises.aio`` works without the ``aws`` extra.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import aioboto3

__all__ = ["DEFAULT_POOL_CONNECTIONS", "AWSClients", "aws_clients"]

DEFAULT_POOL_CONNECTIONS = 50


class AWSClients(NamedTuple):
    """The two clients provisioning needs; unpacks as ``iam, cognito``."""

    iam: Any
    cognito: Any


@asynccontextmanager
async def aws_clients(
    session: aioboto3.Session,
    *,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    config: Any = None,
) -> AsyncIterator[AWSClients]:
    """Open an IAM and a Cognito user-pool client; both are closed on exit.

    ``endpoint_url`` points both clients at one endpoint (moto, LocalStack); ``config`` is
    an ``aiobotocore.config.AioConfig`` (retries, timeouts, pool size) used for both. The
    default config allows ``DEFAULT_POOL_CONNECTIONS`` connections per client instead of
    botocore's 10, which would otherwise cap ``create_update``'s concurrency.
    """
    if config is None:
        from aiobotocore.config import AioConfig

        config = AioConfig(max_pool_connections=DEFAULT_POOL_CONNECTIONS)
    options: dict[str, Any] = {"config": config}
    if endpoint_url is not None:
        options["endpoint_url"] = endpoint_url
    if region_name is not None:
        options["region_name"] = region_name
    async with AsyncExitStack() as stack:
        iam = await stack.enter_async_context(session.client("iam", **options))
        cognito = await stack.enter_async_context(session.client("cognito-idp", **options))
        yield AWSClients(iam=iam, cognito=cognito)
