"""``python -m benchmarks [PART ...] [--quick] [--markdown] [--check]``: run the parts,
print one table.

PART is any of verify (parts 1 and 2), flask, jwks, provision, server (parts 6 and 7:
gunicorn and wrk, cognises and the peers), memory, alb; all by default. ``--quick`` runs every
part on less work, for CI: its figures mean little, but a wrong answer anywhere still
fails it. ``--markdown`` prints the table as Markdown too, for BENCHMARKS.md;
``--check`` exits with status 1 when any target is missed. A part that sees a wrong
answer (an AssertionError) stops, the others run, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from rich.console import Console

from benchmarks._table import Row, machine, render

PARTS = ("verify", "flask", "jwks", "provision", "server", "memory", "alb")


def _runner(name: str) -> Callable[[bool], list[Row]]:
    # Imported when run: the provisioning part needs aioboto3 and moto, the server parts
    # gunicorn, wrk and the peers; the others need none of them.
    if name == "verify":
        from benchmarks._verify import run
    elif name == "flask":
        from benchmarks._flask import run
    elif name == "jwks":
        from benchmarks._jwks import run
    elif name == "provision":
        from benchmarks._provision import run
    elif name == "server":
        from benchmarks._server import run
    elif name == "alb":
        from benchmarks._alb import run
    else:
        from benchmarks._memory import run
    return run


def markdown(rows: list[Row]) -> str:
    lines = [
        f"_{machine()}_",
        "",
        "| part | measured | figure | target | |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        verdict = "" if row.passed is None else ("PASS" if row.passed else "**MISS**")
        lines.append(f"| {row.part} | {row.name} | {row.figure} | {row.target} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="PART", help=", ".join(PARTS))
    parser.add_argument("--quick", action="store_true", help="less work: a smoke run for CI")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table too")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: expected any of {', '.join(PARTS)}")
    chosen = args.parts or list(PARTS)

    progress = Console(stderr=True)
    rows: list[Row] = []
    wrong: list[str] = []
    started = time.perf_counter()
    for name in PARTS:
        if name not in chosen:
            continue
        progress.print(f"[dim]running {name}…[/]")
        part_started = time.perf_counter()
        try:
            rows.extend(_runner(name)(args.quick))
        except AssertionError as exc:
            wrong.append(name)
            progress.print(f"[bold red]{name}: a wrong answer: {exc}[/]")
        progress.print(f"[dim]{name}: {time.perf_counter() - part_started:.1f} s[/]")
    progress.print(f"[dim]all parts: {time.perf_counter() - started:.1f} s[/]")

    render(rows, console=Console(width=max(Console().width, 140)))
    if args.markdown:
        print(markdown(rows))
    if wrong:
        progress.print(f"[bold red]wrong answers in: {', '.join(wrong)}[/]")
        return 2
    missed = any(row.passed is False for row in rows)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
