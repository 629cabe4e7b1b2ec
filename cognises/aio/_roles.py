"""A group's IAM role: created under cognises' path with tags naming its pool and group,
changed or deleted only when those tags say it is this group's, and checked for drift.

Ownership is in the tags, not the name: an account holds other people's roles, some of
them named like ours (the seed's ``role_<group>``, another service's ``ci-deploy``). A
role without our tags, or with the tags of another pool or group, fails its group with
a message naming what was found, unless the run was told to ``adopt`` it (then it is
tagged, and converged like one of ours). A role made by an interrupted run already has
its tags, since ``CreateRole`` sets them in the same call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from cognises._groupdetail import GroupSpec
from cognises._report import Change
from cognises.aio._aws import AWSCallError
from cognises.aio._run import IAM, NotOwned, Progress, Run

__all__ = [
    "GROUP_TAG",
    "POOL_TAG",
    "delete_role",
    "ensure_policy",
    "ensure_role",
    "parse_policy_document",
    "recently_created",
    "trust_policy",
]

POOL_TAG = "cognises:user-pool-id"
GROUP_TAG = "cognises:group"
# A role this young may not have reached Cognito yet, even if an earlier, interrupted
# run created it: Cognito's complaints about it are then worth retrying.
_PROPAGATION_WINDOW = dt.timedelta(minutes=5)
# IAM tag values: Unicode letters, digits, spaces and _.:/=+-@, up to 256 characters.
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}")


def trust_policy(audience: str) -> dict[str, Any]:
    """The trust policy of a group's role: assumable through ``audience``'s identities.

    ``audience`` must be a Cognito *identity* pool id: it is what AWS puts in the
    ``cognito-identity.amazonaws.com:aud`` key when a web identity assumes the role.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": audience},
                    "ForAnyValue:StringLike": {
                        "cognito-identity.amazonaws.com:amr": "authenticated"
                    },
                },
            }
        ],
    }


def group_tag_value(group_name: str) -> str:
    """The group name as a tag value; a name IAM would refuse there becomes its hash."""
    if _TAG_VALUE.fullmatch(group_name):
        return group_name
    return "sha256:" + hashlib.sha256(group_name.encode()).hexdigest()


def ownership_tags(pool_id: str, group_name: str) -> list[dict[str, str]]:
    return [
        {"Key": POOL_TAG, "Value": pool_id},
        {"Key": GROUP_TAG, "Value": group_tag_value(group_name)},
    ]


def owner_problem(role: Mapping[str, Any], pool_id: str, group_name: str) -> str | None:
    """None if ``role`` is tagged for this pool and group, else what was found instead."""
    tags = {t.get("Key"): t.get("Value") for t in role.get("Tags") or []}
    if tags.get(POOL_TAG) == pool_id and tags.get(GROUP_TAG) == group_tag_value(group_name):
        return None
    found = [f"{key}={tags[key]!r}" for key in (POOL_TAG, GROUP_TAG) if key in tags]
    return ", ".join(found) if found else "no cognises tags"


async def ensure_role(
    spec: GroupSpec, role_name: str, run: Run, progress: Progress
) -> tuple[dict[str, Any] | None, bool]:
    """The role, created if missing (None in a dry run), and whether this run created it."""
    if run.dry_run or spec.name in run.existing:
        role = await _get_role(role_name, run)
    else:
        # No group yet, so almost surely no role either: create it without reading first,
        # and fall back to the existing one if an interrupted run got that far.
        role = None
    if role is None:
        params: dict[str, Any] = {
            "RoleName": role_name,
            "Path": run.role_path,
            "AssumeRolePolicyDocument": json.dumps(run.trust),
            "Tags": ownership_tags(run.pool_id, spec.name),
        }
        if run.permissions_boundary is not None:
            params["PermissionsBoundary"] = run.permissions_boundary
        try:
            created = await run.write(
                progress,
                Change("CreateRole", role_name, "role does not exist"),
                IAM,
                run.iam.create_role,
                **params,
            )
        except AWSCallError as exc:
            if exc.code != "EntityAlreadyExists":
                raise
        else:
            return (created["Role"] if created else None), created is not None
        role = await _get_role(role_name, run)
        if role is None:
            raise AWSCallError(
                "GetRole", "NoSuchEntity", f"role {role_name} existed a moment ago, then not"
            )
    await _claim(spec, role_name, role, run, progress)
    if parse_policy_document(role.get("AssumeRolePolicyDocument")) != run.trust:
        await run.write(
            progress,
            Change("UpdateAssumeRolePolicy", role_name, "trust policy differs"),
            IAM,
            run.iam.update_assume_role_policy,
            RoleName=role_name,
            PolicyDocument=json.dumps(run.trust),
        )
    await _converge_boundary(role_name, role, run, progress)
    await _converge_extras(spec, role_name, run, progress)
    return role, False


