"""Blocking twins of ``cognises.aio``, for Flask views, scripts and other threads."""

from cognises._claims import Claims
from cognises._credentials import AWSCredentials
from cognises._denylist import Denylist
from cognises._permissions import require_groups, require_roles, require_scopes
from cognises._report import GroupOutcome, GroupReport, MembershipReport, ProvisioningReport
from cognises.aio._alb_keys import AlbKeyCache
from cognises.aio._alb_verifier import AlbIdentity
from cognises.aio._credential_cache import CredentialCache
from cognises.aio._fetch import FetchOptions
from cognises.aio._jwks import JWKSCache
from cognises.aio._online import OnlineCheck
from cognises.aio._retry import RetryPolicy
from cognises.sync._alb_verifier import AlbVerifier
from cognises.sync._aws import (
    add_users_to_group,
    create_update,
    delete_groups,
    list_groups,
    list_groups_for_user,
    list_users_in_group,
    remove_users_from_group,
    revoke,
)
from cognises.sync._identity_pool import IdentityPool
from cognises.sync._live_groups import LiveGroups
from cognises.sync._multipool import MultiPoolVerifier
from cognises.sync._verifier import CognitoVerifier

__all__ = [
    "AWSCredentials",
    "AlbIdentity",
    "AlbKeyCache",
    "AlbVerifier",
    "Claims",
    "CognitoVerifier",
    "CredentialCache",
    "Denylist",
    "FetchOptions",
    "GroupOutcome",
    "GroupReport",
    "IdentityPool",
    "JWKSCache",
    "LiveGroups",
    "MembershipReport",
    "MultiPoolVerifier",
    "OnlineCheck",
    "ProvisioningReport",
    "RetryPolicy",
    "add_users_to_group",
    "create_update",
    "delete_groups",
    "list_groups",
    "list_groups_for_user",
    "list_users_in_group",
    "remove_users_from_group",
    "require_groups",
    "require_roles",
    "require_scopes",
    "revoke",
]
