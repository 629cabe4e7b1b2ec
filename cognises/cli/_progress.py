"""Showing a provisioning run as it happens: rich bars on a terminal, plain lines elsewhere."""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import TracebackType
from typing import IO, TYPE_CHECKING

from cognises._report import ProgressEvent
from cognises.cli._summary import line

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["ProgressView"]

STEPS = ("role", "policy", "group")


class ProgressView:
    """Receives ``ProgressEvent``s (from any thread) and draws them on ``stream``."""

    def __init__(self, group_names: list[str], *, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._names = group_names
        self._lock = threading.Lock()
        self._live = self._stream.isatty() and importlib.util.find_spec("rich") is not None
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressView:
        if self._live:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

            # The spinner turns (rich redraws on its own) while calls wait for the rate
            # limit, so a run held back by throttling never looks stuck.
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description:<28}"),
                BarColumn(bar_width=24),
                TextColumn("{task.fields[status]}"),
                console=Console(file=self._stream),
                transient=False,
            )
            self._progress.start()
            for name in self._names:
                self._tasks[name] = self._progress.add_task(
                    name[:28], total=len(STEPS), status="waiting"
                )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            if self._progress is not None:
                self._draw(event)
            elif event.report is not None:
                print(line(event.report), file=self._stream, flush=True)

    def _draw(self, event: ProgressEvent) -> None:
        assert self._progress is not None
        task = self._tasks.get(event.group_name)
        if task is None:
            return
        if event.report is None:
            done = STEPS.index(event.step) + 1 if event.step in STEPS else 0
            self._progress.update(task, completed=done, status=f"{event.step} ✓")
        else:
            self._progress.update(task, completed=len(STEPS), status=str(event.report.outcome))