async def _claim(
    spec: GroupSpec, role_name: str, role: Mapping[str, Any], run: Run, progress: Progress
) -> None:
    found = owner_problem(role, run.pool_id, spec.name)
    if found is None:
        return
    if not run.adopt:
        raise NotOwned(
            f"role {role_name!r} exists but is not cognises' role for user pool "
            f"{run.pool_id!r} and group {spec.name!r} (tags found: {found}); it was left "
            "exactly as it is. If it is meant to be this group's role, run again with "
            "adopt=True (CLI --adopt): cognises then tags it and converges it; otherwise "
            "give the group another role_name"
        )
    await run.write(
        progress,
        Change("TagRole", role_name, f"adopted (tags found: {found})"),
        IAM,
        run.iam.tag_role,
        RoleName=role_name,
        Tags=ownership_tags(run.pool_id, spec.name),
    )


async def _converge_boundary(
    role_name: str, role: Mapping[str, Any], run: Run, progress: Progress
) -> None:
    current = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    wanted = run.permissions_boundary
    if current == wanted:
        return
    if wanted is not None:
        await run.write(
            progress,
            Change("PutRolePermissionsBoundary", role_name, f"boundary {current!r} -> {wanted!r}"),
            IAM,
            run.iam.put_role_permissions_boundary,
            RoleName=role_name,
            PermissionsBoundary=wanted,
        )
    elif run.prune:
        await run.write(
            progress,
            Change("DeleteRolePermissionsBoundary", role_name, f"boundary {current!r} pruned"),
            IAM,
            run.iam.delete_role_permissions_boundary,
            RoleName=role_name,
        )
    else:
        progress.drift.append(f"permissions boundary {current} (none asked for)")


async def _converge_extras(spec: GroupSpec, role_name: str, run: Run, progress: Progress) -> None:
    """Inline policies other than ours and attached managed policies: drift, or pruned."""
    others = [n for n in await inline_policy_names(role_name, run) or [] if n != spec.policy_name]
    attached = await _attached_policy_arns(role_name, run)
    for name in others:
        if run.prune:
            await run.write(
                progress,
                Change("DeleteRolePolicy", f"{role_name}/{name}", "inline policy pruned"),
                IAM,
                run.iam.delete_role_policy,
                RoleName=role_name,
                PolicyName=name,
            )
        else:
            progress.drift.append(f"inline policy {name!r} not in the document")
    for arn in attached:
        if run.prune:
            await run.write(
                progress,
                Change("DetachRolePolicy", f"{role_name}/{arn}", "managed policy pruned"),
                IAM,
                run.iam.detach_role_policy,
                RoleName=role_name,
                PolicyArn=arn,
            )
        else:
            progress.drift.append(f"managed policy {arn} attached")


async def ensure_policy(
    spec: GroupSpec, role_name: str, run: Run, progress: Progress, *, role_exists: bool, fresh: bool
) -> None:
    if role_exists and not fresh:
        try:
            current = await run.read(
                IAM, run.iam.get_role_policy, RoleName=role_name, PolicyName=spec.policy_name
            )
        except AWSCallError as exc:
            if exc.code != "NoSuchEntity":
                raise
            reason = "no inline policy"
        else:
            if parse_policy_document(current.get("PolicyDocument")) == spec.policy:
                return
            reason = "inline policy differs"
    else:
        # A role that does not exist yet (dry run) or was just created has no inline policy.
        reason = "no inline policy"
    await run.write(
        progress,
        Change("PutRolePolicy", f"{role_name}/{spec.policy_name}", reason),
        IAM,
        run.iam.put_role_policy,
        RoleName=role_name,
        PolicyName=spec.policy_name,
        PolicyDocument=json.dumps(spec.policy),
    )


