"""Small synthetic universes for the proposal tests: every asset class, A/C pairs, holdings, fee schedules.

Deterministic per `seed`; options remove classes, set risk levels, or make funds young, so that the
tests can build the awkward universes (no bond fund, everything R5, ...) a real feed could deliver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from products.fees import FeeTable, default_schedule
from products.taxonomy import ASSET_CLASS_OF_TYPE, DEFAULT_RISK_OF_TYPE, FundType
from products.universe import FUND_COLUMNS, Universe

INDUSTRIES = ("银行", "食品饮料", "电子", "医药生物", "电力设备", "非银金融", "汽车", "计算机")
# (type, share classes) per fund; A/C pairs share a book
LAYOUT: tuple[tuple[FundType, str], ...] = (
    (FundType.MONEY_MARKET, ""), (FundType.MONEY_MARKET, ""),
    (FundType.BOND, "AC"), (FundType.BOND, ""), (FundType.BOND_INDEX, ""), (FundType.MIXED_BOND, "AC"),
    (FundType.MIXED_EQUITY, "AC"), (FundType.EQUITY, ""), (FundType.INDEX, "AC"), (FundType.ENHANCED_INDEX, ""),
    (FundType.MIXED_BALANCED, ""), (FundType.MIXED_FLEXIBLE, ""),
    (FundType.QDII_EQUITY, ""), (FundType.QDII_OTHER, ""),
    (FundType.GOLD, ""), (FundType.GOLD, ""),
)
CLASS_VOL = {"cash": 0.0, "bond": 0.02, "cn_equity": 0.2, "global_equity": 0.18, "gold": 0.14}
CLASS_MU = {"cash": 0.018, "bond": 0.035, "cn_equity": 0.08, "global_equity": 0.08, "gold": 0.05}


def make_universe(seed: int = 0, *, n_days: int = 900, drop_types: Sequence[FundType] = (),
                  risk_levels: dict[int, int] | None = None, random_risk: bool = False,
                  young: Sequence[int] = (), min_purchases: Sequence[float] = (10.0, 100.0, 1000.0),
                  companies: int = 16, same_book: Sequence[tuple[int, int]] = ()) -> Universe:
    """A universe of `LAYOUT` funds (minus `drop_types`), `n_days` of business-day returns to 2026-01-30.

    `risk_levels` overrides a fund's level by its layout position; `random_risk` draws levels 1–5 around
    the type default; `young` positions start 200 days before the end; `same_book` pairs copy holdings.
    """
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(end="2026-01-30", periods=n_days)
    factors = {cls: rng.normal(CLASS_MU[cls] / 252, vol / np.sqrt(252), n_days) for cls, vol in CLASS_VOL.items()}
    rows, returns, schedules, books = [], {}, [], {}
    code_no = 100
    stocks = [f"6{i:05d}" for i in range(40)]
    for pos, (ftype, classes) in enumerate(LAYOUT):
        if ftype in drop_types:
            continue
        cls = str(ASSET_CLASS_OF_TYPE[ftype])
        base_risk = int(DEFAULT_RISK_OF_TYPE[ftype])
        level = base_risk
        if random_risk:
            level = int(np.clip(base_risk + rng.integers(-1, 2), 1, 5))
        if risk_levels and pos in risk_levels:
            level = risk_levels[pos]
        idio = rng.normal(0, 0.004 if cls != "cash" else 0.0, n_days)
        beta = 0.8 + 0.4 * rng.random()
        series = factors[cls] * beta + idio + (rng.random() - 0.5) * 1e-4
        if cls == "cash":
            series = np.full(n_days, CLASS_MU["cash"] / 252 + 1e-6 * pos)
        if pos in young:
            series[:-200] = np.nan
        letters = list(classes) if classes else [""]
        codes = [f"{code_no + i:06d}" for i in range(len(letters))]
        code_no += len(letters)
        company = f"公司{(pos * 7 + seed) % companies}"
        minimum = float(min_purchases[pos % len(min_purchases)])
        book = None
        if cls in ("cn_equity", "global_equity"):
            picks = rng.choice(len(stocks), 10, replace=False)
            book = [(stocks[p], float(w)) for p, w in zip(picks, rng.uniform(0.02, 0.09, 10), strict=True)]
        for code, letter in zip(codes, letters, strict=True):
            sched = default_schedule(ftype.value, letter)
            schedules.append(sched)
            drag = sched.sales_service_fee / 252 if letter == "C" else 0.0
            returns[code] = series - drag
            rows.append({
                "code": code, "name": f"测试{ftype.value}{pos}{letter}", "full_name": f"测试基金{pos}{letter}",
                "company": company, "managers": f"经理{pos}", "manager_since": pd.Timestamp("2018-01-01"),
                "inception": pd.Timestamp("2015-01-01"), "share_class": letter,
                "sibling_codes": " ".join(c for c in codes if c != code), "fund_type": ftype.value,
                "asset_class": cls, "risk_level": level, "risk_source": "type_default", "aum_yi": 20.0,
                "benchmark_text": "", "status": "open", "min_purchase": minimum,
                "purchase_increment": 0.01 if ftype is FundType.MONEY_MARKET else 1.0, "min_sip": 10.0,
                "management_fee": sched.management_fee, "custody_fee": sched.custody_fee,
                "sales_service_fee": sched.sales_service_fee,
            })
            if book is not None:
                books[code] = book
    for a, b in same_book:
        codes_list = [r["code"] for r in rows]
        if a < len(codes_list) and b < len(codes_list) and codes_list[a] in books:
            books[codes_list[b]] = books[codes_list[a]]
    funds = pd.DataFrame(rows).set_index("code")
    funds = funds[[c for c in FUND_COLUMNS if c in funds.columns]]
    ret = pd.DataFrame(returns, index=dates)[funds.index]
    holdings = pd.DataFrame(
        [{"quarter": "2025-Q4", "fund_code": code, "stock_code": s, "stock_name": f"股票{s}", "market": "A股",
          "weight": w, "equity_share": 0.9, "rank": r + 1}
         for code, book in books.items() for r, (s, w) in enumerate(book)],
        columns=["quarter", "fund_code", "stock_code", "stock_name", "market", "weight", "equity_share", "rank"])
    industry = pd.DataFrame({"stock_code": stocks, "effective_date": pd.Timestamp("2021-07-30"),
                             "sw_l1": [INDUSTRIES[i % len(INDUSTRIES)] for i in range(len(stocks))],
                             "sw_l2": "x", "sw_l3": "y"})
    return Universe(as_of=date(2026, 1, 30), funds=funds, fees=FeeTable.from_schedules(schedules), returns=ret,
                    holdings=holdings, stock_industry=industry, benchmarks=pd.DataFrame(), source="synthetic")


@lru_cache(maxsize=16)
def cached_universe(seed: int, random_risk: bool = True) -> Universe:
    return make_universe(seed, random_risk=random_risk)
