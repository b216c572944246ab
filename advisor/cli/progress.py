"""The progress bar every batch command shows: counts only once the total is known (no "0/?"), with the
customers the run left out named in the description."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text


class CountColumn(ProgressColumn):
    """``1,234/20,000`` once the total is known; nothing while reading and validating."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{int(task.completed):,}/{int(task.total):,}", style="progress.download")


def batch_progress(console: Console | None = None, *, transient: bool = False) -> Progress:
    """Description, bar, count, elapsed and remaining time, on stderr unless a console is given."""
    return Progress(TextColumn("{task.description}"), BarColumn(), CountColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console or Console(stderr=True), transient=transient)


def started(what: str, total: int, rejected: int = 0) -> dict[str, object]:
    """`Progress.update` arguments when the work starts: ``health check (2,360 customers rejected)``."""
    suffix = f" ({rejected:,} customers rejected)" if rejected else ""
    return {"description": f"{what}{suffix}", "total": total, "completed": 0}
