"""The project's own on-disk format: a directory of Parquet files a bank's data team can produce.

``manifest.json`` (format_version, as_of, source, created_at, fee_discount, row_counts) plus
``funds``, ``fees``, ``nav``, ``holdings``, ``stock_industry``, ``benchmarks`` and ``issues`` Parquet
files; every file and column is documented in docs/data-format.md. `write_canonical` and
`read_canonical` round-trip a `Universe` exactly. `read_canonical` checks the schema and raises
`DataError` naming the file and the missing columns, or `nav.parquet` when it holds no usable return
(a universe cannot work without returns); bad values (unknown fund types, risk levels outside 1–5, fee
tiers that do not ascend) raise `DataError` naming the fund. The optional files (holdings,
stock_industry, benchmarks, issues) may be absent or empty: the features that need them answer
"unavailable" and everything else works.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from products.errors import AdvisorError, DataError
from products.fees import FeeSchedule, FeeTable, RedemptionTier, SubscriptionTier, default_schedule
from products.risk_rating import apply_risk_floor
from products.taxonomy import CURRENCIES, AssetClass, FundType, currency_of_fund
from products.universe import (
    BENCHMARK_NAMES,
    FUND_COLUMNS,
    HOLDING_COLUMNS,
    INDUSTRY_COLUMNS,
    OPTIONAL_FUND_COLUMNS,
    Universe,
)
from products.validation import ISSUE_COLUMNS, concat_issues, issues_frame, unknown_codes

FORMAT_VERSION = "1.0"
MANIFEST = "manifest.json"
FEE_COLUMNS = ["code", "kind", "tier", "upper", "rate", "flat_fee"]
NAV_COLUMNS = ["code", "date", "unit_nav", "daily_return"]
BENCHMARK_COLUMNS = ["date", "name", "close"]
REQUIRED_COLUMNS: dict[str, list[str]] = {
    "funds": ["code", *FUND_COLUMNS],
    "fees": FEE_COLUMNS,
    "nav": NAV_COLUMNS,
    "holdings": HOLDING_COLUMNS,
    "stock_industry": INDUSTRY_COLUMNS,
    "benchmarks": BENCHMARK_COLUMNS,
    "issues": ISSUE_COLUMNS,
}
OPTIONAL_FILES = ("holdings", "stock_industry", "benchmarks", "issues")
_DATE_FUND_COLUMNS = ("manager_since", "inception")
_FLOAT_FUND_COLUMNS = ("aum_yi", "min_purchase", "purchase_increment", "min_sip", "management_fee", "custody_fee",
                       "sales_service_fee")


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------

def fee_rows(codes: pd.Index, schedules: tuple[FeeSchedule, ...]) -> pd.DataFrame:
    """Fee schedules as the long `fees` table (one row per tier; upper = inf on the last tier)."""
    rows = []
    for code, schedule in zip(codes, schedules, strict=True):
        for i, t in enumerate(schedule.subscription):
            rows.append((code, "subscription", i, float(t.upper), float(t.rate),
                         np.nan if t.flat is None else float(t.flat)))
        for i, t in enumerate(schedule.redemption):
            rows.append((code, "redemption", i, float(t.upper_days), float(t.rate), np.nan))
    return pd.DataFrame(rows, columns=FEE_COLUMNS).astype({"code": "str", "kind": "str", "tier": "int64"})


def nav_rows(universe: Universe) -> pd.DataFrame:
    """Returns and unit NAV as the long `nav` table (rows where either is present)."""
    returns = universe.returns
    r = returns.to_numpy(dtype=float)
    if universe.unit_nav is not None and not universe.unit_nav.empty:
        u = universe.unit_nav.reindex(index=returns.index, columns=returns.columns).to_numpy(dtype=float)
    else:
        u = np.full_like(r, np.nan)
    present = ~np.isnan(r) | ~np.isnan(u)
    di, ci = np.nonzero(present.T)  # fund-major order: code, then date
    return pd.DataFrame({
        "code": pd.Series(returns.columns.to_numpy()[di], dtype="str"),
        "date": returns.index.to_numpy(dtype="datetime64[ns]")[ci],
        "unit_nav": u[ci, di], "daily_return": r[ci, di],
    })


def benchmark_rows(benchmarks: pd.DataFrame) -> pd.DataFrame:
    if benchmarks is None or benchmarks.empty:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "name": pd.Series(dtype="str"),
                             "close": pd.Series(dtype=float)})
    long = benchmarks.rename_axis(index="date", columns="name").melt(ignore_index=False, value_name="close")
    long = long.reset_index().dropna(subset=["close"])
    return pd.DataFrame({"date": long["date"].to_numpy(dtype="datetime64[ns]"),
                         "name": long["name"].astype("str").to_numpy(), "close": long["close"].astype(float)})


def write_canonical(universe: Universe, out_dir: str | os.PathLike[str]) -> dict:
    """Write `universe` as a canonical directory; returns the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    funds = universe.funds.reset_index()
    funds = funds.rename(columns={funds.columns[0]: "code"})[["code", *FUND_COLUMNS]]
    tables = {
        "funds": funds,
        "fees": fee_rows(universe.funds.index, universe.fees.schedules),
        "nav": nav_rows(universe),
        "holdings": universe.holdings.reset_index(drop=True),
        "stock_industry": universe.stock_industry.reset_index(drop=True),
        "benchmarks": benchmark_rows(universe.benchmarks),
        "issues": issues_frame(universe.issues if universe.issues is not None else None),
    }
    if len(universe.fees.schedules) != len(universe.funds):
        raise DataError("the universe's fee table has no schedules to write", code="bad_data")
    for name, table in tables.items():
        table.to_parquet(out / f"{name}.parquet", index=False)
    manifest = {
        "format_version": FORMAT_VERSION,
        "as_of": pd.Timestamp(universe.as_of).date().isoformat(),
        "source": universe.source,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fee_discount": universe.fee_discount,
        "benchmark_names": [str(c) for c in universe.benchmarks.columns],
        "row_counts": {name: len(table) for name, table in tables.items()},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------

def read_manifest(path: str | os.PathLike[str]) -> dict:
    file = Path(path) / MANIFEST
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise DataError(f"{file} is missing: not a canonical data directory", code="data_unrecognized",
                        details={"path": str(path)}) from err
    except ValueError as err:
        raise DataError(f"{file} is not valid JSON: {err}", details={"file": str(file)}) from err
    missing = [k for k in ("format_version", "as_of") if k not in manifest]
    if missing:
        raise DataError(f"{file} lacks {', '.join(missing)}", code="missing_column", details={"missing": missing})
    if str(manifest["format_version"]).split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise DataError(f"canonical format {manifest['format_version']} is not supported (expected "
                        f"{FORMAT_VERSION})", details={"format_version": manifest["format_version"]})
    return manifest


def _read_table(root: Path, name: str) -> pd.DataFrame | None:
    path = root / f"{name}.parquet"
    if not path.exists():
        if name in OPTIONAL_FILES:
            return None
        raise DataError(f"{path.name} is missing from {root}", code="data_missing", details={"file": path.name})
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise DataError(f"{path.name} is not readable Parquet: {err}", details={"file": path.name}) from err
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in table.columns
               and not (name == "funds" and c in OPTIONAL_FUND_COLUMNS)]
    if missing:
        raise DataError(f"{path.name} lacks column(s): {', '.join(missing)}", code="missing_column",
                        details={"file": path.name, "missing": missing})
    return table


