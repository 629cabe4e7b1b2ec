"""A group's Cognito side: the group itself, pointing at its role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cognises._groupdetail import GroupSpec
from cognises._report import Change
from cognises.aio._aws import AWSCallError
from cognises.aio._run import COGNITO, Progress, Run

__all__ = ["delete_group", "ensure_group"]


async def ensure_group(
    spec: GroupSpec,
    role_name: str,
    run: Run,
    progress: Progress,
    *,
    role_arn: str | None,
    propagating: bool,
) -> None:
    current = run.existing.get(spec.name)
    if current is None:
        try:
            await run.write(
                progress,
                Change("CreateGroup", spec.name, "group does not exist"),
                COGNITO,
                run.cognito.create_group,
                propagating_role=propagating,
                **_group_params(spec, run.pool_id, role_arn, current=None),
            )
            return
        except AWSCallError as exc:
            if exc.code != "GroupExistsException":
                raise
        # Created since we listed the pool (by a concurrent run): compare it like any other.
        response = await run.read(
            COGNITO, run.cognito.get_group, GroupName=spec.name, UserPoolId=run.pool_id
        )
        current = response["Group"]

    differences = _group_differences(spec, role_name, current, role_arn)
    if differences:
        await run.write(
            progress,
            Change("UpdateGroup", spec.name, "; ".join(differences)),
            COGNITO,
            run.cognito.update_group,
            propagating_role=propagating,
            **_group_params(spec, run.pool_id, role_arn, current=current),
        )


async def delete_group(name: str, run: Run, progress: Progress) -> None:
    if name not in run.existing:
        return
    try:
        await run.write(
            progress,
            Change("DeleteGroup", name),
            COGNITO,
            run.cognito.delete_group,
            GroupName=name,
            UserPoolId=run.pool_id,
        )
    except AWSCallError as exc:
        if exc.code != "ResourceNotFoundException":
            raise


def _group_params(
    spec: GroupSpec, pool_id: str, role_arn: str | None, *, current: Mapping[str, Any] | None
) -> dict[str, Any]:
    # UpdateGroup resets what it is not given, so attributes the document leaves out are
    # sent back as they are.
    params: dict[str, Any] = {"GroupName": spec.name, "UserPoolId": pool_id}
    if role_arn is not None:
        params["RoleArn"] = role_arn
    description = spec.description
    precedence = spec.precedence
    if current is not None:
        description = current.get("Description") if description is None else description
        precedence = current.get("Precedence") if precedence is None else precedence
    if description is not None:
        params["Description"] = description
    if precedence is not None:
        params["Precedence"] = precedence
    return params


def _group_differences(
    spec: GroupSpec, role_name: str, current: Mapping[str, Any], role_arn: str | None
) -> list[str]:
    differences = []
    current_arn = current.get("RoleArn")
    if role_arn is None:
        # Dry run with a role still to create: its ARN is unknown, its name is not.
        if not (isinstance(current_arn, str) and current_arn.endswith(f"/{role_name}")):
            differences.append(f"RoleArn: {current_arn!r} -> the ARN of {role_name}")
    elif current_arn != role_arn:
        differences.append(f"RoleArn: {current_arn!r} -> {role_arn!r}")
    if spec.description is not None and current.get("Description") != spec.description:
        differences.append("Description differs")
    if spec.precedence is not None and current.get("Precedence") != spec.precedence:
        differences.append(f"Precedence: {current.get('Precedence')!r} -> {spec.precedence!r}")
    return differences
