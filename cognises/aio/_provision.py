"""Turning the group document into Cognito groups linked to IAM roles, and removing them.

``create_update`` converges: whatever the ``created`` flags say, each group ends with a
role (created, or found from an interrupted run), the role's trust policy and inline
policy equal to the desired ones, and a Cognito group pointing at the role. Only
differences are written, so a second run over the same document makes no write call,
and a run that was interrupted anywhere is finished by running it again: roles have
fixed names and carry their pool's and group's tags from the call that creates them, so
the re-run recognises a role whose group was never created instead of leaving it
orphaned.

The steps live in their own modules: ``_roles`` (roles, ownership, drift), ``_groups``
(the Cognito groups), ``_pool_roles`` (the identity pool's role mapping) and
``_ratelimit`` (the per-service rate every call of a run shares); ``_run`` holds what
they share.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import anyio
import anyio.to_thread

from cognises._groupdetail import (
    GroupDetailSource,
    GroupSpec,
    created_true_like,
    default_role_name,
    load_group_detail,
    precedence_warnings,
    role_name_for,
    validate_group_detail,
)
from cognises._report import (
    GroupOutcome,
    GroupReport,
    IdentityPoolReport,
    ProgressEvent,
    ProvisioningReport,
)
from cognises._state import check_state_path, write_json_atomic
from cognises.aio._aws import COGNITO_PAGE_MAX, AWSCallError, check_user_pool_id, pages
from cognises.aio._clients import default_clients
from cognises.aio._groups import delete_group, ensure_group
from cognises.aio._pool_roles import AMBIGUOUS_ROLE_RESOLUTIONS, converge_identity_pool
from cognises.aio._retry import RetryPolicy
from cognises.aio._roles import (
    delete_role,
    ensure_policy,
    ensure_role,
    parse_policy_document,
    recently_created,
    trust_policy,
)
from cognises.aio._run import COGNITO, DEFAULT_ROLE_PATH, Progress, Run, failed, guarded
from cognises.aio._tasks import check_concurrency, map_limited
from cognises.errors import ConfigurationError, ProvisioningError

__all__ = ["create_update", "delete_groups", "parse_policy_document", "trust_policy"]

logger = logging.getLogger("cognises.aio")

_IDENTITY_POOL_ID = re.compile(r"[\w-]+:[0-9a-f-]+")
_ROLE_PATH = re.compile(r"/([\x21-\x7e]{0,510}/)?")
_POLICY_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}|aws):policy/[\x21-\x7e]+")


@default_clients
async def create_update(
    group_detail: GroupDetailSource,
    iam_client: Any,
    cognito_client: Any,
    cognito_pool_id: str | None = None,
    *,
    identity_pool_id: str | None = None,
    identity_client: Any = None,
    concurrency: int = 16,
    dry_run: bool = False,
    state_path: str | os.PathLike[str] | None = None,
    retry: RetryPolicy | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    adopt: bool = False,
    prune: bool = False,
    permissions_boundary: str | None = None,
    role_path: str = DEFAULT_ROLE_PATH,
    ambiguous_role_resolution: str = "Deny",
) -> ProvisioningReport:
    """Make the user pool's groups and their IAM roles match ``group_detail``.

    ``group_detail`` is the seed's list of group objects, or a path to a JSON file holding
    one. The whole document is validated first (``GroupDetailError`` lists every problem;
    no AWS call is made). Groups then converge concurrently, ``concurrency`` at a time, the
    calls of each group in order: role, inline policy, group. With ``dry_run`` only reads
    are made and the report lists the planned changes.

    Roles: a group's role is the document's ``role_name``, else
    ``default_role_name(pool, group)`` (``<pool_id>-<group>``, hashed to fit 64
    characters). A new role is created under ``role_path`` with the tags
    ``cognises:user-pool-id`` and ``cognises:group``, and ``permissions_boundary`` if
    given. An existing role is changed only if it carries this pool's and group's tags;
    any other role fails its group, untouched, unless ``adopt`` (then it is tagged and
    converged). What a managed role holds beyond the document (other inline policies,
    attached managed policies, a boundary not asked for) is reported as the group's
    ``drift``; ``prune`` removes it.

    Identity pool: with ``identity_pool_id`` and ``identity_client`` (a cognito-identity
    client), the identity pool's role mapping for each of this user pool's providers
    becomes ``Token`` with ``ambiguous_role_resolution`` (``"Deny"`` or
    ``"AuthenticatedRole"``); its default roles and other providers' mappings are kept.
    ``report.identity_pool`` says what was done, or why it could not be.

    Rate: every call of the run waits its turn in a per-service rate that starts
    unlimited and adapts to AWS's throttling (``_ratelimit``); ``report.rates`` counts
    calls, throttled calls and seconds waited.

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
    if ambiguous_role_resolution not in AMBIGUOUS_ROLE_RESOLUTIONS:
        raise ConfigurationError(
            f"ambiguous_role_resolution: expected one of {AMBIGUOUS_ROLE_RESOLUTIONS}, "
            f"found {ambiguous_role_resolution!r}"
        )
    _check_role_options(role_path, permissions_boundary)
    if state_path is not None:
        check_state_path(state_path)
    document = load_group_detail(group_detail)
    specs = validate_group_detail(document, pool_id=pool_id)
    warnings = tuple(precedence_warnings(specs))
    for warning in warnings:
        logger.warning("%s", warning)

    if identity_pool_id is None:
        logger.warning(
            "identity_pool_id not given: the roles' trust policies put the user pool id %s "
            "in the cognito-identity.amazonaws.com:aud condition, as the seed did. AWS "
            "compares aud with an identity pool id, so no identity can assume these roles "
            "until create_update is run with identity_pool_id.",
            pool_id,
        )
    run = Run(
        iam=iam_client,
        cognito=cognito_client,
        identity=identity_client,
        pool_id=pool_id,
        trust=trust_policy(identity_pool_id or pool_id),
        retry=retry or RetryPolicy(),
        dry_run=dry_run,
        on_progress=on_progress,
        adopt=adopt,
        prune=prune,
        permissions_boundary=permissions_boundary,
        role_path=role_path,
    )
    identity_report: IdentityPoolReport | None = None

    async def map_identity_pool() -> None:
        nonlocal identity_report
        assert identity_pool_id is not None
        identity_report = await converge_identity_pool(
            identity_pool_id, run, ambiguous=ambiguous_role_resolution
        )
        if identity_report.problem is not None:
            logger.warning("identity pool %s: %s", identity_pool_id, identity_report.problem)

    async def converge(spec: GroupSpec) -> GroupReport:
        report = await guarded(spec.name, spec.role_name, lambda p: _converge(spec, run, p))
        if not report.failed and not dry_run and not spec.created:
            entry = document[spec.index]
            entry["created"] = created_true_like(entry["created"])
        run.notify(ProgressEvent(spec.name, "done", report))
        return report

    save_to = None if dry_run else state_path
    try:
        listing_error = await _load_existing_groups(run) if specs else None
        async with anyio.create_task_group() as side:
            # The mapping needs no role to exist (it names none): it overlaps the groups.
            if identity_pool_id is not None:
                side.start_soon(map_identity_pool)
            if listing_error is not None:
                reports = [
                    failed(s.name, Progress(role_name=s.role_name), listing_error.summary,
                           listing_error.code)
                    for s in specs
                ]  # fmt: skip
            else:
                reports = await map_limited(converge, specs, concurrency=concurrency)
    except BaseException:
        # The flags set so far must reach the disk even when the run is being cancelled;
        # a failure to write them must not hide why the run stopped.
        if save_to is not None:
            await _save_state(save_to, document, quiet=True)
        raise
    report = ProvisioningReport(
        tuple(reports),
        dry_run=dry_run,
        identity_pool=identity_report,
        warnings=warnings,
        rates=run.rates.stats(),
    )
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
    """Delete Cognito groups, then their roles' policies, then the roles.

    A group's role is the one ``role_names`` maps it to, else the role its Cognito group
    points at, else ``default_role_name(pool, group)``. A role is deleted only if it is
    tagged for this pool and group; any other role is left as it is and fails its group
    with a message saying so. Whatever is already gone is skipped, so deleting twice is
    harmless. Raises ``ProvisioningError`` with the report if anything could not be
    deleted.
    """
    pool_id = check_user_pool_id(cognito_pool_id)
    check_concurrency(concurrency)
    wanted = _check_names(names)
    roles = dict(role_names or {})
    run = Run(iam=iam_client, cognito=cognito_client, pool_id=pool_id, retry=retry or RetryPolicy())

    def role_of(name: str) -> str:
        arn = run.existing.get(name, {}).get("RoleArn")
        linked = arn.rsplit("/", 1)[1] if isinstance(arn, str) and "/" in arn else None
        return roles.get(name) or linked or default_role_name(pool_id, name)

    async def delete(name: str) -> GroupReport:
        role_name = role_of(name)
        return await guarded(name, role_name, lambda p: _delete(name, role_name, run, p))

    listing_error = await _load_existing_groups(run) if wanted else None
    if listing_error is not None:
        reports = [
            failed(n, Progress(role_name=role_of(n)), listing_error.summary, listing_error.code)
            for n in wanted
        ]
    else:
        reports = await map_limited(delete, wanted, concurrency=concurrency)
    report = ProvisioningReport(tuple(reports), rates=run.rates.stats())
    return _settled("delete_groups", report, "be deleted")


