"""``cognises revoke``: end a sign-in by revoking its refresh token (Cognito's RevokeToken)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from cognises.errors import ConfigurationError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "revoke",
        help="revoke a refresh token and the tokens issued from it",
        description="Revoke a refresh token (Cognito's RevokeToken): it, and the access and "
        "ID tokens issued from it, are refused by Cognito from now on. Verified locally, "
        "those tokens stay valid until they expire unless the service checks online. Exit 0 "
        "when revoked; 1 when the token was refused or Cognito could not be reached; 2 when "
        "the options are invalid or the client may not revoke it.",
    )
    parser.add_argument("token", help="the refresh token, or - to read it from standard input")
    parser.add_argument("--client-id", required=True, help="the app client it was issued to")
    parser.add_argument("--region", required=True, help="the user pool's region")
    parser.add_argument(
        "--client-secret-env",
        metavar="VAR",
        help="read a confidential client's secret from this environment variable",
    )
    parser.add_argument("--endpoint-url", help="Cognito's endpoint (e.g. a local moto server)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cognises import sync

    # Read from stdin rather than argv when it can be: argv is visible to other users.
    token = sys.stdin.read().strip() if args.token == "-" else args.token
    secret = None
    if args.client_secret_env:
        secret = os.environ.get(args.client_secret_env)
        if not secret:
            raise ConfigurationError(
                f"--client-secret-env: expected the variable {args.client_secret_env} to be "
                "set, found it unset or empty"
            )
    sync.revoke(
        token,
        client_id=args.client_id,
        client_secret=secret,
        region=args.region,
        endpoint_url=args.endpoint_url,
    )
    if args.json:
        json.dump({"revoked": True, "client_id": args.client_id}, sys.stdout)
        print()
    else:
        print(f"revoked: the refresh token of client {args.client_id} and its tokens")
    return 0
