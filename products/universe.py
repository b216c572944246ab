"""The universe snapshot: every fund the service may use, as of one date, immutable and shared.

Built once per data load (`products.loading.load_universe`), then passed to every core function. All
tables are aligned on `codes`: row i of `funds`, `fees`, and column i of `returns` are the same fund.

Tables
------
funds : DataFrame indexed by `code` (str), columns listed in `FUND_COLUMNS`.
returns : DataFrame, DatetimeIndex (trading days, ascending) × code; daily total (dividend-adjusted)
    returns as fractions; NaN where the fund had no NAV that day (before inception, foreign holidays).
unit_nav : DataFrame like `returns` with the published unit NAV (drops on dividends), may be empty.
holdings : long DataFrame of quarterly top-10 stock holdings, columns `HOLDING_COLUMNS`; `weight` and
    `equity_share` are fractions of the fund's NAV.
stock_industry : point-in-time SW industry, columns `INDUSTRY_COLUMNS`; take the latest
    `effective_date` ≤ the as-of date.
benchmarks : DataFrame, DatetimeIndex × style/benchmark name, price levels (see `BENCHMARK_NAMES`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from products.errors import NotFoundError
from products.fees import DEFAULT_DISCOUNT, FeeTable

FUND_COLUMNS: dict[str, str] = {
    "name": "short name (基金简称)",
    "full_name": "full legal name",
    "company": "fund company (基金公司)",
    "managers": "fund managers, space separated",
    "manager_since": "start date of the longest-serving current manager (NaT if unknown)",
    "inception": "inception date (成立时间)",
    "share_class": "A / C / ... or empty",
    "sibling_codes": "other share classes of the same fund, space separated",
    "fund_type": "products.taxonomy.FundType value",
    "asset_class": "products.taxonomy.AssetClass value",
    "risk_level": "product risk level 1–5 (R1–R5)",
    "risk_source": "where the risk level came from: shelf / manager / type_default / stale_shelf / measured_risk",
    "aum_yi": "latest size in 亿元 (100 million yuan), NaN if unknown",
    "benchmark_text": "业绩比较基准 as published",
    "status": "open / suspended / closed / limited",
    "min_purchase": "minimum first purchase, yuan",
    "purchase_increment": "purchase amounts step, yuan",
    "min_sip": "minimum SIP (定投) amount, yuan",
    "management_fee": "yearly",
    "custody_fee": "yearly",
    "sales_service_fee": "yearly (C classes)",
    "currency": "currency of the share class's NAV: CNY, or USD for 美元现汇 / 美元现钞 classes",
    "modelled": "True for a placeholder modelled from a yield path (the 模拟 money funds), never a real fund",
}
# Columns a stored universe may lack (older canonical files): filled from the name / False on reading.
OPTIONAL_FUND_COLUMNS: tuple[str, ...] = ("currency", "modelled")

HOLDING_COLUMNS = ["quarter", "fund_code", "stock_code", "stock_name", "market", "weight", "equity_share",
                   "rank"]
INDUSTRY_COLUMNS = ["stock_code", "effective_date", "sw_l1", "sw_l2", "sw_l3"]

# Stable names of the benchmark / style series (source columns are mapped onto these). The first seven
# are the style basis every universe has; the others are optional (absent → a labelled substitute).
BENCHMARK_NAMES: dict[str, str] = {
    "cn_large_cap": "沪深300 (510300)",
    "cn_mid_small_cap": "中证500 (510500)",
    "cn_bond": "10年国债 (511260)",
    "gold": "黄金 (518880)",
    "us_equity": "标普500 (SPY)",
    "us_tech": "纳斯达克100 (QQQ)",
    "cash": "货币 (money-market yield)",
    "hk_equity": "恒生指数 (HSI)",
    "de_equity": "德国DAX指数",
    "jp_equity": "日经225指数",
    "cn_sse50": "上证50指数 (000016)",
    "cn_composite": "上证综合指数 (000001)",
    "cn_szse": "深证成份指数 (399001)",
    "cn_sme": "中小板指数 (399005)",
    "deposit_demand": "人民币活期存款基准利率(税后)",
    "deposit_1y": "一年期定期存款基准利率(税后)",
    "deposit_3y": "三年期定期存款基准利率(税后)",
    "usd_cny": "美元兑人民币汇率 (USD/CNY)",
}
CORE_BENCHMARKS: tuple[str, ...] = ("cn_large_cap", "cn_mid_small_cap", "cn_bond", "gold", "us_equity", "us_tech",
                                    "cash")


@dataclass(frozen=True, eq=False)
class Universe:
    as_of: date
    funds: pd.DataFrame
    fees: FeeTable
    returns: pd.DataFrame
    holdings: pd.DataFrame
    stock_industry: pd.DataFrame
    benchmarks: pd.DataFrame
    unit_nav: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = "demo"
    fee_discount: float = DEFAULT_DISCOUNT
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)  # validation findings at load time

    def __post_init__(self) -> None:
        if len(self.fees) != len(self.funds):
            raise ValueError("fees must align with funds")
        if list(self.returns.columns) != list(self.funds.index):
            raise ValueError("returns columns must equal funds.index in order")

    @property
    def codes(self) -> np.ndarray:
        return self.funds.index.to_numpy()

    @cached_property
    def code_index(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.funds.index)}

    def index_of(self, codes: object) -> np.ndarray:
        """Positions of `codes` (array-like of str); -1 for codes not in the universe."""
        lookup = self.code_index
        return np.fromiter((lookup.get(str(c), -1) for c in np.asarray(codes, dtype=object).ravel()),
                           dtype=np.intp)

    def fund(self, code: str) -> pd.Series:
        if code not in self.code_index:
            raise NotFoundError(f"fund {code!r} is not in the universe", code="fund_not_found",
                                details={"code": code})
        return self.funds.loc[code]

    @cached_property
    def version(self) -> str:
        """A short content hash: the same data gives the same version (recorded with every result)."""
        h = hashlib.sha256()
        h.update(str(self.as_of).encode())
        h.update(pd.util.hash_pandas_object(self.funds.reset_index().astype(str), index=False).values.tobytes())
        if not self.returns.empty:
            h.update(np.nan_to_num(self.returns.to_numpy()).tobytes())
        return h.hexdigest()[:12]

    def returns_until(self, as_of: date | str | pd.Timestamp | None) -> pd.DataFrame:
        """Returns up to and including `as_of` (point in time)."""
        if as_of is None:
            return self.returns
        return self.returns.loc[: pd.Timestamp(as_of)]

    def total_return_index(self) -> pd.DataFrame:
        """Growth of 1 yuan from each fund's first observation (NaN before it); see `products.analytics`."""
        from products.analytics import total_return_index  # analytics imports this module

        return total_return_index(self.returns)
