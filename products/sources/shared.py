"""The shared raw layout (`../shared/data`): Eastmoney NAV tables and profiles, top-10 holdings, SW industries,
benchmark prices and a bank shelf table → one `Universe`.

Layout (see its README): ``cn_funds/nav/<code>.csv`` (净值日期,单位净值,日增长率), ``cn_funds/meta/<code>.json``,
``cn_funds/holdings_top10.csv.gz``, ``cn_funds/sw_industry/{stock_industry_history,sw2021_codes}.csv``,
``benchmarks/{cn_etf_prices,us_etf_prices}.csv`` and ``benchmarks/cn_index/*.csv``,
``cn_shelf_2017/{zs_fee,Shibor}.csv``.

Decisions (documented in docs/data-format.md):

* total returns compound 日增长率 / 100 (dividend-adjusted); the published unit NAV is kept in
  `Universe.unit_nav` and its drops on distribution days are reported as `dividend` findings;
* NAV files without a profile are kept: name from the holdings table where the fund appears there,
  type from the name (or from volatility), conservative type-default risk, reported `profile_missing`;
* holdings of **all** funds in the file are kept (look-through of ~8,700 funds a quarter); duplicate
  positions are dropped and fund-quarters whose weights sum above 100% excluded (`products.validation`);
* SW industry rows from 2021-07-30 carry SW2021 codes (L1–L3 names); earlier rows carry SW2014 codes
  (also those dated before 2014: the file was built in 2015) mapped to SW2021 L1 names by the crosswalk
  in `products.sw_crosswalk`; codes of older SW vintages get no name (a later row supersedes them);
* benchmarks: the ETF prices named per `BENCHMARK_NAMES`, chained before the ETF's first date onto the
  沪深300 / 中证500 price indices (2005–); 上证50, 上证综指, 深证成指, 中小板指 from `cn_index`; Hang Seng, DAX,
  Nikkei 225 and USD/CNY from `world_index`; `cash` is the money-market yield index; the PBoC deposit
  rates (`products.deposit_rates`) as accrual indices;
* fees and risk levels come from the shelf table where its code matches and the row still describes the
  fund (risk_source ``shelf``), else the type defaults (``type_default``; ``stale_shelf`` never below the
  stale row's rating); a rating too low for the measured volatility is raised (``measured_risk``), see
  `products.risk_rating`; three modeled money-market funds are appended.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from products.deposit_rates import deposit_indices
from products.errors import BadInputError, DataError
from products.fees import FeeSchedule, FeeTable, default_minimum_purchase, default_schedule
from products.money_market import DEFAULT_MONEY_FUNDS, MoneyFundSpec, cash_index, money_market_funds, shibor_yields
from products.risk_rating import apply_risk_floor, shelf_row_applies
from products.sources.shelf import ShelfEntry, ShelfTable, parse_shelf
from products.sw_crosswalk import scheme_of, sw2014_l1_name
from products.taxonomy import (
    ASSET_CLASS_OF_TYPE,
    DEFAULT_RISK_OF_TYPE,
    FundType,
    currency_of_name,
    parse_fund_type,
    share_class_of,
)
from products.universe import (
    BENCHMARK_NAMES,
    CORE_BENCHMARKS,
    FUND_COLUMNS,
    HOLDING_COLUMNS,
    INDUSTRY_COLUMNS,
    Universe,
)
from products.validation import (
    DEFAULT_PARAMS,
    ValidationParams,
    clean_holdings,
    clean_nav,
    concat_issues,
    issues_frame,
    unknown_codes,
)

NAV_HEADER = ("净值日期", "单位净值", "日增长率")
ETF_OF_BENCHMARK = {"cn_large_cap": "510300.SH", "cn_mid_small_cap": "510500.SH", "cn_bond": "511260.SH",
                    "gold": "518880.SH", "us_equity": "513500.SH", "us_tech": "513100.SH"}
# Overseas styles come from the US-listed ETFs, on US trading dates: a QDII fund's NAV dated T prices the
# overseas close of T, which the China-listed 513500 / 513100 only show a day later and with premium
# noise (a Nasdaq-100 feeder correlates 0.96 with QQQ the same day, 0.58 with 513100). USD prices: the
# CNY/USD move (~4% a year of volatility) is left in the fund's residual. 513500 / 513100 stay the
# fallback when the US file is absent.
US_ETF_OF_BENCHMARK = {"us_equity": "SPY", "us_tech": "QQQ"}
US_ETF_FILE = "us_etf_prices.csv"
INDEX_BEFORE_ETF = {"cn_large_cap": "000300.XSHG.csv", "cn_mid_small_cap": "000905.XSHG.csv"}
# Price indices the benchmark texts name, where the data has them (cn_index ends 2021-05: later dates are
# spliced onto a substitute by products.benchmark, and labelled so).
CN_INDEX_SERIES = {"cn_sse50": "000016.XSHG.csv", "cn_composite": "000001.XSHG.csv", "cn_szse": "399001.XSHE.csv",
                   "cn_sme": "399005.XSHE.csv"}
WORLD_INDEX_SERIES = {"hk_equity": "HSI.csv", "de_equity": "DAX.csv", "jp_equity": "N225.csv",
                      "usd_cny": "USD_CNY.csv"}
PROFILE_FIELDS = {"基金名称": "name", "基金全称": "full_name", "基金公司": "company", "基金经理": "managers",
                  "成立时间": "inception", "最新规模": "aum_text", "基金类型": "type_text",
                  "业绩比较基准": "benchmark_text"}
_NAME_TYPE_HINTS = (("QDII", "QDII"), ("货币", "货币型"), ("可转债", "债券型-可转债"), ("债", "债券型"),
                    ("增强", "股票型-增强指数"), ("指数", "指数型"), ("ETF", "指数型"), ("黄金", "商品型"),
                    ("FOF", "FOF"), ("混合", "混合型"), ("股票", "股票型"))


# --------------------------------------------------------------------------------------------------
# Raw readers (each returns a frame and its findings; bad rows never raise)
# --------------------------------------------------------------------------------------------------

def parse_size_yi(text: pd.Series | Sequence[str]) -> pd.Series:
    """最新规模 text → 亿元: ``29.37亿`` → 29.37, ``5304.13万`` → 0.530413, ``1.2万亿`` → 12000; else NaN."""
    s = pd.Series(text, dtype=object).astype(str).str.strip().str.replace(",", "", regex=False)
    parts = s.str.extract(r"^([0-9]+(?:\.[0-9]+)?)\s*(万亿|亿|万|元)?(?:元)?$")
    value = pd.to_numeric(parts[0], errors="coerce")
    scale = parts[1].map({"万亿": 1e4, "亿": 1.0, "万": 1e-4, "元": 1e-8}).astype(float).fillna(np.nan)
    return (value * scale).round(10)


_NAV_TYPES = {"净值日期": pa.date32(), "单位净值": pa.float64(), "日增长率": pa.float64()}
_NAV_COLUMNS = ["code", "date", "unit_nav", "daily_return", "row", "source"]


def _read_nav_file(path: Path) -> tuple[pa.Table | None, list[dict]]:
    """One NAV file as an Arrow table (code, date, unit_nav, pct, row). Typed parsing first (fast, in C);
    a file with unreadable cells is re-read as text and its bad cells reported and set to null."""
    code = path.stem
    problems: list[dict] = []
    options = pacsv.ReadOptions(use_threads=True)
    try:
        table = pacsv.read_csv(path, read_options=options, convert_options=pacsv.ConvertOptions(
            column_types=_NAV_TYPES, include_columns=list(NAV_HEADER)))
        date, unit, pct = (table.column(h) for h in NAV_HEADER)
    except (pa.ArrowInvalid, KeyError, OSError) as err:
        try:
            text = pacsv.read_csv(path, read_options=options, convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in NAV_HEADER}))
        except (pa.ArrowInvalid, OSError) as err2:
            problems.append({"code": code, "check": "bad_row", "severity": "error", "source": path.name,
                             "message": f"NAV file unreadable: {str(err2).splitlines()[0]}"})
            return None, problems
        missing = [h for h in NAV_HEADER if h not in text.column_names]
        if missing:
            problems.append({"code": code, "check": "missing_column", "severity": "error", "source": path.name,
                             "message": f"NAV file lacks column(s) {', '.join(missing)}; fund has no NAV"})
            return None, problems
        del err
        raw = text.select(list(NAV_HEADER)).to_pandas()
        dates = pd.to_datetime(raw["净值日期"], format="%Y-%m-%d", errors="coerce")
        unit_s = pd.to_numeric(raw["单位净值"], errors="coerce")
        pct_s = pd.to_numeric(raw["日增长率"], errors="coerce")
        garbage = (raw["单位净值"].notna() & unit_s.isna()) | (raw["日增长率"].notna() & pct_s.isna())
        for i in np.flatnonzero(garbage.to_numpy()):
            problems.append({"code": code, "row": int(i) + 2, "check": "bad_row", "severity": "warning",
                             "source": f"nav/{path.name}",
                             "message": f"unreadable number(s): 单位净值={raw['单位净值'].iloc[i]!r}, "
                                        f"日增长率={raw['日增长率'].iloc[i]!r}"})
        date = pa.array(dates.dt.date.where(dates.notna(), None), type=pa.date32())
        unit = pa.array(unit_s, type=pa.float64(), from_pandas=True)
        pct = pa.array(pct_s, type=pa.float64(), from_pandas=True)
    n = len(date)
    table = pa.table({"code": pa.array([code] * n, type=pa.string()), "date": date, "unit_nav": unit,
                      "pct": pct, "row": pa.array(np.arange(n, dtype=np.int64) + 2)})
    return table, problems


def read_nav_dir(nav_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All `<code>.csv` NAV files as one long frame (code, date, unit_nav, daily_return, row, source)."""
    files = sorted(nav_dir.glob("*.csv"))
    if not files:
        raise DataError(f"no NAV files in {nav_dir}", code="data_missing", details={"path": str(nav_dir)})
    with ThreadPoolExecutor(max_workers=min(4, (os.cpu_count() or 1) * 2)) as pool:
        results = list(pool.map(_read_nav_file, files))
    tables = [t for t, _ in results if t is not None]
    problems = [p for _, ps in results for p in ps]
    if not tables:
        return pd.DataFrame(columns=_NAV_COLUMNS), issues_frame(problems)
    frame = pa.concat_tables(tables).to_pandas()
    nav = pd.DataFrame({
        "code": frame["code"].astype(str), "date": pd.to_datetime(frame["date"]).astype("datetime64[ns]"),
        "unit_nav": frame["unit_nav"].astype(float), "daily_return": frame["pct"].astype(float) / 100.0,
        "row": frame["row"].astype("int64"),
    })
    ids, uniques = pd.factorize(nav["code"])
    nav["source"] = pd.Categorical.from_codes(ids, [f"nav/{c}.csv" for c in uniques])
    return nav, issues_frame(problems)


