"""``cognises users``: group membership."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cognises.errors import ConfigurationError, ProvisioningError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "users",
        help="add users to a group, remove them, or list members and groups",
        description="Manage group membership in a user pool.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, helptext in (("add", "add users to a group"), ("remove", "remove users from it")):
        sub = actions.add_parser(name, help=helptext)
        sub.add_argument("group")
        sub.add_argument("usernames", nargs="+", metavar="USERNAME")
        if name == "remove":
            sub.add_argument(
                "--sign-out",
                action="store_true",
                help="also sign each removed user out everywhere (AdminUserGlobalSignOut)",
            )
        _common(sub)
    listing = actions.add_parser(
        "list", help="the users of GROUP; without GROUP, the pool's groups (or --user's)"
    )
    listing.add_argument("group", nargs="?")
    listing.add_argument("--user", help="list the groups of this user instead")
    _common(listing)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool-id", required=True, help="the user pool id")
    parser.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    parser.add_argument("--endpoint-url", help="an AWS endpoint such as a local moto server")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cognises import sync
    from cognises.cli._clients import boto3_clients, check_pool_options

    check_pool_options(args.region, args.pool_id, same_region=False)
    _, cognito = boto3_clients(args.region, args.endpoint_url)
    report: Any
    if args.action in ("add", "remove"):
        try:
            if args.action == "add":
                report = sync.add_users_to_group(args.group, args.usernames, cognito, args.pool_id)
            else:
                report = sync.remove_users_from_group(
                    args.group, args.usernames, cognito, args.pool_id, sign_out=args.sign_out
                )
        except ProvisioningError as exc:
            report = exc.report
        lines = _membership_lines(report)
        if getattr(args, "sign_out", False):
            lines = [f"{line} (signed out)" if ": removed" in line else line for line in lines]
        _print(args, report.to_dict(), lines)
        return 0 if report.ok else 1
    if args.group and args.user:
        raise ConfigurationError("give a GROUP or --user, not both")
    if args.user:
        names = [
            g["GroupName"] for g in sync.list_groups_for_user(args.user, cognito, args.pool_id)
        ]
    elif args.group:
        names = [u["Username"] for u in sync.list_users_in_group(args.group, cognito, args.pool_id)]
    else:
        names = [g["GroupName"] for g in sync.list_groups(cognito, args.pool_id)]
    _print(args, names, names)
    return 0


def _membership_lines(report: Any) -> list[str]:
    verb = "added to" if report.action == "add" else "removed from"
    lines = [f"{name}: {verb} {report.group_name}" for name in report.succeeded]
    lines += [f"{f.username}: failed: {f.error}" for f in report.failed]
    return lines


def _print(args: argparse.Namespace, data: Any, lines: list[str]) -> None:
    if args.json:
        json.dump(data, sys.stdout, indent=2)
        print()
    else:
        for line in lines:
            print(line)
