"""The fund shelf as plain rows, built once per universe, with vectorized filtering for `GET /v1/funds`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from api.serialization import jsonable
from products.universe import Universe

SUMMARY_FIELDS = ("name", "company", "fund_type", "asset_class", "share_class", "status", "min_purchase", "aum_yi")
DETAIL_FIELDS = ("full_name", "managers", "inception", "benchmark_text", "purchase_increment", "management_fee",
                 "custody_fee", "sales_service_fee", "manager_since", "sibling_codes", "risk_source", "min_sip")


def _text(value: Any) -> str | None:
    value = jsonable(value)
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    value = jsonable(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class FundShelf:
    """Rows for listing plus the columns the filters run on (numpy, aligned with `rows`)."""

    rows: tuple[dict[str, Any], ...]
    codes: np.ndarray
    fund_type: np.ndarray
    asset_class: np.ndarray
    risk_level: np.ndarray
    company: np.ndarray
    status: np.ndarray
    search_text: np.ndarray

    @classmethod
    def build(cls, universe: Universe) -> FundShelf:
        funds = universe.funds
        rows = []
        for code, rec in zip(funds.index, funds.to_dict(orient="records"), strict=True):
            rows.append(summary_row(str(code), rec))
        col = lambda name: funds[name].astype(str).to_numpy() if name in funds else np.full(len(funds), "")  # noqa: E731
        levels = pd.to_numeric(funds.get("risk_level"), errors="coerce").fillna(5).astype(int).to_numpy()
        names = col("name")
        search = np.char.lower(np.asarray([f"{c} {n}" for c, n in zip(funds.index, names, strict=True)], dtype=str))
        return cls(tuple(rows), np.asarray(funds.index.astype(str)), col("fund_type"), col("asset_class"),
                   levels, col("company"), col("status"), search)

    def filter(self, *, fund_type: str | None = None, asset_class: str | None = None,
               max_risk_level: int | None = None, company: str | None = None, status: str | None = None,
               q: str | None = None) -> np.ndarray:
        mask = np.ones(len(self.rows), dtype=bool)
        if fund_type:
            mask &= self.fund_type == fund_type
        if asset_class:
            mask &= self.asset_class == asset_class
        if max_risk_level is not None:
            mask &= self.risk_level <= max_risk_level
        if company:
            mask &= self.company == company
        if status:
            mask &= self.status == status
        if q:
            mask &= np.char.find(self.search_text, q.lower()) >= 0
        return np.flatnonzero(mask)


def summary_row(code: str, rec: dict[str, Any]) -> dict[str, Any]:
    level = _number(rec.get("risk_level"))
    return {
        "code": code,
        "name": _text(rec.get("name")) or code,
        "company": _text(rec.get("company")),
        "fund_type": _text(rec.get("fund_type")) or "unknown",
        "asset_class": _text(rec.get("asset_class")) or "unknown",
        "risk_level": f"R{int(level)}" if level is not None else "R5",
        "share_class": _text(rec.get("share_class")),
        "status": _text(rec.get("status")),
        "min_purchase": _number(rec.get("min_purchase")),
        "aum_yi": _number(rec.get("aum_yi")),
    }


def detail_row(universe: Universe, code: str) -> dict[str, Any]:
    rec = universe.fund(code).to_dict()
    row = summary_row(code, rec)
    for name in DETAIL_FIELDS:
        if name in rec:
            value = jsonable(rec[name])
            row[name] = value if not isinstance(value, int | float) or isinstance(value, bool) else (
                float(value) if name not in ("inception", "manager_since") else str(value))
    for name in ("full_name", "managers", "inception", "benchmark_text", "sibling_codes", "risk_source",
                 "manager_since"):
        if name in row and row[name] is not None:
            row[name] = str(row[name])
    return row
