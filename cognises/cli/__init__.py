"""The ``cognises`` command: provision groups, verify tokens, manage users, run the demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from cognises.cli import _demo, _provision, _users, _verify

__all__ = ["main"]

# Exit codes shared by the subcommands.
OK, FAILED, INVALID = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cognises", description="AWS Cognito group-based authorization."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (_provision, _verify, _users, _demo):
        module.register(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