async def delete_role(group_name: str, role_name: str, run: Run, progress: Progress) -> None:
    """Delete the role if, and only if, it is tagged for this pool and group."""
    role = await _get_role(role_name, run)
    if role is None:
        return
    found = owner_problem(role, run.pool_id, group_name)
    if found is not None:
        raise NotOwned(
            f"role {role_name!r} is not cognises' role for user pool {run.pool_id!r} and "
            f"group {group_name!r} (tags found: {found}), so it was not deleted; delete it "
            "yourself, or adopt it first with create_update(adopt=True)"
        )
    # IAM refuses to delete a role that still has policies.
    for policy_name in await inline_policy_names(role_name, run) or []:
        await _delete_ignoring_missing(
            run,
            progress,
            Change("DeleteRolePolicy", f"{role_name}/{policy_name}"),
            run.iam.delete_role_policy,
            RoleName=role_name,
            PolicyName=policy_name,
        )
    for arn in await _attached_policy_arns(role_name, run):
        await _delete_ignoring_missing(
            run,
            progress,
            Change("DetachRolePolicy", f"{role_name}/{arn}"),
            run.iam.detach_role_policy,
            RoleName=role_name,
            PolicyArn=arn,
        )
    await _delete_ignoring_missing(
        run, progress, Change("DeleteRole", role_name), run.iam.delete_role, RoleName=role_name
    )


async def inline_policy_names(role_name: str, run: Run) -> list[str] | None:
    """The role's inline policy names, or None if there is no such role."""
    names: list[str] = []
    params: dict[str, Any] = {"RoleName": role_name}
    while True:
        try:
            page = await run.read(IAM, run.iam.list_role_policies, **params)
        except AWSCallError as exc:
            if exc.code == "NoSuchEntity":
                return None
            raise
        names.extend(page.get("PolicyNames", []))
        if not page.get("IsTruncated"):
            return names
        params["Marker"] = page["Marker"]


async def _attached_policy_arns(role_name: str, run: Run) -> list[str]:
    arns: list[str] = []
    params: dict[str, Any] = {"RoleName": role_name}
    while True:
        try:
            page = await run.read(IAM, run.iam.list_attached_role_policies, **params)
        except AWSCallError as exc:
            if exc.code == "NoSuchEntity":
                return arns
            raise
        arns.extend(p["PolicyArn"] for p in page.get("AttachedPolicies", []))
        if not page.get("IsTruncated"):
            return arns
        params["Marker"] = page["Marker"]


async def _delete_ignoring_missing(
    run: Run, progress: Progress, change: Change, method: Any, **params: Any
) -> None:
    try:
        await run.write(progress, change, IAM, method, **params)
    except AWSCallError as exc:
        if exc.code != "NoSuchEntity":
            raise


async def _get_role(role_name: str, run: Run) -> dict[str, Any] | None:
    try:
        response = await run.read(IAM, run.iam.get_role, RoleName=role_name)
    except AWSCallError as exc:
        if exc.code == "NoSuchEntity":
            return None
        raise
    role: dict[str, Any] = response["Role"]
    return role


def parse_policy_document(value: object) -> object:
    """A policy document as returned by IAM, parsed: botocore usually decodes it already,
    but IAM's wire format is URL-encoded JSON, and other clients pass that through."""
    if not isinstance(value, str):
        return value
    for text in (value, unquote(value)):
        try:
            return json.loads(text)
        except ValueError:
            continue
    return value


def recently_created(role: Mapping[str, Any] | None) -> bool:
    created = role.get("CreateDate") if role else None
    if not isinstance(created, dt.datetime) or created.tzinfo is None:
        return False
    return dt.datetime.now(dt.timezone.utc) - created < _PROPAGATION_WINDOW
