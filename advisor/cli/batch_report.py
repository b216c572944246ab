"""The closing lines every batch command prints (health check, rebalancing): one format for the run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console


class RunClock:
    """Seconds since the command started, data loading included (the whole run a user waited for)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def rejected_counts(rejects: pd.DataFrame) -> dict[str, int]:
    """Rejected rows per input table: ``{"customers": n, "holdings": m}``."""
    counts = rejects["table"].value_counts() if len(rejects) else pd.Series(dtype=int)
    return {"customers": int(counts.get("customers", 0)), "holdings": int(counts.get("holdings", 0))}


def print_run(console: Console, what: str, customers: int, seconds: float, out: Path | str,
              rejected: dict[str, int], rejects_path: Path | str, extra: dict[str, Any] | None = None) -> None:
    """``health check: 1,000 customers in 4.2 s (whole run) → report.parquet`` and the rejects line."""
    console.print(f"{what}: [bold]{customers:,}[/] customers in {seconds:.1f} s (whole run) → {out}")
    console.print(f"rejected: {rejected.get('customers', 0):,} customer rows, {rejected.get('holdings', 0):,} "
                  f"holding rows → {rejects_path}")
    for key, value in (extra or {}).items():
        console.print(f"  {key}: {value}")
