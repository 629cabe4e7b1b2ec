"""Making the IAM and Cognito clients: from an ``aioboto3.Session`` in one step, or from
the default AWS configuration when a function is given None.

aioboto3 is only needed by whoever makes the session, so it is never imported here:
``import cognises.aio`` works without the ``aws`` extra.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar, overload

from cognises.aio._aws import setup_error
from cognises.errors import ConfigurationError

if TYPE_CHECKING:
    import aioboto3

__all__ = ["DEFAULT_POOL_CONNECTIONS", "AWSClients", "aws_clients", "default_clients"]

P = ParamSpec("P")
T = TypeVar("T")

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


_CLIENT_PARAMETERS = ("iam_client", "cognito_client", "identity_client")


@overload
def default_clients(func: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[T]]: ...
@overload
def default_clients(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]: ...
def default_clients(func: Callable[P, Any]) -> Callable[P, Any]:
    """Let ``func``'s ``iam_client`` and ``cognito_client`` be None: the default AWS chain.

    A client left out is opened from ``aioboto3.Session()`` (credentials and region from
    the environment and AWS configuration, as boto3 would find them) for the one call,
    and closed after it. ``identity_client`` (cognito-identity) is opened only for a
    caller on that default chain (no ``iam_client`` given) who passed ``identity_pool_id``:
    a caller with clients of their own, pointed at another endpoint, gets no client
    opened behind their back.
    """
    signature = inspect.signature(func)
    names = [name for name in _CLIENT_PARAMETERS if name in signature.parameters]

    if inspect.isasyncgenfunction(func):

        @functools.wraps(func)
        async def iterate(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[Any]:
            bound = signature.bind(*args, **kwargs)
            async with _filled(bound, names):
                async for item in func(*bound.args, **bound.kwargs):
                    yield item

        return iterate

    @functools.wraps(func)
    async def run(*args: P.args, **kwargs: P.kwargs) -> Any:
        bound = signature.bind(*args, **kwargs)
        async with _filled(bound, names):
            return await func(*bound.args, **bound.kwargs)

    return run


@asynccontextmanager
async def _filled(bound: inspect.BoundArguments, names: list[str]) -> AsyncIterator[None]:
    missing = [name for name in names if bound.arguments.get(name) is None]
    if "identity_client" in missing and (
        bound.arguments.get("identity_pool_id") is None or "iam_client" not in missing
    ):
        missing.remove("identity_client")
    if not missing:
        yield
        return
    try:
        import aioboto3
        from aiobotocore.config import AioConfig
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            "no AWS client was given and aioboto3 is not installed to make one: "
            "pip install 'cognises[aws]', or pass boto3 or aioboto3 clients"
        ) from exc
    config = AioConfig(max_pool_connections=DEFAULT_POOL_CONNECTIONS)
    async with AsyncExitStack() as stack:
        try:
            session = aioboto3.Session()
            makers = {
                "iam_client": lambda: session.client("iam", config=config),
                "cognito_client": lambda: session.client("cognito-idp", config=config),
                "identity_client": lambda: session.client("cognito-identity", config=config),
            }
            for name in missing:
                bound.arguments[name] = await stack.enter_async_context(makers[name]())
        except Exception as exc:
            # No region, an unknown profile: said once, as what to set.
            setup = setup_error(exc)
            if setup is None:
                raise
            raise setup from exc
        yield
