"""Returns as tables (a batch) and as one customer's JSON (a batch of one), with the same numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from advisor.lifecycle.book import LifecycleBook
from advisor.lifecycle.returns import Returns, Window, compute_returns, standard_windows

DEFAULT_CHUNK = 100_000
MONEY_KEYS = ("market_value", "cost_basis", "holding_gain", "total_gain", "invested", "withdrawn", "fees",
              "dividends", "units")
WINDOW_KEYS = ("twr", "xirr", "gain", "start_value", "net_flow")


def returns_of(book: LifecycleBook, windows: tuple[Window, ...] | None = None, as_of: date | None = None, *,
               fund_windows: bool = True) -> Returns:
    return compute_returns(book.events, book.n, book.prices, as_of or book.as_of, windows, fund_windows=fund_windows)


def returns_chunks(book: LifecycleBook, chunk_size: int = DEFAULT_CHUNK,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(customers, positions) frames chunk by chunk (memory bounded by `chunk_size` customers)."""
    for lo in range(0, book.n, chunk_size):
        part = book.slice(lo, min(lo + chunk_size, book.n))
        result = returns_of(part)
        yield (result.customer_frame(part.customer_id),
               result.position_frame(part.customer_id, book.prices.codes, book.prices.names))
        if progress is not None:
            progress(part.n)


def _value(key: str, value: Any) -> Any:
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)[:10]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if value is None or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        money = key in MONEY_KEYS or key.startswith(("gain_", "start_value_", "net_flow_"))
        return round(float(value), 2 if money else 6)
    return value


def _windows(row: dict[str, Any], windows: tuple[Window, ...]) -> dict[str, dict[str, Any]]:
    out = {}
    for w in windows:
        out[w.name] = {k: _value(f"{k}_{w.name}", row.pop(f"{k}_{w.name}")) for k in WINDOW_KEYS}
    return out


def customer_returns(book: LifecycleBook, i: int = 0, result: Returns | None = None) -> dict[str, Any]:
    """One customer's returns: the summary, each window, and every fund held (or held before)."""
    result = result or returns_of(book)
    windows = result.windows
    row = {k: v[i] for k, v in result.customer.items()}
    summary = {k: _value(k, v) for k, v in row.items() if not any(k.startswith(f"{w}_") for w in WINDOW_KEYS)}
    summary["windows"] = _windows(dict(row), windows)
    funds = []
    mine = np.flatnonzero(result.position["cust"] == i)
    for p in mine:
        prow = {k: v[p] for k, v in result.position.items() if k not in ("cust", "fund")}
        fund = int(result.position["fund"][p])
        entry = {"code": str(book.prices.codes[fund]), "name": str(book.prices.names[fund])}
        entry.update({k: _value(k, v) for k, v in prow.items()
                      if not any(k.startswith(f"{w}_") for w in WINDOW_KEYS)})
        entry["windows"] = _windows(dict(prow), windows)
        funds.append(entry)
    funds.sort(key=lambda f: -(f["market_value"] or 0.0))
    return {"customer_id": str(book.customer_id[i]), "as_of": result.as_of.isoformat(),
            "window_starts": {w.name: None if w.start_day is None else str(np.datetime64(w.start_day, "D"))
                              for w in windows},
            **summary, "funds": funds}


__all__ = ["customer_returns", "returns_chunks", "returns_of", "standard_windows"]