async def _save_state(path: str | os.PathLike[str], document: list[Any], *, quiet: bool) -> None:
    with anyio.CancelScope(shield=True):
        try:
            await anyio.to_thread.run_sync(write_json_atomic, path, document)
        except Exception:
            if not quiet:
                raise
            logger.exception("could not write the group document to %s", os.fspath(path))


async def _load_existing_groups(run: Run) -> AWSCallError | None:
    """Read every group of the pool once, instead of one ``GetGroup`` per group.

    Returns the error that made the listing fail, so that every group can report it.
    """
    try:
        async for page in pages(
            run.cognito.list_groups,
            retry=run.retry,
            limiter=run.rates[COGNITO],
            UserPoolId=run.pool_id,
            Limit=COGNITO_PAGE_MAX,
        ):
            for group in page.get("Groups", []):
                run.existing[group["GroupName"]] = group
    except AWSCallError as exc:
        if exc.code == "ResourceNotFoundException":
            raise ConfigurationError(
                f"cognito_pool_id: expected an existing user pool, found {run.pool_id!r}, "
                f"which Cognito does not know ({exc.message})"
            ) from exc
        return exc
    return None


def _role_name(spec: GroupSpec, run: Run) -> str:
    """The document's role, or the seed's ``role_<group>`` if the group still points at
    it (so that it is recognised, and refused until adopted, rather than orphaned)."""
    if not spec.role_name_given:
        linked = run.existing.get(spec.name, {}).get("RoleArn")
        legacy = role_name_for(spec.name)
        if isinstance(linked, str) and linked.endswith(f"/{legacy}"):
            return legacy
    return spec.role_name


