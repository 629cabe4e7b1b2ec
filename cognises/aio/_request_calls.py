"""AWS calls made while serving a request: identity-pool credentials, revocation, online checks.

Cognito's user-facing actions (``GetId``, ``GetCredentialsForIdentity``, ``GetUser``,
``RevokeToken``) are unsigned: the caller proves itself with a token, not AWS credentials,
so the clients here sign nothing. botocore's failures are translated here, once: each
call site names what the codes it expects mean, and anything else (unreachable,
throttled, failing) is ``AWSUnavailableError``, which a caller may retry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from cognises._show import show
from cognises.aio._aws import error_details
from cognises.errors import AWSUnavailableError, CognisesError, ConfigurationError

__all__ = ["Meaning", "call", "client"]

# code, AWS's message (shortened) -> the error to raise
Meaning = Callable[[str, str], BaseException]

_THROTTLED = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "ThrottlingException", "Throttling"}
)


@asynccontextmanager
async def client(
    service: str, *, region: str, endpoint_url: str | None, signed: bool = False
) -> AsyncIterator[Any]:
    """An aioboto3 client for one use: clients are bound to the loop they were made on, and
    Flask gives every async view a new loop."""
    try:
        import aioboto3
        from aiobotocore.config import AioConfig
        from botocore import UNSIGNED
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"calling {service} needs aioboto3: pip install 'cognises[aws]'"
        ) from exc
    config = AioConfig(retries={"mode": "standard"})
    if not signed:
        config = config.merge(AioConfig(signature_version=UNSIGNED))
    options: dict[str, Any] = {"region_name": region, "config": config}
    if endpoint_url is not None:
        options["endpoint_url"] = endpoint_url
    async with aioboto3.Session().client(service, **options) as made:  # type: ignore[call-overload]
        yield made


async def call(method: Any, meanings: Mapping[str, Meaning], **params: Any) -> dict[str, Any]:
    """``await method(**params)``; an AWS error becomes what ``meanings`` says of its code."""
    try:
        return await method(**params)  # type: ignore[no-any-return]
    except CognisesError:
        raise
    except Exception as exc:
        details = error_details(exc)
        if details is None:
            raise
        code, message = details
        said = show(message, 200)
        meaning = meanings.get(code or "")
        if meaning is not None:
            raise meaning(str(code), said) from exc
        operation = str(getattr(exc, "operation_name", "") or "the AWS call")
        kind = "was throttled" if code in _THROTTLED else "failed"
        retry_after = 2.0 if code in _THROTTLED else 1.0
        raise AWSUnavailableError(
            f"{operation} {kind}: {code or 'no answer'}: {said}", retry_after=retry_after
        ) from exc
