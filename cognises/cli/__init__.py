"""The ``cognises`` command: provision groups, verify tokens, manage users, revoke, the demo.

Exit codes: 0 success; 1 a token was rejected or some groups or users failed; 2 invalid
input or AWS configuration (nothing was changed); 3 the pool's keys could not be fetched;
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from cognises import __version__
from cognises.cli._demo import register as register_demo
from cognises.cli._provision import register as register_provision
from cognises.cli._revoke import register as register_revoke
from cognises.cli._users import register as register_users
from cognises.cli._verify import register as register_verify
from cognises.errors import CognisesError, JWKSError, TokenError

__all__ = ["main"]

EXIT_CODES = """exit codes: 0 success; 1 token rejected, or some groups or users failed;
2 invalid input or AWS configuration (nothing changed); 3 keys could not be fetched"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cognises",
        description="AWS Cognito group-based authorization.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"cognises {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in (
        register_provision,
        register_verify,
        register_users,
        register_revoke,
        register_demo,
    ):
        register(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args))
    except CognisesError as exc:
        label, code = _outcome(exc)
        if getattr(args, "json", False):
            json.dump(_error_object(exc, label, code), sys.stdout, indent=2)
            print()
        else:
            shown = f"{type(exc).__name__}: {exc}" if isinstance(exc, TokenError) else exc
            print(f"{label}: {shown}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _outcome(exc: CognisesError) -> tuple[str, int]:
    if isinstance(exc, TokenError):
        return "rejected", 1
    if isinstance(exc, JWKSError):
        # Not 1: the token may be fine; the keys to judge it were not to be had.
        return "keys unavailable", 3
    if isinstance(exc, ValueError):
        # Bad input: configuration, the group document, the AWS setup.
        return "invalid input", 2
    return "error", 1


def _error_object(exc: CognisesError, label: str, code: int) -> dict[str, object]:
    error: dict[str, object] = {"kind": label, "type": type(exc).__name__, "message": str(exc)}
    problems = getattr(exc, "problems", None)
    if problems:
        error["problems"] = list(problems)
    return {"error": error, "exit_code": code}
