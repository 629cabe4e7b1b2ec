"""Turning the group document into Cognito groups linked to IAM roles, and removing them.

``create_update`` converges: whatever the ``created`` flags say, each group ends with a
role (created, or adopted if it exists), the role's trust policy and inline policy equal
to the desired ones, and a Cognito group pointing at the role. Only differences are
written, so a second run over the same document makes no write call, and a run that was
interrupted anywhere is finished by running it again: roles have fixed names, so the
re-run adopts a role whose group was never created instead of leaving it orphaned.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.to_thread

from cognises._groupdetail import (
    GroupDetailSource,
    GroupSpec,
    created_true_like,
    load_group_detail,
    role_name_for,
    validate_group_detail,
)
from cognises._report import (
    Change,
    GroupOutcome,
    GroupReport,
    ProgressEvent,
    ProvisioningReport,
)
from cognises._state import check_state_path, write_json_atomic
from cognises.aio._aws import COGNITO_PAGE_MAX, AWSCallError, call, check_user_pool_id, pages
from cognises.aio._clients import default_clients
from cognises.aio._retry import RetryPolicy
from cognises.aio._tasks import check_concurrency, map_limited
from cognises.errors import ConfigurationError, ProvisioningError

__all__ = ["create_update", "delete_groups", "trust_policy"]

logger = logging.getLogger("cognises.aio")

_IDENTITY_POOL_ID = re.compile(r"[\w-]+:[0-9a-f-]+")
# A role this young may not have reached Cognito yet, even if an earlier, interrupted
# run created it: Cognito's complaints about it are then worth retrying.
_PROPAGATION_WINDOW = dt.timedelta(minutes=5)


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


@default_clients
async def create_update(
    group_detail: GroupDetailSource,
    iam_client: Any,
    cognito_client: Any,
    cognito_pool_id: str | None = None,
    *,
    identity_pool_id: str | None = None,
    concurrency: int = 16,
    dry_run: bool = False,
    state_path: str | os.PathLike[str] | None = None,
    retry: RetryPolicy | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
) -> ProvisioningReport:
    """Make the user pool's groups and their IAM roles match ``group_detail``.

    ``group_detail`` is the seed's list of group objects, or a path to a JSON file holding
    one. The whole document is validated first (``GroupDetailError`` lists every problem;
    no AWS call is made). Groups then converge concurrently, ``concurrency`` at a time, the
    calls of each group in order: role, inline policy, group. With ``dry_run`` only reads
    are made and the report lists the planned changes.

    Each group that converged has its ``created`` flag set to true in the document (a
    string stays a string); with ``state_path`` (and not ``dry_run``) the document is then
    written there atomically, even if the run fails or is cancelled part-way. Nothing is
    written anywhere else: not to the input file, not to the working directory.

    ``retry`` bounds the retries of throttled calls and of roles IAM has not propagated
    yet. ``on_progress`` is called on the event loop after each group's role, policy and
    group steps (``ProgressEvent.step``), then once with the group's report.

    Returns the report, or raises ``ProvisioningError`` carrying it if any group failed.
    """
    pool_id = check_user_pool_id(cognito_pool_id)
    if identity_pool_id is not None and not (
        isinstance(identity_pool_id, str) and _IDENTITY_POOL_ID.fullmatch(identity_pool_id)
    ):
        raise ConfigurationError(
            "identity_pool_id: expected an identity pool id such as "
            f"'us-east-1:0a1b2c3d-...', found {identity_pool_id!r}"
        )
    check_concurrency(concurrency)
    if state_path is not None:
        check_state_path(state_path)
    document = load_group_detail(group_detail)
    specs = validate_group_detail(document)

    if identity_pool_id is None:
        logger.warning(
            "identity_pool_id not given: the roles' trust policies put the user pool id %s "
            "in the cognito-identity.amazonaws.com:aud condition, as the seed did. AWS "
            "compares aud with an identity pool id, so no identity can assume these roles "
            "until create_update is run with identity_pool_id.",
            pool_id,
        )
    run = _Run(
        iam=iam_client,
        cognito=cognito_client,
        pool_id=pool_id,
        trust=trust_policy(identity_pool_id or pool_id),
        retry=retry or RetryPolicy(),
        dry_run=dry_run,
        on_progress=on_progress,
    )

    async def converge(spec: GroupSpec) -> GroupReport:
        report = await _guarded(spec.name, spec.role_name, lambda p: _converge(spec, run, p))
        if not report.failed and not dry_run and not spec.created:
            entry = document[spec.index]
            entry["created"] = created_true_like(entry["created"])
        run.notify(ProgressEvent(spec.name, "done", report))
        return report

    save_to = None if dry_run else state_path
    try:
        listing_error = await run.load_existing_groups() if specs else None
        if listing_error is not None:
            reports = [
                _failed(s.name, s.role_name, _Progress(), listing_error.summary, listing_error.code)
                for s in specs
            ]
        else:
            reports = await map_limited(converge, specs, concurrency=concurrency)
    except BaseException:
        # The flags set so far must reach the disk even when the run is being cancelled;
        # a failure to write them must not hide why the run stopped.
        if save_to is not None:
            await _save_state(save_to, document, quiet=True)
        raise
    report = ProvisioningReport(tuple(reports), dry_run=dry_run)
    if save_to is not None:
        try:
            await _save_state(save_to, document, quiet=False)
        except OSError as exc:
            raise ProvisioningError(
                f"state_path: expected to write the document to {os.fspath(save_to)!r}, found "
                f"{exc.strerror or exc}; the run: {report.summary()}",
                report=report,
            ) from exc
    return _settled("create_update", report, "converge")


@default_clients
async def delete_groups(
    names: Iterable[str],
    iam_client: Any,
    cognito_client: Any,
    cognito_pool_id: str | None = None,
    *,
    role_names: Mapping[str, str] | None = None,
    concurrency: int = 16,
    retry: RetryPolicy | None = None,
) -> ProvisioningReport:
    """Delete Cognito groups, then their roles' inline policies, then the roles.

    A group's role is ``role_<group_name>`` unless ``role_names`` maps the group to
    another name. Whatever is already gone is skipped, so deleting twice is harmless.
    Raises ``ProvisioningError`` with the report if anything could not be deleted.
    """
    pool_id = check_user_pool_id(cognito_pool_id)
    check_concurrency(concurrency)
    wanted = _check_names(names)
    roles = dict(role_names or {})

    def role_of(name: str) -> str:
        return roles.get(name) or role_name_for(name)

    run = _Run(
        iam=iam_client,
        cognito=cognito_client,
        pool_id=pool_id,
        trust={},
        retry=retry or RetryPolicy(),
        dry_run=False,
    )

    async def delete(name: str) -> GroupReport:
        role_name = role_of(name)
        return await _guarded(name, role_name, lambda p: _delete(name, role_name, run, p))

    listing_error = await run.load_existing_groups() if wanted else None
    if listing_error is not None:
        reports = [
            _failed(n, role_of(n), _Progress(), listing_error.summary, listing_error.code)
            for n in wanted
        ]
    else:
        reports = await map_limited(delete, wanted, concurrency=concurrency)
    return _settled("delete_groups", ProvisioningReport(tuple(reports)), "be deleted")


async def _save_state(path: str | os.PathLike[str], document: list[Any], *, quiet: bool) -> None:
    with anyio.CancelScope(shield=True):
        try:
            await anyio.to_thread.run_sync(write_json_atomic, path, document)
        except Exception:
            if not quiet:
                raise
            logger.exception("could not write the group document to %s", os.fspath(path))


@dataclass
class _Run:
    iam: Any
    cognito: Any
    pool_id: str
    trust: dict[str, Any]
    retry: RetryPolicy
    dry_run: bool
    on_progress: Callable[[ProgressEvent], None] | None = None
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def notify(self, event: ProgressEvent) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(event)
        except Exception:
            # A broken progress display must not fail the group it reports on.
            logger.exception("on_progress callback failed for group %r", event.group_name)

    async def load_existing_groups(self) -> AWSCallError | None:
        """Read every group of the pool once, instead of one ``GetGroup`` per group.

        Returns the error that made the listing fail, so that every group can report it.
        """
        try:
            async for page in pages(
                self.cognito.list_groups,
                retry=self.retry,
                UserPoolId=self.pool_id,
                Limit=COGNITO_PAGE_MAX,
            ):
                for group in page.get("Groups", []):
                    self.existing[group["GroupName"]] = group
        except AWSCallError as exc:
            if exc.code == "ResourceNotFoundException":
                raise ConfigurationError(
                    f"cognito_pool_id: expected an existing user pool, found {self.pool_id!r}, "
                    f"which Cognito does not know ({exc.message})"
                ) from exc
            return exc
        return None


@dataclass
class _Progress:
    """What one group's run has done so far: kept when a later call fails."""

    changes: list[Change] = field(default_factory=list)
    role_arn: str | None = None


