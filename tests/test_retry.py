"""Retrying throttled calls and error translation, without AWS: fake client methods."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from cognises.aio import RetryPolicy
from cognises.aio._aws import AWSCallError, call, pages
from cognises.aio._retry import THROTTLING_CODES
from cognises.errors import ConfigurationError

pytestmark = pytest.mark.anyio

QUICK = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.002, propagation_delay=0.001)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client_error(code: str, message: str = "no", operation: str = "GetRole") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class Flaky:
    """An async client method that raises the given errors first, then succeeds."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls: list[dict[str, Any]] = []
        self.__name__ = "get_role"

    async def __call__(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": True}


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES))
async def test_every_throttling_code_is_retried(code: str) -> None:
    method = Flaky(client_error(code), client_error(code))

    assert await call(method, retry=QUICK, RoleName="r") == {"ok": True}
    assert method.calls == [{"RoleName": "r"}] * 3


async def test_throttling_is_retried_up_to_max_attempts_then_translated() -> None:
    method = Flaky(*[client_error("Throttling", "Rate exceeded")] * 10)

    with pytest.raises(AWSCallError) as info:
        await call(method, retry=QUICK, RoleName="r")

    assert len(method.calls) == QUICK.max_attempts
    assert info.value.code == "Throttling"
    assert info.value.operation == "GetRole"
    assert info.value.message == "Rate exceeded"
    assert isinstance(info.value.__cause__, ClientError)


async def test_the_total_time_bounds_retries_too() -> None:
    policy = RetryPolicy(max_attempts=100, base_delay=0.01, max_delay=0.01, max_total=0.0)
    method = Flaky(*[client_error("Throttling")] * 10)

    with pytest.raises(AWSCallError):
        await call(method, retry=policy)

    assert len(method.calls) == 1


async def test_other_errors_are_not_retried() -> None:
    method = Flaky(client_error("AccessDenied", "User is not authorized"))

    with pytest.raises(AWSCallError) as info:
        await call(method, retry=QUICK)

    assert len(method.calls) == 1
    assert (info.value.code, info.value.message) == ("AccessDenied", "User is not authorized")


async def test_a_role_complaint_is_retried_only_for_a_propagating_role() -> None:
    complaint = client_error("InvalidParameterException", "Role is not valid", "CreateGroup")

    method = Flaky(complaint, complaint)
    assert await call(method, retry=QUICK, propagating_role=True) == {"ok": True}
    assert len(method.calls) == 3

    method = Flaky(complaint)
    with pytest.raises(AWSCallError, match="InvalidParameterException"):
        await call(method, retry=QUICK)
    assert len(method.calls) == 1


async def test_propagation_retries_stop_at_their_timeout() -> None:
    policy = RetryPolicy(propagation_delay=0.001, propagation_timeout=0.0)
    complaint = client_error("InvalidParameterException", "Role not found", "CreateGroup")
    method = Flaky(complaint, complaint)

    with pytest.raises(AWSCallError):
        await call(method, retry=policy, propagating_role=True)

    assert len(method.calls) == 1


async def test_transport_errors_are_translated_without_a_code() -> None:
    method = Flaky(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))

    with pytest.raises(AWSCallError) as info:
        await call(method, retry=QUICK)

    assert info.value.code is None
    assert info.value.operation == "GetRole"
    assert "EndpointConnectionError" in info.value.message


async def test_programming_errors_are_not_translated() -> None:
    method = Flaky(KeyError("oops"))

    with pytest.raises(KeyError):
        await call(method, retry=QUICK)


async def test_pages_follow_next_token() -> None:
    seen: list[dict[str, Any]] = []

    async def list_groups(**params: Any) -> dict[str, Any]:
        seen.append(params)
        token = params.get("NextToken")
        return {"Groups": [token], "NextToken": {None: "a", "a": "b"}.get(token)}

    items = [page["Groups"] async for page in pages(list_groups, retry=QUICK, UserPoolId="p")]

    assert items == [[None], ["a"], ["b"]]
    assert seen == [
        {"UserPoolId": "p"},
        {"UserPoolId": "p", "NextToken": "a"},
        {"UserPoolId": "p", "NextToken": "b"},
    ]


def test_backoff_is_full_jitter_under_an_exponential_bound() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)

    for attempt, bound in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (30, 1.0)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= bound for d in delays)
        assert max(delays) > bound / 2, "full jitter should reach near the bound"


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"propagation_timeout": -1.0}],
)
def test_a_nonsense_policy_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="expected"):
        RetryPolicy(**options)


def test_cognises_aio_imports_without_the_aws_extra() -> None:
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class NoAWS(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("aioboto3", "aiobotocore", "botocore", "boto3"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, NoAWS())
        import cognises.aio
        from cognises._groupdetail import validate_group_detail
        assert callable(cognises.aio.create_update)
        assert callable(cognises.aio.aws_clients)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("botocore", "aioboto3")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
