"""The `fixture_small` layout: a < 1 MB slice of the real data for fast tests (24 funds, 2020–2022).

Files: ``funds.csv`` (fund_code, name, full_name, fund_type, inception_date, latest_aum_raw, latest_aum_yi,
company, managers, custodian, rating, benchmark_text), ``fund_nav_daily.csv`` (fund_code, date, unit_nav,
daily_ret_pct), ``fund_top10_holdings.csv`` (the shared holdings format), ``stock_industry_sw2021.csv``
(stock_code, effective_date, sw2021_code, sw_l1, sw_l2, sw_l3), ``benchmark_etf_prices.csv`` (Date + ETF
tickers). ``us_etf_prices.csv`` is not used (the benchmark names are the CNY-listed ETFs).

The same assembly as the shared layout applies (`products.sources.shared.assemble_universe`): cleaning,
validation findings, type-default fees and risk levels, and the modeled money-market funds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from products.errors import DataError
from products.money_market import DEFAULT_MONEY_FUNDS, MoneyFundSpec
from products.sources.shared import (
    ETF_OF_BENCHMARK,
    RawLayout,
    _empty_holdings,
    _holdings_from_raw,
    assemble_universe,
    parse_size_yi,
)
from products.universe import CORE_BENCHMARKS, INDUSTRY_COLUMNS, Universe
from products.validation import DEFAULT_PARAMS, ValidationParams, concat_issues, issues_frame

FUNDS_FILE = "funds.csv"
NAV_FILE = "fund_nav_daily.csv"
HOLDINGS_FILE = "fund_top10_holdings.csv"
INDUSTRY_FILE = "stock_industry_sw2021.csv"
BENCHMARK_FILE = "benchmark_etf_prices.csv"
REQUIRED = {FUNDS_FILE: ["fund_code", "name", "fund_type"], NAV_FILE: ["fund_code", "date", "daily_ret_pct"]}


def is_fixture_layout(path: Path) -> bool:
    return (path / FUNDS_FILE).exists() and (path / NAV_FILE).exists()


def _read(path: Path, required: Sequence[str] = ()) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {path}: {err}", details={"path": str(path)}) from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path.name} lacks column(s) {', '.join(missing)}", code="missing_column",
                        details={"file": path.name, "missing": missing})
    return frame


def read_fixture_layout(path: str | os.PathLike[str]) -> RawLayout:
    root = Path(path)
    if not is_fixture_layout(root):
        raise DataError(f"{root} is not the fixture layout ({FUNDS_FILE} + {NAV_FILE})", code="data_unrecognized",
                        details={"path": str(root)})
    funds = _read(root / FUNDS_FILE, REQUIRED[FUNDS_FILE])
    aum = pd.to_numeric(funds.get("latest_aum_yi"), errors="coerce")
    if "latest_aum_raw" in funds:
        aum = aum.fillna(parse_size_yi(funds["latest_aum_raw"].fillna("")))
    profiles = pd.DataFrame({
        "name": funds["name"].fillna(""), "full_name": funds.get("full_name", funds["name"]).fillna(""),
        "company": funds.get("company", "").fillna(""), "managers": funds.get("managers", "").fillna(""),
        "inception": funds.get("inception_date", "").fillna(""), "aum_text": funds.get("latest_aum_raw", ""),
        "type_text": funds["fund_type"].fillna(""), "benchmark_text": funds.get("benchmark_text", "").fillna(""),
        "aum_yi": aum.to_numpy(),
    })
    profiles.index = pd.Index(funds["fund_code"].astype(str), name="code")

    raw_nav = _read(root / NAV_FILE, REQUIRED[NAV_FILE])
    unit_text = raw_nav.get("unit_nav", pd.Series(np.nan, index=raw_nav.index))
    nav = pd.DataFrame({
        "code": raw_nav["fund_code"].astype(str),
        "date": pd.to_datetime(raw_nav["date"], format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]"),
        "unit_nav": pd.to_numeric(unit_text, errors="coerce"),
        "daily_return": pd.to_numeric(raw_nav["daily_ret_pct"], errors="coerce") / 100.0,
        "row": np.arange(len(raw_nav)) + 2, "source": NAV_FILE,
    })
    garbage = (unit_text.notna() & nav["unit_nav"].isna()) | (raw_nav["daily_ret_pct"].notna()
                                                              & nav["daily_return"].isna())
    parse_issues = issues_frame(pd.DataFrame({
        "code": nav.loc[garbage, "code"], "row": nav.loc[garbage, "row"], "check": "bad_row",
        "severity": "warning", "source": NAV_FILE,
        "message": "unreadable number(s): unit_nav=" + unit_text[garbage].astype(str) + ", daily_ret_pct="
                   + raw_nav.loc[garbage, "daily_ret_pct"].astype(str)}))

    if (root / HOLDINGS_FILE).exists():
        holdings, holding_issues = _holdings_from_raw(_read(root / HOLDINGS_FILE), HOLDINGS_FILE)
    else:
        holdings, holding_issues = _empty_holdings().assign(fund_name=""), issues_frame()

    industry = pd.DataFrame(columns=INDUSTRY_COLUMNS)
    if (root / INDUSTRY_FILE).exists():
        ind = _read(root / INDUSTRY_FILE, ["stock_code", "effective_date", "sw_l1"])
        industry = pd.DataFrame({
            "stock_code": ind["stock_code"].astype(str),
            "effective_date": pd.to_datetime(ind["effective_date"].str[:10], errors="coerce")
            .astype("datetime64[ns]"),
            "sw_l1": ind["sw_l1"], "sw_l2": ind.get("sw_l2"), "sw_l3": ind.get("sw_l3"),
            "industry_code": ind.get("sw2021_code", pd.Series("", index=ind.index)).fillna(""),
            "classification": "sw2021",
        }).sort_values(["stock_code", "effective_date"], kind="stable").reset_index(drop=True)

    bench = pd.DataFrame(columns=[n for n in CORE_BENCHMARKS if n != "cash"])
    if (root / BENCHMARK_FILE).exists():
        etf = pd.read_csv(root / BENCHMARK_FILE, index_col=0)
        etf.index = pd.to_datetime(etf.index, errors="coerce")
        bench = pd.DataFrame({name: pd.to_numeric(etf[t], errors="coerce") if t in etf else np.nan
                              for name, t in ETF_OF_BENCHMARK.items()}, index=etf.index).sort_index()
    return RawLayout(profiles=profiles, nav=nav, holdings=holdings, stock_industry=industry,
                     benchmark_prices=bench, source=f"fixture:{root}",
                     issues=concat_issues([parse_issues, holding_issues]))


def load_fixture_layout(path: str | os.PathLike[str], money_funds: Sequence[MoneyFundSpec] = DEFAULT_MONEY_FUNDS,
                        params: ValidationParams = DEFAULT_PARAMS) -> Universe:
    """The fixture_small universe: its 24 funds plus the modeled money-market funds."""
    return assemble_universe(read_fixture_layout(path), money_funds, params)
