"""The identity pool's role mapping: what lets a signed-in user get their group's role.

A Cognito group's role reaches a user's AWS credentials only through an identity pool
whose role mapping, for the user pool's provider, says "take the role from the token"
(``Type: Token``: ``cognito:preferred_role``, or one of ``cognito:roles``). Without it
the pool hands every user its default authenticated role, whatever the groups say.

Only this user pool's providers (``cognito-idp.<region>.amazonaws.com/<pool>:<client>``,
one per app client the identity pool lists) are changed: the pool's default roles and
other providers' mappings are read and written back as they were. An identity pool
that does not list this user pool is reported, not changed: adding a provider decides
who may sign in to it, which is the operator's call.
"""

from __future__ import annotations

from typing import Any

from cognises._report import Change, IdentityPoolReport
from cognises.aio._aws import AWSCallError
from cognises.aio._run import IDENTITY, Progress, Run

__all__ = ["AMBIGUOUS_ROLE_RESOLUTIONS", "converge_identity_pool", "provider_name"]

AMBIGUOUS_ROLE_RESOLUTIONS = ("Deny", "AuthenticatedRole")


def provider_name(pool_id: str) -> str:
    """The provider name identity pools give a user pool (its region is the id's prefix)."""
    region = pool_id.split("_", 1)[0]
    return f"cognito-idp.{region}.amazonaws.com/{pool_id}"


async def converge_identity_pool(
    identity_pool_id: str, run: Run, *, ambiguous: str
) -> IdentityPoolReport:
    """Map this user pool's providers to ``Token`` roles; report, never raise."""
    if run.identity is None:
        return IdentityPoolReport(
            identity_pool_id,
            problem="role mapping not converged: no cognito-identity client was given "
            "(identity_client=)",
        )
    progress = Progress()
    providers: tuple[str, ...] = ()
    try:
        described = await run.read(
            IDENTITY, run.identity.describe_identity_pool, IdentityPoolId=identity_pool_id
        )
        ours = provider_name(run.pool_id)
        providers = tuple(
            f"{p['ProviderName']}:{p.get('ClientId', '')}"
            for p in described.get("CognitoIdentityProviders") or []
            if p.get("ProviderName") == ours
        )
        if not providers:
            listed = [
                p.get("ProviderName") for p in described.get("CognitoIdentityProviders") or []
            ]
            return IdentityPoolReport(
                identity_pool_id,
                problem=f"identity pool {identity_pool_id!r} does not list user pool "
                f"{run.pool_id!r} as a provider (it lists {listed or 'none'}), so no user of "
                "the pool can reach the groups' roles through it; its providers were left "
                f"as they are: add {ours} with the app client id to use it",
            )
        current = await run.read(
            IDENTITY, run.identity.get_identity_pool_roles, IdentityPoolId=identity_pool_id
        )
        mappings: dict[str, Any] = dict(current.get("RoleMappings") or {})
        wanted = {"Type": "Token", "AmbiguousRoleResolution": ambiguous}
        stale = [p for p in providers if mappings.get(p) != wanted]
        if stale:
            mappings.update(dict.fromkeys(stale, wanted))
            await run.write(
                progress,
                Change(
                    "SetIdentityPoolRoles",
                    identity_pool_id,
                    f"roles from the token (ambiguous: {ambiguous}) for {', '.join(stale)}",
                ),
                IDENTITY,
                run.identity.set_identity_pool_roles,
                IdentityPoolId=identity_pool_id,
                Roles=dict(current.get("Roles") or {}),
                RoleMappings=mappings,
            )
    except AWSCallError as exc:
        return IdentityPoolReport(
            identity_pool_id, providers, tuple(progress.changes), problem=exc.summary
        )
    return IdentityPoolReport(identity_pool_id, providers, tuple(progress.changes))