async def _guarded(
    name: str, role_name: str, work: Callable[[_Progress], Awaitable[GroupReport]]
) -> GroupReport:
    # One group's failure must not cancel the others: every exception (but not
    # cancellation, which is a BaseException) becomes this group's failed report.
    progress = _Progress()
    try:
        report: GroupReport = await work(progress)
    except AWSCallError as exc:
        logger.warning("group %r failed: %s", name, exc)
        return _failed(name, role_name, progress, exc.summary, exc.code)
    except Exception as exc:
        logger.exception("unexpected error while provisioning group %r", name)
        return _failed(name, role_name, progress, f"unexpected {type(exc).__name__}: {exc}")
    return report


def _failed(
    name: str, role_name: str, progress: _Progress, error: str, code: str | None = None
) -> GroupReport:
    return GroupReport(
        group_name=name,
        outcome=GroupOutcome.FAILED,
        role_name=role_name,
        role_arn=progress.role_arn,
        changes=tuple(progress.changes),
        error=f"group {name!r}: {error}",
        error_code=code,
    )


async def _converge(spec: GroupSpec, run: _Run, progress: _Progress) -> GroupReport:
    role, fresh = await _ensure_role(spec, run, progress)
    role_arn = role.get("Arn") if role else None
    progress.role_arn = role_arn
    run.notify(ProgressEvent(spec.name, "role"))
    await _ensure_policy(spec, run, progress, role_exists=role is not None, fresh=fresh)
    run.notify(ProgressEvent(spec.name, "policy"))
    await _ensure_group(spec, run, progress, role_arn=role_arn, role=role, fresh=fresh)
    run.notify(ProgressEvent(spec.name, "group"))

    actions = {c.action for c in progress.changes}
    if "CreateGroup" in actions:
        outcome = GroupOutcome.CREATED
    elif actions:
        outcome = GroupOutcome.UPDATED
    else:
        outcome = GroupOutcome.UNCHANGED
    return GroupReport(
        group_name=spec.name,
        outcome=outcome,
        role_name=spec.role_name,
        role_arn=role_arn,
        changes=tuple(progress.changes),
    )


