"""The end-of-run table of a provisioning report."""

from __future__ import annotations

import sys

from cognises._report import GroupReport, ProvisioningReport


def line(report: GroupReport) -> str:
    """One group's outcome as a plain line."""
    arn = f" {report.role_arn}" if report.role_arn else ""
    error = f": {report.error}" if report.error else ""
    return f"{report.group_name}: {report.outcome}{arn}{error}"


def print_report(report: ProvisioningReport) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ModuleNotFoundError:
        # Without the cli extra: the same facts, a line per group, rather than a crash
        # after every change was made.
        for group in report.groups:
            print(line(group))
        print(report.summary())
        return

    title = "planned changes (dry run)" if report.dry_run else "provisioning"
    table = Table(title=title)
    for column in ("group", "outcome", "role", "changes / error"):
        table.add_column(column, overflow="fold")
    for group in report.groups:
        detail = group.error or ", ".join(f"{c.action} {c.target}" for c in group.changes) or "-"
        if group.drift:
            detail += "; drift (left; --prune removes it): " + "; ".join(group.drift)
        style = "red" if group.failed else "yellow" if group.drift else None
        table.add_row(
            group.group_name, str(group.outcome), group.role_arn or group.role_name, detail,
            style=style,
        )  # fmt: skip
    console = Console(file=sys.stdout)
    console.print(table)
    console.print(report.summary())
    pool = report.identity_pool
    if pool is not None:
        if pool.problem:
            console.print(f"identity pool {pool.identity_pool_id}: {pool.problem}", style="red")
        else:
            done = ", ".join(c.detail for c in pool.changes) or "role mapping already as wanted"
            console.print(f"identity pool {pool.identity_pool_id}: {done}")
    for warning in report.warnings:
        console.print(f"warning: {warning}", style="yellow")
    if report.rates:
        console.print(f"rate: {report.rate_summary()}")
