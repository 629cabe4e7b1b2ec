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
        "groups, concurrently. Exit 0 when every group converged, 1 when some failed, 2 when "
        "the input is invalid (nothing is called then).",
    )
    parser.add_argument("groups", metavar="GROUPS.json", help="the group document")
    parser.add_argument("--pool-id", required=True, help="the user pool id")
    parser.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    parser.add_argument("--identity-pool-id", help="the identity pool the roles trust")
    parser.add_argument("--endpoint-url", help="an AWS endpoint such as a local moto server")
    parser.add_argument("--concurrency", type=int, default=16, help="groups at once (16)")
    parser.add_argument("--dry-run", action="store_true", help="plan only: no write call")
    parser.add_argument("--state-file", help="write the document with updated flags here")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cognises._groupdetail import load_group_detail, validate_group_detail
    from cognises.cli._clients import boto3_clients, check_pool_options
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
        with ProgressView(names) as view:
            report = create_update(
                document,
                iam,
                cognito,
                args.pool_id,
                identity_pool_id=args.identity_pool_id,
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
