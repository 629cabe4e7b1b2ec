"""``cognises verify``: check one token and print its claims."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

import orjson

from cognises.cli._clients import check_pool_options
from cognises.errors import CognisesError
from cognises.sync import CognitoVerifier


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "verify",
        help="verify a token and print its claims as JSON",
        description="Verify a Cognito ID or access token. Exit 0 and print the claims as "
        "JSON when it is valid; exit 1 with the reason when it is not; 2 when the options are "
        "invalid; 3 when the pool's keys could not be fetched (the token was not judged).",
    )
    parser.add_argument("token", help="the token, or - to read it from standard input")
    parser.add_argument("--pool-id", required=True, help="the user pool id")
    parser.add_argument("--region", required=True, help="the user pool's region")
    parser.add_argument(
        "--client-id",
        action="append",
        dest="client_ids",
        help="an accepted app client id (repeatable); omitted: any client of the pool",
    )
    parser.add_argument(
        "--additional-region",
        action="append",
        dest="additional_regions",
        default=[],
        help="a region the pool is replicated to (repeatable)",
    )
    parser.add_argument("--token-use", choices=["id", "access"], help="accept only this kind")
    parser.add_argument("--jwks-url", help="fetch the keys from here (e.g. a local emulator)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a rejection or error as a JSON object on stdout, not a line on stderr "
        "(valid claims are always printed as JSON)",
    )
    parser.set_defaults(run=run)


def _below_error(record: logging.LogRecord) -> bool:
    # A failed key fetch is this command's answer (exit 3, printed by main); the key
    # cache also logs it at ERROR, for a server's log, which here would say it twice.
    return record.levelno < logging.ERROR


def run(args: argparse.Namespace) -> int:
    check_pool_options(args.region, args.pool_id, same_region=True)
    logging.getLogger("cognises.jwks").addFilter(_below_error)
    token = sys.stdin.read().strip() if args.token == "-" else args.token
    # Rejections (TokenError, exit 1) and unreachable keys (JWKSError, exit 3) reach main.
    verifier = CognitoVerifier(
        args.region,
        args.pool_id,
        client_ids=args.client_ids,
        token_use=args.token_use,
        jwks_url=args.jwks_url,
        additional_regions=args.additional_regions,
    )
    claims = verifier.verify(token)
    try:
        # orjson, not json: json's indenting encoder recurses once per level, and a claim
        # nested a thousand deep (signed by the pool, so accepted) would end in a traceback.
        text = orjson.dumps(claims.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise CognisesError(
            f"the token is valid, but its claims cannot be printed as JSON: {str(exc)[:100]}"
        ) from None
    sys.stdout.write(text.decode("utf-8") + "\n")
    return 0
