"""The one place where botocore's errors become ours.

Every AWS call in ``cognises.aio`` goes through ``call``: it retries what time cures
(see ``_retry``) and turns whatever is left into ``AWSCallError``, which carries the
operation, the AWS error code and AWS's message. Callers then decide what a code means
for them (``NoSuchEntity`` on ``GetRole`` is an answer, not a failure) and turn the rest
into a failed group or a ``ProvisioningError``.

botocore's complaints about the AWS configuration itself (no region, no credentials, an
unknown profile) are worded by ``setup_error``, here too: as a ``ConfigurationError`` where
clients are made, and as the message of the failed call when a call meets them.

botocore is not imported: errors are recognised by shape (a ``ClientError`` has a
``response`` dict with an ``Error`` entry), so this module loads without the ``aws`` extra.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from cognises import _names
from cognises.aio._retry import THROTTLING_CODES, RetryPolicy, is_role_propagation_error, retrying
from cognises.errors import ConfigurationError

if TYPE_CHECKING:
    from cognises.aio._ratelimit import AdaptiveRate

__all__ = [
    "COGNITO_PAGE_MAX",
    "AWSCallError",
    "call",
    "check_user_pool_id",
    "error_details",
    "pages",
    "setup_error",
]

# Exceptions from these packages are transport or client-side failures: they become a
# failed call with no AWS error code rather than escaping as a crash.
_TRANSPORT_MODULES = ("botocore", "aiobotocore", "aiohttp", "urllib3")

COGNITO_PAGE_MAX = 60
"""The most items Cognito returns in one page of any listing."""

# botocore's errors that mean the AWS configuration is missing or wrong, by class name (a
# base class name covers its subclasses), and what to tell whoever runs the code.
_SETUP_ERRORS = {
    "NoRegionError": "AWS region: expected one (--region on the command line, "
    "AWS_DEFAULT_REGION, or region in ~/.aws/config), found none",
    "InvalidRegionError": "AWS region: expected a region name such as 'eu-west-1', found {exc}",
    "NoCredentialsError": "AWS credentials: expected them from AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials or an instance role, found none",
    "PartialCredentialsError": "AWS credentials: expected a complete set, found {exc}",
    "CredentialRetrievalError": "AWS credentials: expected them from the configured "
    "source, found {exc}",
    "TokenRetrievalError": "AWS credentials: expected them from the configured source, found {exc}",
    "ConfigParseError": "AWS configuration: expected readable config files, found {exc}",
    "ProfileNotFound": "AWS profile: expected one defined in ~/.aws/config or "
    "~/.aws/credentials, found {profile!r}: set AWS_PROFILE to a defined profile",
    "SSOError": "AWS SSO login: expected a valid session, found {exc}",
}


class AWSCallError(Exception):
    """An AWS call that failed for good. Internal: never escapes ``cognises.aio``."""

    def __init__(self, operation: str, code: str | None, message: str) -> None:
        super().__init__(f"{operation} failed: {code or 'no error code'}: {message}")
        self.operation = operation
        self.code = code
        self.message = message

    @property
    def summary(self) -> str:
        """What a report says of it: the call, the error code and AWS's message."""
        return f"{self.operation} failed with {self.code or 'no error code'}: {self.message}"


def setup_error(exc: BaseException) -> ConfigurationError | None:
    """The ``ConfigurationError`` saying what to set, for a botocore error that means the
    AWS configuration is missing or wrong; None for any other error."""
    for cls in type(exc).__mro__:
        template = _SETUP_ERRORS.get(cls.__name__)
        if template is not None and cls.__module__.startswith("botocore"):
            profile = getattr(exc, "kwargs", {}).get("profile")
            return ConfigurationError(template.format(exc=exc, profile=profile))
    return None


def error_details(exc: BaseException) -> tuple[str | None, str] | None:
    """``(code, message)`` for an error raised by an AWS client, or None for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        error = response["Error"]
        code = error.get("Code")
        return (str(code) if code else None), str(error.get("Message") or "")
    setup = setup_error(exc)
    if setup is not None:
        return None, str(setup)
    if isinstance(exc, (OSError, TimeoutError)) or type(exc).__module__.startswith(
        _TRANSPORT_MODULES
    ):
        return None, f"{type(exc).__name__}: {exc}"
    return None


async def call(
    method: Callable[..., Awaitable[dict[str, Any]] | dict[str, Any]],
    *,
    retry: RetryPolicy,
    propagating_role: bool = False,
    limiter: AdaptiveRate | None = None,
    **params: Any,
) -> dict[str, Any]:
    """``await method(**params)``, retried per ``retry``; failures raise ``AWSCallError``.

    ``method`` belongs to an aioboto3 client, or to a boto3 client (run in a worker thread).
    ``limiter``: every attempt waits for a slot of its service's rate first, and tells
    it whether AWS throttled it.

    ``propagating_role``: the call uses a role created moments ago, so Cognito's
    complaint that the role is invalid is retried until IAM catches up.
    """

    def classify(exc: BaseException) -> str | None:
        details = error_details(exc)
        if details is None:
            return None
        code, message = details
        if code in THROTTLING_CODES:
            if limiter is not None:
                limiter.was_throttled()
            return "throttled"
        if propagating_role and is_role_propagation_error(code, message):
            return "propagation"
        return None

    blocking = _blocks(method)

    async def attempt() -> dict[str, Any]:
        if limiter is not None:
            await limiter.acquire()
        if blocking:
            # A boto3 client (the seed's way): thread-safe but blocking, so each call gets
            # a worker thread and the event loop stays free for the other groups.
            result = await anyio.to_thread.run_sync(functools.partial(method, **params))
        else:
            result = await method(**params)  # type: ignore[misc]
        if limiter is not None:
            limiter.succeeded()
        return result  # type: ignore[return-value]

    try:
        return await retrying(attempt, policy=retry, should_retry=classify)
    except Exception as exc:
        details = error_details(exc)
        if details is None:
            raise
        code, message = details
        operation = str(getattr(exc, "operation_name", "") or _operation_of(method))
        raise AWSCallError(operation, code, message) from exc


def _blocks(method: Callable[..., Any]) -> bool:
    """Whether ``method`` belongs to a blocking botocore client (boto3) rather than aiobotocore.

    aiobotocore's generated methods don't look like coroutine functions, but the
    ``_make_api_call`` they all go through does.
    """
    make_api_call = getattr(getattr(method, "__self__", None), "_make_api_call", None)
    return make_api_call is not None and not inspect.iscoroutinefunction(make_api_call)


def _operation_of(method: Callable[..., Any]) -> str:
    # Client methods are snake_case versions of the API action: get_role -> GetRole.
    name = getattr(method, "__name__", "call")
    return "".join(part.title() for part in name.split("_"))


async def pages(
    method: Callable[..., Awaitable[dict[str, Any]] | dict[str, Any]],
    *,
    retry: RetryPolicy,
    limiter: AdaptiveRate | None = None,
    **params: Any,
) -> AsyncIterator[dict[str, Any]]:
    """Every page of a Cognito listing, following ``NextToken`` until there is none."""
    request: dict[str, Any] = dict(params)
    while True:
        page = await call(method, retry=retry, limiter=limiter, **request)
        yield page
        token = page.get("NextToken")
        if not token:
            return
        request["NextToken"] = token


def check_user_pool_id(pool_id: object) -> str:
    if pool_id is None:
        raise ConfigurationError(
            "cognito_pool_id: expected the user pool id (such as 'us-east-1_AbC123'), "
            "found None; every run reads the pool's groups, so it is always required"
        )
    return _names.check_user_pool_id(pool_id, "cognito_pool_id")