async def _ensure_role(
    spec: GroupSpec, run: _Run, progress: _Progress
) -> tuple[dict[str, Any] | None, bool]:
    """The role, created if missing (None in a dry run), and whether this run created it."""
    if run.dry_run or spec.name in run.existing:
        role = await _get_role(spec.role_name, run)
    else:
        # No group yet, so almost surely no role either: create it without reading first,
        # and fall back to adopting it if an interrupted run got that far.
        role = None
    if role is None:
        try:
            created = await _write(
                run,
                progress,
                Change("CreateRole", spec.role_name, "role does not exist"),
                run.iam.create_role,
                RoleName=spec.role_name,
                AssumeRolePolicyDocument=json.dumps(run.trust),
            )
        except AWSCallError as exc:
            if exc.code != "EntityAlreadyExists":
                raise
        else:
            return (created["Role"] if created else None), created is not None
        role = await _get_role(spec.role_name, run)
        if role is None:
            raise AWSCallError(
                "GetRole", "NoSuchEntity", f"role {spec.role_name} existed a moment ago, then not"
            )
    if parse_policy_document(role.get("AssumeRolePolicyDocument")) != run.trust:
        await _write(
            run,
            progress,
            Change("UpdateAssumeRolePolicy", spec.role_name, "trust policy differs"),
            run.iam.update_assume_role_policy,
            RoleName=spec.role_name,
            PolicyDocument=json.dumps(run.trust),
        )
    return role, False