def read_profiles(meta_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fund profiles (`meta/<code>.json`) indexed by code with the raw fields renamed per `PROFILE_FIELDS`."""
    rows, problems = [], []
    for path in sorted(meta_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            problems.append({"code": path.stem, "check": "bad_row", "severity": "warning", "source": path.name,
                             "message": f"profile unreadable ({err}); treated as missing"})
            continue
        row = {new: ("" if data.get(old) in (None, "<NA>") else str(data.get(old))) for old, new in
               PROFILE_FIELDS.items()}
        row["code"] = str(data.get("基金代码") or path.stem)
        rows.append(row)
    profiles = pd.DataFrame(rows, columns=["code", *PROFILE_FIELDS.values()]).set_index("code")
    profiles["aum_yi"] = parse_size_yi(profiles["aum_text"]).to_numpy()
    return profiles, issues_frame(problems)


def read_holdings(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The top-10 holdings table → `HOLDING_COLUMNS` (+ fund_name, row), weights as fractions; cleaned."""
    text_cols = {c: pa.string() for c in ("quarter", "stock_code", "stock_name", "market", "fund_code",
                                          "fund_name")}
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=text_cols))
    except (pa.ArrowInvalid, OSError) as err:
        return _empty_holdings(), issues_frame([{"check": "bad_row", "severity": "error", "source": path.name,
                                                  "message": f"holdings unreadable: {str(err).splitlines()[0]}"}])
    raw = table.to_pandas()
    return _holdings_from_raw(raw, path.name)


