"""``cognises provision``: converge the groups of a JSON document, with progress and a summary."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cognises.errors import ConfigurationError, ProvisioningError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "provision",
        help="create or update user-pool groups and their IAM roles from a JSON document",
        description="Converge the groups of GROUPS.json: roles, inline policies and Cognito "
        "groups, concurrently, at a rate that adapts to AWS's throttling. Roles are created "
        "under --role-path, tagged cognises:user-pool-id and cognises:group, and named "
        "<pool-id>-<group> unless the document gives role_name; a role that exists without "
        "this pool's and group's tags is never changed (its group fails) unless --adopt. "
        "With --identity-pool-id, that pool's role mapping for this user pool becomes "
        "'roles from the token'. Exit 0 when every group converged, 1 when some failed, 2 "
        "when the input is invalid (nothing is called then). The IAM policy the caller "
        "needs: docs/provisioner-policy.md.",
    )
    parser.add_argument("groups", metavar="GROUPS.json", help="the group document")
    parser.add_argument("--pool-id", required=True, help="the user pool id")
    parser.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    parser.add_argument(
        "--identity-pool-id",
        help="the identity pool the roles trust; its role mapping for this user pool's "
        "app clients is set to take roles from the token",
    )
    parser.add_argument(
        "--ambiguous-role-resolution",
        choices=("Deny", "AuthenticatedRole"),
        default="Deny",
        help="what the identity pool does when the token names no single role (Deny)",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take over existing roles not tagged for this pool and group (such as the "
        "seed's role_<group>): tag them, then converge them",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="remove what managed roles hold beyond the document (other inline policies, "
        "attached managed policies, a permissions boundary not asked for); without it they "
        "are reported as drift",
    )
    parser.add_argument(
        "--permissions-boundary", metavar="ARN", help="a permissions boundary for every role"
    )
    parser.add_argument(
        "--role-path", default="/cognises/", help="the IAM path of new roles (/cognises/)"
    )
    parser.add_argument("--endpoint-url", help="an AWS endpoint such as a local moto server")
    parser.add_argument("--concurrency", type=int, default=16, help="groups at once (16)")
    parser.add_argument("--dry-run", action="store_true", help="plan only: no write call")
    parser.add_argument("--state-file", help="write the document with updated flags here")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cognises._groupdetail import load_group_detail, validate_group_detail
    from cognises.cli._clients import boto3_clients, boto3_identity_client, check_pool_options
    from cognises.cli._progress import ProgressView
    from cognises.cli._summary import print_report
    from cognises.sync import create_update

    # Checked before any client or progress bar is made; main() reports bad input (exit 2).
    check_pool_options(args.region, args.pool_id, same_region=False)
    document = load_group_detail(args.groups)
    validate_group_detail(document)
    if args.concurrency < 1:
        raise ConfigurationError(f"--concurrency: expected 1 or more, found {args.concurrency}")
    names = [entry["group_name"] for entry in document]
    failure: ProvisioningError | None = None
    try:
        iam, cognito = boto3_clients(args.region, args.endpoint_url)
        identity = (
            boto3_identity_client(args.region, args.endpoint_url) if args.identity_pool_id else None
        )
        with ProgressView(names) as view:
            report = create_update(
                document,
                iam,
                cognito,
                args.pool_id,
                identity_pool_id=args.identity_pool_id,
                identity_client=identity,
                ambiguous_role_resolution=args.ambiguous_role_resolution,
                adopt=args.adopt,
                prune=args.prune,
                permissions_boundary=args.permissions_boundary,
                role_path=args.role_path,
                concurrency=args.concurrency,
                dry_run=args.dry_run,
                state_path=args.state_file,
                on_progress=view,
            )
    except ProvisioningError as exc:
        report, failure = exc.report, exc
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print_report(report)
    if failure is not None:
        # Failed groups are in the report; this also says when the state file was not written.
        print(f"error: {failure}", file=sys.stderr)
    return 0 if failure is None else 1