async def _converge(spec: GroupSpec, run: Run, progress: Progress) -> GroupReport:
    role_name = _role_name(spec, run)
    progress.role_name = role_name
    role, fresh = await ensure_role(spec, role_name, run, progress)
    role_arn = role.get("Arn") if role else None
    progress.role_arn = role_arn
    run.notify(ProgressEvent(spec.name, "role"))
    await ensure_policy(spec, role_name, run, progress, role_exists=role is not None, fresh=fresh)
    run.notify(ProgressEvent(spec.name, "policy"))
    await ensure_group(
        spec,
        role_name,
        run,
        progress,
        role_arn=role_arn,
        propagating=fresh or recently_created(role),
    )
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
        role_name=role_name,
        role_arn=role_arn,
        changes=tuple(progress.changes),
        drift=tuple(progress.drift),
    )


async def _delete(name: str, role_name: str, run: Run, progress: Progress) -> GroupReport:
    progress.role_arn = run.existing.get(name, {}).get("RoleArn")
    await delete_group(name, run, progress)
    await delete_role(name, role_name, run, progress)
    return GroupReport(
        group_name=name,
        outcome=GroupOutcome.DELETED if progress.changes else GroupOutcome.UNCHANGED,
        role_name=role_name,
        role_arn=progress.role_arn,
        changes=tuple(progress.changes),
    )


def _check_role_options(role_path: object, permissions_boundary: object) -> None:
    if not isinstance(role_path, str) or not _ROLE_PATH.fullmatch(role_path):
        raise ConfigurationError(
            f"role_path: expected an IAM path such as '/cognises/' (starting and ending "
            f"with '/'), found {role_path!r}"
        )
    if permissions_boundary is not None and not (
        isinstance(permissions_boundary, str) and _POLICY_ARN.fullmatch(permissions_boundary)
    ):
        raise ConfigurationError(
            "permissions_boundary: expected a managed policy ARN such as "
            f"'arn:aws:iam::123456789012:policy/boundary', found {permissions_boundary!r}"
        )


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
