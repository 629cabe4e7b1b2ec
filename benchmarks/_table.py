"""One row of the benchmark table, and the table itself."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from collections.abc import Sequence
from typing import NamedTuple

from rich.console import Console
from rich.table import Table

__all__ = ["Row", "machine", "render"]


class Row(NamedTuple):
    part: str
    name: str
    figure: str  # what was measured, as a ratio first
    target: str
    passed: bool | None  # None: shown for information, no target


def machine() -> str:
    """Date, Python and machine, for the table's title and BENCHMARKS.md."""
    cpu = platform.processor() or platform.machine()
    return (
        f"{dt.date.today().isoformat()} · Python {platform.python_version()} "
        f"({sys.implementation.name}) · {os.cpu_count()} CPUs ({cpu}) · {platform.platform()}"
    )


def render(rows: Sequence[Row], *, console: Console | None = None) -> None:
    table = Table(title=f"cognises benchmarks\n{machine()}", title_justify="left")
    table.add_column("part")
    table.add_column("measured")
    table.add_column("figure", justify="right")
    table.add_column("target", justify="right")
    table.add_column("", justify="center")
    previous = None
    for row in rows:
        verdict = "" if row.passed is None else ("PASS" if row.passed else "MISS")
        style = "" if row.passed is None else ("green" if row.passed else "bold red")
        table.add_row(
            row.part if row.part != previous else "",
            row.name,
            row.figure,
            row.target,
            f"[{style}]{verdict}[/]" if style else verdict,
        )
        previous = row.part
    (console or Console()).print(table)
