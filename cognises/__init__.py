"""cognises: AWS Cognito group-based authorization for Flask and asyncio.

The top level is the blocking API the original package had: ``create_update``,
``login_check`` and ``permission_required``, plus the sync ``CognitoVerifier`` and the
errors. The asyncio core is ``cognises.aio``; the Flask pieces live in ``cognises.flask``
and load only when used, so ``import cognises`` works without Flask installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cognises._claims import Claims
from cognises._permissions import require_groups, require_scopes
from cognises.errors import (
    CognisesError,
    ConfigurationError,
    GroupDetailError,
    JWKSError,
    PermissionDenied,
    ProvisioningError,
    TokenError,
)
from cognises.sync import CognitoVerifier, create_update

if TYPE_CHECKING:
    from cognises.flask import Cognises, current_claims, login_check, permission_required

__version__ = "1.0.0.dev0"

__all__ = [
    "Claims",
    "Cognises",
    "CognisesError",
    "CognitoVerifier",
    "ConfigurationError",
    "GroupDetailError",
    "JWKSError",
    "PermissionDenied",
    "ProvisioningError",
    "TokenError",
    "create_update",
    "current_claims",
    "login_check",
    "permission_required",
    "require_groups",
    "require_scopes",
]

_FLASK_NAMES = frozenset({"Cognises", "current_claims", "login_check", "permission_required"})


def __getattr__(name: str) -> Any:
    if name in _FLASK_NAMES:
        try:
            import cognises.flask as flask_layer
        except ModuleNotFoundError as exc:
            if exc.name != "flask":
                raise
            raise ImportError(
                f"cognises.{name} needs Flask: install it with pip install 'cognises[flask]'"
            ) from exc
        return getattr(flask_layer, name)
    raise AttributeError(f"module 'cognises' has no attribute {name!r}")