async def _ensure_policy(
    spec: GroupSpec, run: _Run, progress: _Progress, *, role_exists: bool, fresh: bool
) -> None:
    if role_exists and not fresh:
        try:
            current = await call(
                run.iam.get_role_policy,
                retry=run.retry,
                RoleName=spec.role_name,
                PolicyName=spec.policy_name,
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
    await _write(
        run,
        progress,
        Change("PutRolePolicy", f"{spec.role_name}/{spec.policy_name}", reason),
        run.iam.put_role_policy,
        RoleName=spec.role_name,
        PolicyName=spec.policy_name,
        PolicyDocument=json.dumps(spec.policy),
    )


async def _ensure_group(
    spec: GroupSpec,
    run: _Run,
    progress: _Progress,
    *,
    role_arn: str | None,
    role: dict[str, Any] | None,
    fresh: bool,
) -> None:
    propagating = fresh or _recently_created(role)
    current = run.existing.get(spec.name)
    if current is None:
        try:
            await _write(
                run,
                progress,
                Change("CreateGroup", spec.name, "group does not exist"),
                run.cognito.create_group,
                propagating_role=propagating,
                **_group_params(spec, run.pool_id, role_arn, current=None),
            )
            return
        except AWSCallError as exc:
            if exc.code != "GroupExistsException":
                raise
        # Created since we listed the pool (by a concurrent run): compare it like any other.
        response = await call(
            run.cognito.get_group, retry=run.retry, GroupName=spec.name, UserPoolId=run.pool_id
        )
        current = response["Group"]

    differences = _group_differences(spec, current, role_arn)
    if differences:
        await _write(
            run,
            progress,
            Change("UpdateGroup", spec.name, "; ".join(differences)),
            run.cognito.update_group,
            propagating_role=propagating,
            **_group_params(spec, run.pool_id, role_arn, current=current),
        )


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
    spec: GroupSpec, current: Mapping[str, Any], role_arn: str | None
) -> list[str]:
    differences = []
    current_arn = current.get("RoleArn")
    if role_arn is None:
        # Dry run with a role still to create: its ARN is unknown, its name is not.
        if not (isinstance(current_arn, str) and current_arn.endswith(f"/{spec.role_name}")):
            differences.append(f"RoleArn: {current_arn!r} -> the ARN of {spec.role_name}")
    elif current_arn != role_arn:
        differences.append(f"RoleArn: {current_arn!r} -> {role_arn!r}")
    if spec.description is not None and current.get("Description") != spec.description:
        differences.append("Description differs")
    if spec.precedence is not None and current.get("Precedence") != spec.precedence:
        differences.append(f"Precedence: {current.get('Precedence')!r} -> {spec.precedence!r}")
    return differences