def _as_ns(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")


def _funds(table: pd.DataFrame) -> pd.DataFrame:
    funds = table.copy()
    funds["code"] = funds["code"].astype("str")
    dup = funds["code"][funds["code"].duplicated()]
    if len(dup):
        raise DataError(f"funds.parquet lists code(s) twice: {', '.join(dup.unique()[:10])}",
                        details={"codes": list(dup.unique()[:10])})
    funds = funds.set_index("code")
    for col in _DATE_FUND_COLUMNS:
        funds[col] = _as_ns(funds[col])
    for col in _FLOAT_FUND_COLUMNS:
        funds[col] = pd.to_numeric(funds[col], errors="coerce").astype(float)
    bad_type = ~funds["fund_type"].isin([t.value for t in FundType])
    bad_class = ~funds["asset_class"].isin([a.value for a in AssetClass])
    risk = pd.to_numeric(funds["risk_level"], errors="coerce")
    bad_risk = ~risk.between(1, 5) | (risk % 1 != 0)
    for mask, what in ((bad_type, "fund_type"), (bad_class, "asset_class"), (bad_risk, "risk_level (1–5)")):
        if mask.any():
            codes = list(funds.index[mask][:10])
            raise DataError(f"funds.parquet: invalid {what} for fund(s) {', '.join(codes)}",
                            details={"codes": codes, "column": what.split()[0]})
    funds["risk_level"] = risk.astype("int64")
    if "currency" not in funds:
        funds["currency"] = currency_of_fund(funds[["name"]].fillna(""))  # older files: read from the name
    bad_currency = ~funds["currency"].fillna("CNY").isin(CURRENCIES)
    if bad_currency.any():
        codes = list(funds.index[bad_currency][:10])
        raise DataError(f"funds.parquet: invalid currency for fund(s) {', '.join(codes)} (expected "
                        f"{' or '.join(CURRENCIES)})", details={"codes": codes, "column": "currency"})
    funds["modelled"] = funds["modelled"].fillna(False).astype(bool) if "modelled" in funds else False
    for col in FUND_COLUMNS:
        if col not in _DATE_FUND_COLUMNS + _FLOAT_FUND_COLUMNS + ("risk_level", "modelled"):
            funds[col] = funds[col].fillna("").astype("str")
    return funds[list(FUND_COLUMNS)]


def _schedules(funds: pd.DataFrame, fees: pd.DataFrame) -> tuple[list[FeeSchedule], pd.DataFrame]:
    fees = fees.astype({"code": "str", "kind": "str"}).sort_values(["code", "kind", "tier"], kind="stable")
    found = [unknown_codes(funds.index, fees["code"], "fees.parquet", "warning")]
    tiers: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    for code, kind, upper, rate, flat in zip(fees["code"], fees["kind"], fees["upper"].astype(float),
                                             fees["rate"].astype(float), fees["flat_fee"].astype(float),
                                             strict=True):
        tiers.setdefault(code, {}).setdefault(kind, []).append((upper, rate, flat))
    schedules, missing = [], []
    for code, row in zip(funds.index, funds.itertuples(index=False), strict=True):
        base = default_schedule(row.fund_type, row.share_class)
        mine = tiers.get(code)
        if mine is None:
            missing.append(code)
            mine = {}
        try:
            sub = tuple(SubscriptionTier(u, r, None if math.isnan(f) else f)
                        for u, r, f in mine.get("subscription", []))
            red = tuple(RedemptionTier(u, r) for u, r, _ in mine.get("redemption", []))
            schedules.append(FeeSchedule(
                subscription=sub or base.subscription, redemption=red or base.redemption,
                management_fee=row.management_fee, custody_fee=row.custody_fee,
                sales_service_fee=row.sales_service_fee, money_market=row.fund_type == FundType.MONEY_MARKET.value,
            ))
        except AdvisorError as err:
            raise DataError(f"fees.parquet: fund {code}: {err.message}", details={"code": code, **err.details}) \
                from err
    if missing:
        found.append(issues_frame([{"code": c, "check": "unknown_code", "severity": "warning",
                                    "source": "fees.parquet", "message": "no fee rows; type-default tiers used"}
                                   for c in missing]))
    return schedules, concat_issues(found)


def read_canonical(path: str | os.PathLike[str]) -> Universe:
    """The universe stored at `path` (see docs/data-format.md)."""
    root = Path(path)
    manifest = read_manifest(root)
    funds = _funds(_read_table(root, "funds"))
    schedules, fee_issues = _schedules(funds, _read_table(root, "fees"))

    nav = _read_table(root, "nav")
    if nav.empty:
        raise DataError(f"nav.parquet in {root} has no rows: a universe cannot work without returns",
                        code="data_missing", details={"file": "nav.parquet", "rows": 0})
    nav = nav.assign(code=nav["code"].astype("str"), date=_as_ns(nav["date"]))
    found = [fee_issues, unknown_codes(funds.index, nav["code"], "nav.parquet", "warning")]
    dup = nav.duplicated(["code", "date"], keep="last").to_numpy()
    if dup.any():
        found.append(issues_frame(pd.DataFrame({"code": nav.loc[dup, "code"], "date": nav.loc[dup, "date"],
                                                "check": "duplicate_date", "severity": "warning",
                                                "message": "date repeated for this fund; later row kept",
                                                "source": "nav.parquet"})))
        nav = nav.loc[~dup]
    nav = nav.loc[nav["date"].notna()]
    index = pd.DatetimeIndex(np.unique(nav["date"].to_numpy(dtype="datetime64[ns]")))
    col = funds.index.get_indexer(nav["code"])
    known = col >= 0
    row = index.get_indexer(nav["date"])[known]
    values = {}
    for name in ("daily_return", "unit_nav"):
        grid = np.full((len(index), len(funds)), np.nan)
        grid[row, col[known]] = nav[name].to_numpy(dtype=float)[known]
        values[name] = pd.DataFrame(grid, index=index, columns=funds.index.rename(None))
    returns, unit = values["daily_return"], values["unit_nav"]
    if not returns.notna().to_numpy().any():
        raise DataError(f"nav.parquet in {root} has no daily_return with a readable date for any fund in "
                        "funds.parquet: a universe cannot work without returns", code="data_missing",
                        details={"file": "nav.parquet", "rows": len(nav), "funds_with_rows": int(known.sum())})
    unit = pd.DataFrame() if unit.isna().all().all() else unit
    for frame in (returns, unit):
        frame.index.name = None
        frame.columns.name = None

    holdings = _read_table(root, "holdings")
    holdings = pd.DataFrame({c: pd.Series(dtype="str") for c in HOLDING_COLUMNS}) if holdings is None else \
        holdings.reset_index(drop=True)
    industry = _read_table(root, "stock_industry")
    if industry is None:
        industry = pd.DataFrame({c: pd.Series(dtype="str") for c in INDUSTRY_COLUMNS})
    industry = industry.assign(effective_date=_as_ns(industry["effective_date"])).reset_index(drop=True)

    bench_long = _read_table(root, "benchmarks")
    names = list(manifest.get("benchmark_names") or BENCHMARK_NAMES)
    if bench_long is None or bench_long.empty:
        benchmarks = pd.DataFrame(columns=names, dtype=float)
    else:
        bench_long = bench_long.assign(date=_as_ns(bench_long["date"]), name=bench_long["name"].astype("str"))
        benchmarks = bench_long.pivot_table(index="date", columns="name", values="close", aggfunc="last")
        extra = [n for n in pd.unique(bench_long["name"]) if n not in names]
        benchmarks = benchmarks.reindex(columns=[*names, *extra]).astype(float)
        benchmarks.index.name = None
        benchmarks.columns.name = None

    funds, floor_found = apply_risk_floor(funds, returns, as_of=returns.index[-1])
    found.append(floor_found)
    stored = _read_table(root, "issues")
    issues = concat_issues([issues_frame(stored) if stored is not None else None, *found])
    as_of = date.fromisoformat(str(manifest["as_of"])[:10])
    discount = float(manifest.get("fee_discount", 0.1))
    if not (0 <= discount <= 1) or math.isnan(discount):
        raise DataError(f"manifest fee_discount {discount} must be within [0, 1]")
    return Universe(as_of=as_of, funds=funds, fees=FeeTable.from_schedules(schedules), returns=returns,
                    holdings=holdings, stock_industry=industry, benchmarks=benchmarks, unit_nav=unit,
                    source=str(manifest.get("source", f"canonical:{root}")), fee_discount=discount, issues=issues)