def _empty_holdings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("weight", "equity_share") else "str")
                         for c in HOLDING_COLUMNS}).astype({"rank": "int64"})


def _holdings_from_raw(raw: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    needed = ["quarter", "fund_code", "stock_code", "stock_name", "weight_pct_of_nav", "rank_in_top10"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        return _empty_holdings(), issues_frame([{"check": "missing_column", "severity": "error", "source": source,
                                                  "message": f"holdings lack column(s) {', '.join(missing)}"}])
    h = pd.DataFrame({
        "quarter": raw["quarter"].astype(str), "fund_code": raw["fund_code"].astype(str),
        "stock_code": raw["stock_code"].astype(str), "stock_name": raw["stock_name"].astype(str),
        "market": raw["market"].astype(str) if "market" in raw else "",
        "weight": pd.to_numeric(raw["weight_pct_of_nav"], errors="coerce") / 100.0,
        "equity_share": pd.to_numeric(raw.get("fund_equity_pct"), errors="coerce") / 100.0,
        "rank": pd.to_numeric(raw["rank_in_top10"], errors="coerce").fillna(0).astype("int64"),
        "row": np.arange(len(raw)) + 2,
    })
    names = raw["fund_name"].astype(str) if "fund_name" in raw else pd.Series("", index=raw.index)
    clean, found = clean_holdings(h.assign(fund_name=names), source=source)
    return clean[[*HOLDING_COLUMNS, "fund_name"]], found


def read_sw_industry(sw_dir: Path) -> pd.DataFrame:
    """Point-in-time SW industry → `INDUSTRY_COLUMNS` + industry_code, classification (sw2021/sw2014/sw_legacy).

    Every row gets its SW2021 level-1 name: SW2021 codes from `sw2021_codes.csv` (with L2/L3), SW2014 codes
    through `products.sw_crosswalk` (L1 only), older codes none (each such stock has a later row).
    """
    hist = pd.read_csv(sw_dir / "stock_industry_history.csv", dtype=str)
    codes = pd.read_csv(sw_dir / "sw2021_codes.csv", dtype=str)
    names = dict(zip(codes["行业代码"], zip(codes["一级行业名称"], codes["二级行业名称"], codes["三级行业名称"],
                                          strict=True), strict=True))
    effective = pd.to_datetime(hist["计入日期"].str[:10], format="%Y-%m-%d", errors="coerce")
    code = hist["行业代码"].astype(str).str.strip()
    klass = scheme_of(code, effective)
    l1_code = code.str[:2] + "0000"
    l2_code = code.str[:4] + "00"

    def level(keys: pd.Series, i: int) -> pd.Series:
        return keys.map(lambda k: names.get(k, (None, None, None))[i])

    is21 = (klass == "sw2021").to_numpy()
    l1 = level(l1_code, 0).where(is21, sw2014_l1_name(code).where(klass == "sw2014"))
    l2 = level(l2_code, 1).where(is21)
    l3 = level(code, 2).where(is21)
    out = pd.DataFrame({"stock_code": hist["股票代码"].astype(str),
                        "effective_date": effective.astype("datetime64[ns]"),
                        "sw_l1": l1.astype("str"), "sw_l2": l2.astype("str"), "sw_l3": l3.astype("str"),
                        "industry_code": code, "classification": klass})
    out = out.loc[out["effective_date"].notna()].drop_duplicates(["stock_code", "effective_date", "industry_code"])
    return out.sort_values(["stock_code", "effective_date"], kind="stable").reset_index(drop=True)


def read_benchmarks(bench_dir: Path, etf_file: str = "cn_etf_prices.csv") -> tuple[pd.DataFrame, pd.DataFrame]:
    """ETF closes renamed per `BENCHMARK_NAMES` (without cash), chained onto price indices before 2017."""
    etf = pd.read_csv(bench_dir / etf_file, index_col=0)
    etf.index = pd.to_datetime(etf.index, errors="coerce")
    etf = etf.loc[etf.index.notna()].sort_index()
    problems = []
    out = {}
    for name, ticker in ETF_OF_BENCHMARK.items():
        if ticker in etf:
            out[name] = pd.to_numeric(etf[ticker], errors="coerce")
        else:
            problems.append({"check": "missing_column", "severity": "warning", "source": etf_file,
                             "message": f"benchmark {name} ({ticker}) not in {etf_file}; left empty"})
    frame = pd.DataFrame(out, index=etf.index)
    if (bench_dir / US_ETF_FILE).exists():
        us = pd.read_csv(bench_dir / US_ETF_FILE, index_col=0)
        us.index = pd.to_datetime(us.index, errors="coerce")
        us = us.loc[us.index.notna()].sort_index()
        frame = frame.reindex(frame.index.union(us.index))
        for name, ticker in US_ETF_OF_BENCHMARK.items():
            if ticker in us:
                frame[name] = pd.to_numeric(us[ticker], errors="coerce").reindex(frame.index)
    index_dir = bench_dir / "cn_index"
    for name, file in INDEX_BEFORE_ETF.items():
        path = index_dir / file
        if name not in frame or not path.exists():
            continue
        idx = _close_series(path)
        frame = frame.reindex(frame.index.union(idx.index))
        frame[name] = chain_before(frame[name], idx)
    extra = {name: index_dir / file for name, file in CN_INDEX_SERIES.items()}
    extra |= {name: bench_dir / "world_index" / file for name, file in WORLD_INDEX_SERIES.items()}
    for name, path in extra.items():
        if path.exists():
            series = _close_series(path)
            frame = frame.reindex(frame.index.union(series.index))
            frame[name] = series.reindex(frame.index)
    frame.index.name = None
    return frame.reindex(columns=[n for n in BENCHMARK_NAMES if n in frame]), issues_frame(problems)


def _close_series(path: Path) -> pd.Series:
    """The `close` column of an index file (`date,close,…`), dated, without empty (holiday) rows."""
    raw = pd.read_csv(path, usecols=["date", "close"])
    dates = pd.to_datetime(raw["date"], errors="coerce")
    close = pd.to_numeric(raw["close"], errors="coerce")
    series = pd.Series(close.to_numpy(), index=pd.DatetimeIndex(dates))
    series = series[series.index.notna() & series.notna() & (series > 0)]
    return series[~series.index.duplicated(keep="last")].sort_index()


def chain_before(series: pd.Series, earlier: pd.Series) -> pd.Series:
    """`series` extended back in time with `earlier`'s moves, scaled to meet at `series`' first value."""
    first = series.first_valid_index()
    if first is None:
        return series
    anchor = earlier.loc[:first].dropna()
    if anchor.empty:
        return series
    scaled = earlier.reindex(series.index).loc[: anchor.index[-1]] * (series.loc[first] / anchor.iloc[-1])
    out = series.copy()
    before = out.index < first
    out[before] = scaled.reindex(out.index[before]).to_numpy()
    return out


# --------------------------------------------------------------------------------------------------
# Assembly (shared by the shared layout and the fixture layout)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RawLayout:
    """What a layout reader extracted, before cleaning and assembly."""

    profiles: pd.DataFrame  # index code; name, full_name, company, managers, inception, aum_yi, type_text,
    #                         benchmark_text (strings; aum_yi float)
    nav: pd.DataFrame  # long: code, date, unit_nav, daily_return, row, source
    holdings: pd.DataFrame  # HOLDING_COLUMNS + fund_name, already cleaned
    stock_industry: pd.DataFrame  # INDUSTRY_COLUMNS (+ extras)
    benchmark_prices: pd.DataFrame  # names of BENCHMARK_NAMES except cash
    issues: pd.DataFrame
    source: str
    shelf: ShelfTable | None = None
    yield_override: pd.Series | None = None


def infer_type_text(name: str) -> str | None:
    for hint, type_text in _NAME_TYPE_HINTS:
        if hint in name:
            return type_text
    return None


def _fund_types(profiles: pd.DataFrame, returns: pd.DataFrame) -> tuple[pd.Series, list[dict]]:
    types, problems = {}, []
    for code, type_text, name in zip(profiles.index, profiles["type_text"], profiles["name"], strict=True):
        try:
            types[code] = parse_fund_type(type_text, name).value
            continue
        except BadInputError:
            pass
        hint = infer_type_text(name)
        if hint is not None:
            ftype = parse_fund_type(hint, name)
        else:  # no usable text: judge by volatility, equity unless it moves like a bond fund
            vol = float(returns[code].std() * np.sqrt(252)) if code in returns else np.nan
            ftype = FundType.BOND if np.isfinite(vol) and vol < 0.04 else FundType.EQUITY
        types[code] = ftype.value
        problems.append({"code": code, "check": "unknown_type", "severity": "warning", "source": "profile",
                         "message": f"fund type {type_text!r} not recognized; inferred {ftype.value} from "
                                    f"{'the name' if hint else 'volatility'}"})
    return pd.Series(types, dtype=object), problems


def _siblings(funds: pd.DataFrame) -> pd.Series:
    stem = [name[:-1] if cls and name.endswith(cls) else name
            for name, cls in zip(funds["name"], funds["share_class"], strict=True)]
    key = pd.Series([f"{c}|{s}" if c else f"|{code}" for c, s, code in zip(funds["company"], stem, funds.index,
                                                                         strict=True)], index=funds.index)
    groups = pd.Series(funds.index, index=funds.index).groupby(key.to_numpy()).agg(list)
    members = key.map(groups)
    return pd.Series([" ".join(c for c in m if c != code) for code, m in zip(funds.index, members, strict=True)],
                     index=funds.index)


def assemble_universe(raw: RawLayout, money_funds: Sequence[MoneyFundSpec] = DEFAULT_MONEY_FUNDS,
                      params: ValidationParams = DEFAULT_PARAMS) -> Universe:
    """Clean the NAV, fill every `FUND_COLUMNS` field, attach fees, money funds and benchmarks."""
    found: list[pd.DataFrame] = [raw.issues]
    profiles = raw.profiles.copy()
    nav_codes = pd.Index(raw.nav["code"].unique())

    # NAV files without a profile: keep the fund, infer what we can
    orphan = nav_codes.difference(profiles.index)
    if len(orphan):
        names = (raw.holdings.sort_values("quarter").drop_duplicates("fund_code", keep="last")
                 .set_index("fund_code")["fund_name"]) if "fund_name" in raw.holdings else pd.Series(dtype=str)
        extra = pd.DataFrame(index=orphan, columns=profiles.columns).fillna("")
        extra["name"] = [str(names.get(c, c)) for c in orphan]
        extra["aum_yi"] = np.nan
        profiles = pd.concat([profiles, extra])
        found.append(issues_frame([{"code": c, "check": "profile_missing", "severity": "warning",
                                    "source": "profile", "message": f"NAV without profile; name "
                                    f"{'from holdings' if c in names.index else 'unknown'}, type inferred, "
                                    "type-default risk and fees"} for c in orphan]))
    no_nav = profiles.index.difference(nav_codes)
    if len(no_nav):
        found.append(issues_frame([{"code": c, "check": "missing_nav", "severity": "error", "source": "profile",
                                    "message": "profile without any NAV; fund excluded"} for c in no_nav]))
        profiles = profiles.drop(index=no_nav)
    profiles = profiles.sort_index()

    # a first wide return matrix only for type inference by volatility (orphans without a usable name)
    rough = raw.nav.loc[raw.nav["code"].isin(orphan)].pivot_table(index="date", columns="code",
                                                                  values="daily_return") if len(orphan) else \
        pd.DataFrame()
    types, problems = _fund_types(profiles, rough)
    found.append(issues_frame(problems))

    as_of = raw.nav["date"].max()
    if pd.isna(as_of):
        nav_file = "fund_nav_daily.csv" if raw.source.startswith("fixture:") else "cn_funds/nav/"
        raise DataError(f"{raw.source}: no NAV row in {nav_file} has a readable date: a universe cannot work "
                        "without returns", code="data_missing", details={"file": nav_file})
    nav, nav_issues = clean_nav(raw.nav, as_of, types, params)
    found.append(nav_issues)

    returns = nav.pivot(index="date", columns="code", values="daily_return").reindex(columns=profiles.index)
    unit_nav = nav.pivot(index="date", columns="code", values="unit_nav").reindex(columns=profiles.index)
    returns.index.name = unit_nav.index.name = None
    returns.columns.name = unit_nav.columns.name = None

    entries, stale, shelf_found = _current_shelf(raw.shelf, profiles, types)
    found.append(shelf_found)
    funds = _fund_table(profiles, types, nav, entries, stale)
    schedules = _schedules(funds, entries)
    funds, floor_found = apply_risk_floor(funds, returns.reindex(columns=funds.index), as_of)
    found.append(floor_found)

    own_cash = funds.index[funds["fund_type"] == FundType.MONEY_MARKET.value]
    if money_funds and len(own_cash):  # the data has real money funds: no placeholders beside them
        found.append(issues_frame([{"check": "modelled_money_funds", "severity": "info", "source": "money_market",
                                    "message": f"{len(own_cash)} money-market funds in the data; modelled "
                                               "money funds not added"}]))
        money_funds = ()
    elif money_funds:
        found.append(issues_frame([{"check": "modelled_money_funds", "severity": "warning",
                                    "source": "money_market",
                                    "message": f"the data has no money-market fund: {len(money_funds)} modelled "
                                               f"ones added ({', '.join(m.code for m in money_funds)}), never "
                                               "ranked; proposals holding them say so — plug in the bank's own "
                                               "money funds (canonical data, or --money-funds)"}]))
    mm = money_market_funds(returns.index, money_funds, override=raw.yield_override) if money_funds else None
    if mm is not None:
        funds = pd.concat([funds, mm.funds[funds.columns]])
        schedules = [*schedules, *mm.schedules]
        returns = pd.concat([returns, mm.returns], axis=1)
        unit_nav = pd.concat([unit_nav, mm.unit_nav], axis=1)

    bench = raw.benchmark_prices.sort_index()
    bench = bench.loc[bench.index.notna()]
    bench.index = pd.DatetimeIndex(bench.index).as_unit("ns")
    bench["cash"] = cash_index(pd.DatetimeIndex(bench.index), override=raw.yield_override)
    bench = pd.concat([bench, deposit_indices(pd.DatetimeIndex(bench.index))], axis=1)
    bench = bench.reindex(columns=[n for n in BENCHMARK_NAMES if n in bench])
    bench.index.name = None

    holdings = raw.holdings
    if len(holdings):
        found.append(unknown_codes(funds.index, holdings["fund_code"], "holdings", "info", summary=True))
    if raw.shelf is not None:
        found.append(raw.shelf.issues)
        found.append(unknown_codes(funds.index, pd.Series(list(raw.shelf.entries)), "zs_fee.csv", "info",
                                   summary=True))
    return Universe(
        as_of=as_of.date(), funds=funds, fees=FeeTable.from_schedules(schedules), returns=returns,
        holdings=holdings[HOLDING_COLUMNS].reset_index(drop=True),
        stock_industry=raw.stock_industry.reset_index(drop=True), benchmarks=bench, unit_nav=unit_nav,
        source=raw.source, issues=concat_issues(found),
    )


def _current_shelf(shelf: ShelfTable | None, profiles: pd.DataFrame, types: pd.Series
                   ) -> tuple[dict[str, ShelfEntry], dict[str, int], pd.DataFrame]:
    """The purchasable shelf rows that still describe their fund, the ratings of the stale ones (a floor:
    the fund's rating never drops below them) and a `stale_shelf_row` finding per stale row."""
    if shelf is None:
        return {}, {}, issues_frame()
    current, stale, records = {}, {}, []
    for code, entry in shelf.purchasable().items():
        if code not in profiles.index:
            continue
        applies, reason = shelf_row_applies(entry.name, entry.type_text, str(profiles.at[code, "name"]),
                                            str(types.get(code, "")), str(profiles.at[code, "company"]))
        if applies:
            current[code] = entry
            continue
        if entry.risk_level is not None:
            stale[code] = int(entry.risk_level)
        records.append({"code": code, "check": "stale_shelf_row", "severity": "warning", "source": "zs_fee.csv",
                        "message": f"{reason}: shelf rating, fees and SIP minimum not used; type defaults apply, "
                                   "never below the shelf rating"})
    return current, stale, issues_frame(records)


def _fund_table(profiles: pd.DataFrame, types: pd.Series, nav: pd.DataFrame, entries: dict[str, ShelfEntry],
                stale: dict[str, int]) -> pd.DataFrame:
    codes = profiles.index
    ftypes = types.reindex(codes)
    first_nav = nav.groupby("code")["date"].min().reindex(codes)
    inception = pd.to_datetime(profiles["inception"], errors="coerce").fillna(first_nav)
    funds = pd.DataFrame(index=codes)
    funds["name"] = profiles["name"].astype(str)
    funds["full_name"] = profiles["full_name"].astype(str)
    funds["company"] = profiles["company"].astype(str)
    funds["managers"] = [" ".join(str(m).split()) for m in profiles["managers"].fillna("")]
    funds["managers"] = funds["managers"].astype("str")
    funds["manager_since"] = pd.Series(pd.NaT, index=codes, dtype="datetime64[ns]")
    funds["inception"] = inception.astype("datetime64[ns]")
    funds["share_class"] = [share_class_of(n) for n in funds["name"]]
    funds["sibling_codes"] = _siblings(funds)
    funds["fund_type"] = ftypes.astype(str)
    funds["asset_class"] = [ASSET_CLASS_OF_TYPE[FundType(t)].value for t in ftypes]
    shelf_risk = pd.Series({c: e.risk_level for c, e in entries.items() if e.risk_level is not None},
                           dtype=float).reindex(codes)
    default_risk = pd.Series([int(DEFAULT_RISK_OF_TYPE[FundType(t)]) for t in ftypes], index=codes, dtype=float)
    stale_risk = pd.Series(stale, dtype=float).reindex(codes)
    funds["risk_level"] = shelf_risk.fillna(np.fmax(default_risk, stale_risk)).astype("int64")
    funds["risk_source"] = np.where(shelf_risk.notna(), "shelf", np.where(codes.isin(list(stale)), "stale_shelf",
                                                                          "type_default"))
    funds["aum_yi"] = pd.to_numeric(profiles["aum_yi"], errors="coerce").astype(float)
    funds["benchmark_text"] = profiles["benchmark_text"].astype(str)
    funds["status"] = "open"
    funds["min_purchase"] = [default_minimum_purchase(t) for t in ftypes]
    funds["purchase_increment"] = 1.0
    shelf_sip = pd.Series({c: e.min_sip for c, e in entries.items() if e.min_sip}, dtype=float).reindex(codes)
    funds["min_sip"] = shelf_sip.fillna(funds["min_purchase"].clip(10.0, 100.0)).astype(float)
    for col in ("management_fee", "custody_fee", "sales_service_fee"):
        funds[col] = 0.0  # filled from the schedules below
    funds["currency"] = [currency_of_name(n) for n in funds["name"]]
    funds["modelled"] = False
    funds.index.name = "code"
    return funds[list(FUND_COLUMNS)]


def _schedules(funds: pd.DataFrame, entries: dict[str, ShelfEntry]) -> list[FeeSchedule]:
    out = []
    for code, ftype, cls in zip(funds.index, funds["fund_type"], funds["share_class"], strict=True):
        entry = entries.get(code)
        out.append(entry.schedule(ftype, cls) if entry is not None else default_schedule(ftype, cls))
    funds["management_fee"] = [s.management_fee for s in out]
    funds["custody_fee"] = [s.custody_fee for s in out]
    funds["sales_service_fee"] = [s.sales_service_fee for s in out]
    return out


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------

def read_shared_layout(path: str | os.PathLike[str]) -> RawLayout:
    root = Path(path)
    fund_dir = root / "cn_funds"
    if not (fund_dir / "nav").is_dir():
        raise DataError(f"{root} is not the shared layout: cn_funds/nav/ is missing", code="data_unrecognized",
                        details={"path": str(root)})
    nav, nav_issues = read_nav_dir(fund_dir / "nav")
    profiles, profile_issues = read_profiles(fund_dir / "meta")
    holdings_path = fund_dir / "holdings_top10.csv.gz"
    if holdings_path.exists():
        holdings, holding_issues = read_holdings(holdings_path)
    else:
        holdings, holding_issues = _empty_holdings(), issues_frame()
    sw_dir = fund_dir / "sw_industry"
    industry = read_sw_industry(sw_dir) if (sw_dir / "stock_industry_history.csv").exists() else \
        pd.DataFrame(columns=INDUSTRY_COLUMNS)
    bench_dir = root / "benchmarks"
    if (bench_dir / "cn_etf_prices.csv").exists():
        bench, bench_issues = read_benchmarks(bench_dir)
    else:
        bench, bench_issues = pd.DataFrame(columns=[n for n in CORE_BENCHMARKS if n != "cash"]), issues_frame()
    shelf_path = root / "cn_shelf_2017" / "zs_fee.csv"
    shelf = parse_shelf(shelf_path) if shelf_path.exists() else None
    shibor_path = root / "cn_shelf_2017" / "Shibor.csv"
    override = shibor_yields(shibor_path) if shibor_path.exists() else None
    return RawLayout(profiles=profiles, nav=nav, holdings=holdings, stock_industry=industry,
                     benchmark_prices=bench, source=f"shared:{root}", shelf=shelf, yield_override=override,
                     issues=concat_issues([nav_issues, profile_issues, holding_issues, bench_issues]))


def load_shared_layout(path: str | os.PathLike[str], money_funds: Sequence[MoneyFundSpec] = DEFAULT_MONEY_FUNDS,
                       params: ValidationParams = DEFAULT_PARAMS) -> Universe:
    """The universe of the shared raw layout at `path` (509 real funds + modeled money-market funds)."""
    return assemble_universe(read_shared_layout(path), money_funds, params)

