"""The online check: ask Cognito whether an access token still stands, once per ``ttl``.

A Cognito token verifies locally until it expires, revoked or not (AWS says so). ``GetUser``
with the access token itself fails after ``RevokeToken``, ``GlobalSignOut`` and
``AdminUserGlobalSignOut``, so asking it is the one way to learn of those. The answer is
kept per token (by its handle, as in the result cache) for ``ttl`` seconds: a signed-out
user is refused within ``ttl``, and a busy token costs one ``GetUser`` per ``ttl``, however
many requests carry it at once (single flight, across threads and event loops).

Cognito unreachable: ``fail_open=False`` (the default) raises ``AWSUnavailableError`` (a
503 in Flask); ``fail_open=True`` lets the token through with a WARNING and keeps that
pass for the error's ``retry_after`` seconds only, so an outage costs one call per token
per few seconds, not one per request.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from cognises._results import HANDLE_SIZE
from cognises.aio._flight import Flights
from cognises.aio._request_calls import Meaning, call, client
from cognises.errors import AWSUnavailableError, ConfigurationError, RevokedTokenError

__all__ = ["OnlineCheck", "check_freshness_options"]

log = logging.getLogger("cognises")

# token, monotonic time until which the answer holds, the refusal (None: the token stands)
_Answer = tuple["str | bytes", float, "str | None"]


def _refused(code: str, message: str) -> BaseException:
    return RevokedTokenError(f"expected a token Cognito still honours, found {code}: {message}")


_GET_USER: dict[str, Meaning] = {
    "NotAuthorizedException": _refused,
    "UserNotFoundException": _refused,
    "PasswordResetRequiredException": _refused,
    "UserNotConfirmedException": _refused,
}


def check_freshness_options(ttl: float, size: int, what: str) -> None:
    if not (isinstance(ttl, (int, float)) and math.isfinite(ttl) and ttl > 0) or not (
        isinstance(size, int) and size >= 1
    ):
        raise ConfigurationError(
            f"{what}: expected a finite ttl > 0 and size >= 1, found {ttl!r} and {size!r}"
        )


class OnlineCheck:
    """Refuse access tokens that Cognito no longer honours, asking at most once per ``ttl``.

    ``ttl``: seconds an answer is kept (the longest a revoked token may still pass).
    ``fail_open``: when Cognito cannot be reached, pass the token with a WARNING instead of
    raising ``AWSUnavailableError``. ``size``: tokens remembered (least recently used go
    first). ``endpoint_url``: Cognito's endpoint (a local emulator). ``clock``: a monotonic
    clock in seconds (tests move it instead of sleeping).

    Give it to a verifier of access tokens: ``CognitoVerifier(..., token_use="access",
    online_check=OnlineCheck(ttl=60))``. ``GetUser`` is unsigned (the token proves itself),
    so this needs no AWS credentials.
    """

    def __init__(
        self,
        *,
        ttl: float = 60.0,
        fail_open: bool = False,
        size: int = 4096,
        endpoint_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_freshness_options(ttl, size, "OnlineCheck")
        self.ttl = float(ttl)
        self.fail_open = bool(fail_open)
        self.size = size
        self.endpoint_url = endpoint_url
        self._clock = clock
        self._answers: OrderedDict[str | bytes, _Answer] = OrderedDict()
        self._flights = Flights()

    def __repr__(self) -> str:
        return f"OnlineCheck(ttl={self.ttl!r}, fail_open={self.fail_open!r}, size={self.size!r})"

    def __len__(self) -> int:
        return len(self._answers)

    def known(self, token: str | bytes) -> bool:
        """True when a fresh answer says the token stands; raise when it says it does not;
        False when Cognito must be asked (``await ensure``). Never does I/O."""
        handle = token[-HANDLE_SIZE:]
        answer = self._answers.get(handle)
        if answer is None or answer[0] != token:
            return False
        if self._clock() >= answer[1]:
            self._answers.pop(handle, None)
            return False
        try:  # noqa: SIM105 - contextlib.suppress costs more than the move
            self._answers.move_to_end(handle)
        except KeyError:  # evicted by another thread meanwhile
            pass
        if answer[2] is not None:
            raise RevokedTokenError(answer[2])
        return True

    async def ensure(self, token: str | bytes, *, region: str) -> None:
        """Return if Cognito honours the token (asking it unless a fresh answer says so)."""
        handle = token[-HANDLE_SIZE:]

        def found() -> bool | None:
            return True if self.known(token) else None

        async def ask() -> bool:
            held, refusal = await self._ask(token, region)
            self._keep(handle, token, held, refusal)
            if refusal is not None:
                raise RevokedTokenError(refusal)
            return True

        await self._flights.run(handle, ask, found=found)

    async def _ask(self, token: str | bytes, region: str) -> tuple[float, str | None]:
        """How long the answer holds, and the refusal (None: the token stands)."""
        text = token if isinstance(token, str) else token.decode("ascii")
        try:
            async with client(
                "cognito-idp", region=region, endpoint_url=self.endpoint_url
            ) as cognito:
                await call(cognito.get_user, _GET_USER, AccessToken=text)
        except RevokedTokenError as exc:
            return self.ttl, str(exc)
        except AWSUnavailableError as exc:
            if not self.fail_open:
                raise
            log.warning("online check passed a token unchecked (fail_open): %s", exc)
            return min(self.ttl, exc.retry_after), None
        return self.ttl, None

    def _keep(
        self, handle: str | bytes, token: str | bytes, held: float, refusal: str | None
    ) -> None:
        answers = self._answers
        answers[handle] = (token, self._clock() + held, refusal)
        answers.move_to_end(handle)
        while len(answers) > self.size:
            try:
                answers.popitem(last=False)
            except KeyError:  # another thread emptied it first
                break

    def clear(self) -> None:
        self._answers.clear()
