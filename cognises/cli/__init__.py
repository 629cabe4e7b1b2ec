"""The ``cognises`` command: provision groups, verify tokens, manage users, run the demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from cognises.cli._demo import register as register_demo
from cognises.cli._provision import register as register_provision
from cognises.cli._users import register as register_users
from cognises.cli._verify import register as register_verify
from cognises.errors import CognisesError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cognises", description="AWS Cognito group-based authorization."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in (register_provision, register_verify, register_users, register_demo):
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
        # Bad input (a ValueError: configuration, group document) is 2; anything else 1.
        invalid = isinstance(exc, ValueError)
        print(f"{'invalid input' if invalid else 'error'}: {exc}", file=sys.stderr)
        return 2 if invalid else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
