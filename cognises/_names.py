"""AWS region names, user pool ids and the issuers of a pool: checked where they enter.

A region and a pool id become part of the host and path the keys are fetched from and of
the issuer a token must name, so each is held to AWS's own form before it is used: a
value such as ``"x@127.0.0.1:8000/"`` or ``"evil.example/"`` would otherwise move the key
fetch to another host. Every entry point (the verifiers, ``login_check``, the Flask
config, the command line, provisioning) calls these, so they all agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cognises._show import show
from cognises.errors import ConfigurationError

__all__ = ["check_region", "check_regions", "check_user_pool_id", "issuers_for"]

# Two letters, an optional partition infix (us-gov-, us-iso-, us-isob-, eu-isoe-...), a
# direction and a number: every region botocore lists for the partitions whose Cognito
# host is under amazonaws.com, such as us-east-1, eu-central-2, ap-southeast-5,
# il-central-1, mx-central-1, us-gov-west-1 and cn-north-1. Matched whole (fullmatch):
# `$` would let a trailing newline through.
_REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")
# UserPoolId in Cognito's API reference: [\w-]+_[0-9a-zA-Z]+, at most 55 characters. The
# part before the underscore is the pool's region, which _REGION narrows further.
_POOL_ID = re.compile(r"(?P<region>[a-z0-9-]+)_[0-9a-zA-Z]+")
_POOL_ID_MAX = 55

REGION_FORM = "an AWS region such as 'us-east-1'"
POOL_ID_FORM = "a user pool id '<region>_<id>' such as 'us-east-1_AbC123'"


def check_region(value: object, where: str) -> str:
    """``value`` if it is an AWS region name; else ``ConfigurationError`` naming ``where``."""
    if isinstance(value, str) and _REGION.fullmatch(value):
        return value
    raise ConfigurationError(f"{where}: expected {REGION_FORM}, found {show(value)}")


def check_regions(values: object, where: str) -> frozenset[str]:
    """A region or several (an iterable), each checked as ``check_region`` does."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        raise ConfigurationError(
            f"{where}: expected AWS regions such as ['us-west-2'], found {show(values)}"
        )
    return frozenset(check_region(value, where) for value in values)


def check_user_pool_id(value: object, where: str, *, region: str | None = None) -> str:
    """``value`` if it is a user pool id (of ``region``, when given); else ``ConfigurationError``.

    Without ``region`` (provisioning, which is given no region) the pool id's own region
    part must still be a region name.
    """
    pool_region = _region_of(value)
    if pool_region is None:
        raise ConfigurationError(f"{where}: expected {POOL_ID_FORM}, found {show(value)}")
    if region is not None and pool_region != region:
        raise ConfigurationError(
            f"{where}: expected a user pool id of region {region!r} ('{region}_<id>'), "
            f"found {show(value)}"
        )
    assert isinstance(value, str)
    return value


def _region_of(pool_id: object) -> str | None:
    if not isinstance(pool_id, str) or len(pool_id) > _POOL_ID_MAX:
        return None
    match = _POOL_ID.fullmatch(pool_id)
    if match is None or not _REGION.fullmatch(match["region"]):
        return None
    return match["region"]


def issuers_for(
    region: str, user_pool_id: str, additional_regions: Iterable[str] = ()
) -> frozenset[str]:
    """Every ``iss`` a genuine token of the pool may carry.

    Cognito issues the original form ``https://cognito-idp.<region>.amazonaws.com/<pool>``
    and the updated form ``https://issuer-cognito-idp.<region>.amazonaws.com/<pool>``.
    With multi-region replication the original form names the region whose endpoint
    issued the token (a replica's), while the updated form always names the pool's
    primary region: so replicas add only original forms.
    """
    issuers = {f"https://issuer-cognito-idp.{region}.amazonaws.com/{user_pool_id}"}
    for name in (region, *additional_regions):
        issuers.add(f"https://cognito-idp.{name}.amazonaws.com/{user_pool_id}")
    return frozenset(issuers)