async def _delete(name: str, role_name: str, run: _Run, progress: _Progress) -> GroupReport:
    if name in run.existing:
        progress.role_arn = run.existing[name].get("RoleArn")
        try:
            await _write(
                run,
                progress,
                Change("DeleteGroup", name),
                run.cognito.delete_group,
                GroupName=name,
                UserPoolId=run.pool_id,
            )
        except AWSCallError as exc:
            if exc.code != "ResourceNotFoundException":
                raise
    policy_names = await _inline_policy_names(role_name, run)
    if policy_names is not None:
        # IAM refuses to delete a role that still has policies.
        for policy_name in policy_names:
            await _delete_ignoring_missing(
                run,
                progress,
                Change("DeleteRolePolicy", f"{role_name}/{policy_name}"),
                run.iam.delete_role_policy,
                RoleName=role_name,
                PolicyName=policy_name,
            )
        await _delete_ignoring_missing(
            run, progress, Change("DeleteRole", role_name), run.iam.delete_role, RoleName=role_name
        )
    return GroupReport(
        group_name=name,
        outcome=GroupOutcome.DELETED if progress.changes else GroupOutcome.UNCHANGED,
        role_name=role_name,
        role_arn=progress.role_arn,
        changes=tuple(progress.changes),
    )


async def _inline_policy_names(role_name: str, run: _Run) -> list[str] | None:
    """The role's inline policy names, or None if there is no such role."""
    names: list[str] = []
    params: dict[str, Any] = {"RoleName": role_name}
    while True:
        try:
            page = await call(run.iam.list_role_policies, retry=run.retry, **params)
        except AWSCallError as exc:
            if exc.code == "NoSuchEntity":
                return None
            raise
        names.extend(page.get("PolicyNames", []))
        if not page.get("IsTruncated"):
            return names
        params["Marker"] = page["Marker"]


async def _delete_ignoring_missing(
    run: _Run, progress: _Progress, change: Change, method: Any, **params: Any
) -> None:
    try:
        await _write(run, progress, change, method, **params)
    except AWSCallError as exc:
        if exc.code != "NoSuchEntity":
            raise


async def _get_role(role_name: str, run: _Run) -> dict[str, Any] | None:
    try:
        response = await call(run.iam.get_role, retry=run.retry, RoleName=role_name)
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


def _recently_created(role: Mapping[str, Any] | None) -> bool:
    created = role.get("CreateDate") if role else None
    if not isinstance(created, dt.datetime) or created.tzinfo is None:
        return False
    return dt.datetime.now(dt.timezone.utc) - created < _PROPAGATION_WINDOW


async def _write(
    run: _Run,
    progress: _Progress,
    change: Change,
    method: Callable[..., Awaitable[dict[str, Any]]],
    *,
    propagating_role: bool = False,
    **params: Any,
) -> dict[str, Any] | None:
    """Make one write call, or in a dry run only plan it; either way record the change.

    A change is recorded once made, so a failed group's report lists only what was done.
    """
    if run.dry_run:
        progress.changes.append(change)
        return None
    response = await call(method, retry=run.retry, propagating_role=propagating_role, **params)
    progress.changes.append(change)
    logger.info("%s %s", change.action, change.target)
    return response


def _settled(operation: str, report: ProvisioningReport, goal: str) -> ProvisioningReport:
    """Log the run's outcome; return the report, or raise it if any group failed."""
    logger.info("%s: %s", operation, report.summary())
    if not report.ok:
        raise ProvisioningError(
            f"expected every group to {goal}, found {len(report.failed)} failed: "
            f"{_names(report.failed)}",
            report=report,
        )
    return report


def _names(groups: Sequence[GroupReport], *, shown: int = 10) -> str:
    # The report has every failure; the message only has to say where to look.
    names = ", ".join(repr(g.group_name) for g in groups[:shown])
    return names if len(groups) <= shown else f"{names} and {len(groups) - shown} more"


def _check_names(names: Iterable[str]) -> list[str]:
    if isinstance(names, str):
        names = [names]
    wanted: dict[str, None] = {}  # a dict keeps the first-seen order
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"names: expected non-empty group names, found {name!r}")
        wanted[name] = None
    return list(wanted)
