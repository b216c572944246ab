"""The embedded demo universe: ~80 fictional funds of every type, deterministic, built in well under a second.

With no data configured, every command runs on this universe, so a fresh install works end to end. The
funds, companies and managers are fictional (codes start with 9); the stocks they hold are real listed
companies with their SW2021 industries (`products.demo_stocks`).

Returns come from a factor model calibrated to the real data in `../shared/data` (2018-01 … 2026-02):
daily style factors (沪深300, 中证500, 10-year treasuries, gold, S&P 500, Nasdaq 100) with the annual
volatilities and correlations measured on the ETF series in `benchmarks/cn_etf_prices.csv`, Student-t
innovations and a calm / stress volatility regime for fat tails and realistic drawdowns, plus a money-market
yield path. Each fund loads on the factors by type, with idiosyncratic volatility chosen so that the median
volatility by type matches the real funds' (equity ~23%, mixed ~20%, bond ~3.5%, gold ~14%, QDII ~22%).
Long-run drifts are set to moderate forward-looking values, not the sample means (gold's 19% a year would
teach the optimizer the wrong lesson).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from products.demo_stocks import DEMO_STOCKS, THEMES
from products.deposit_rates import deposit_indices
from products.fees import FeeSchedule, FeeTable, default_minimum_purchase, default_schedule
from products.money_market import accrual_returns, yield_path
from products.taxonomy import ASSET_CLASS_OF_TYPE, DEFAULT_RISK_OF_TYPE, FundType
from products.universe import HOLDING_COLUMNS, INDUSTRY_COLUMNS, Universe
from products.validation import issues_frame

DEMO_SEED = 20260213
DEMO_START = "2016-01-04"
DEMO_END = "2026-02-13"

FACTORS = ("cn_large_cap", "cn_mid_small_cap", "cn_bond", "gold", "us_equity", "us_tech")
# Calibrated on benchmarks/cn_etf_prices.csv, daily returns 2018-01 … 2026-02 (510300, 510500, 511260,
# 518880, 513500, 513100): annual volatility and correlation.
FACTOR_VOL = np.array([0.196, 0.232, 0.026, 0.151, 0.186, 0.238])
FACTOR_CORR = np.array([
    [1.00, 0.81, -0.25, 0.04, 0.30, 0.35],
    [0.81, 1.00, -0.24, 0.07, 0.28, 0.31],
    [-0.25, -0.24, 1.00, 0.10, -0.06, -0.08],
    [0.04, 0.07, 0.10, 1.00, 0.02, 0.00],
    [0.30, 0.28, -0.06, 0.02, 1.00, 0.86],
    [0.35, 0.31, -0.08, 0.00, 0.86, 1.00],
])
FACTOR_DRIFT = np.array([0.07, 0.085, 0.035, 0.06, 0.10, 0.13])  # annual, arithmetic
REGIME_SENSITIVE = np.array([True, True, False, True, True, True])  # stress regimes hit risky assets

COMPANIES = ("长江基金", "黄河基金", "泰山基金", "华山基金", "珠江基金", "东海基金", "南山基金", "北辰基金",
             "天元基金", "金桥基金", "恒远基金", "明德基金")
MANAGER_POOL = ("王志远", "李静怡", "张明哲", "刘思源", "陈晓峰", "杨慧敏", "赵一鸣", "黄晨曦", "周子健",
                "吴佳琪", "徐立新", "孙若愚", "马文博", "朱海燕", "胡启明", "郭子涵", "何嘉欣", "高远航",
                "林可欣", "罗振宇", "郑雅文", "梁书恒", "宋雨桐", "谢天成", "韩明月", "唐景行", "冯子墨",
                "董清源", "萧望之", "程一凡")


@dataclass(frozen=True)
class _Product:
    """One demo product (a fund with one or two share classes)."""

    name: str
    fund_type: FundType
    theme: str  # key of the type's loading profile and of THEMES for holdings
    classes: str = "A"  # "A", "AC", or "" for single-class funds
    inception: str = "2014-06-01"
    risk_override: int | None = None  # a distributor (shelf) rating that differs from the type default
    status: str = "open"


# loadings on FACTORS, annual alpha, annual idiosyncratic volatility, share of NAV in stocks
_PROFILES: dict[str, tuple[tuple[float, ...], float, float, float]] = {
    "money": ((0, 0, 0, 0, 0, 0), 0.0, 0.0, 0.0),
    "bond": ((0.03, 0.0, 1.0, 0, 0, 0), 0.006, 0.018, 0.0),
    "short_bond": ((0.0, 0.0, 0.35, 0, 0, 0), 0.004, 0.006, 0.0),
    "bond_index": ((0, 0, 0.85, 0, 0, 0), 0.0, 0.004, 0.0),
    "convertible": ((0.45, 0.2, 0.3, 0, 0, 0), 0.0, 0.06, 0.15),
    "mixed_bond": ((0.14, 0.06, 0.85, 0, 0, 0), 0.008, 0.02, 0.2),
    "balanced": ((0.35, 0.15, 0.4, 0, 0, 0), 0.01, 0.05, 0.55),
    "hedged": ((0.05, 0.05, 0.3, 0, 0, 0), 0.01, 0.03, 0.6),
    "large_cap": ((0.85, 0.12, 0, 0, 0, 0), 0.015, 0.07, 0.9),
    "mid_small": ((0.25, 0.8, 0, 0, 0, 0), 0.02, 0.09, 0.9),
    "consumer": ((0.75, 0.2, 0, 0, 0, 0), 0.015, 0.10, 0.88),
    "healthcare": ((0.55, 0.45, 0, 0, 0, 0), 0.01, 0.13, 0.88),
    "tech": ((0.4, 0.7, 0, 0, 0.0, 0.1), 0.02, 0.14, 0.9),
    "new_energy": ((0.5, 0.55, 0, 0, 0, 0), 0.01, 0.15, 0.9),
    "dividend": ((0.7, 0.15, 0.05, 0, 0, 0), 0.02, 0.07, 0.88),
    "flexible": ((0.45, 0.3, 0.15, 0, 0, 0), 0.015, 0.08, 0.7),
    "index_300": ((0.99, 0, 0, 0, 0, 0), 0.0, 0.012, 0.95),
    "index_500": ((0, 0.99, 0, 0, 0, 0), 0.0, 0.014, 0.95),
    "bank": ((0.8, 0.0, 0.0, 0, 0, 0), 0.0, 0.12, 0.95),
    "enhanced_300": ((1.0, 0, 0, 0, 0, 0), 0.03, 0.03, 0.93),
    "enhanced_500": ((0, 1.0, 0, 0, 0, 0), 0.035, 0.035, 0.93),
    "enhanced_1000": ((0, 1.05, 0, 0, 0, 0), 0.04, 0.05, 0.93),
    "us_tech": ((0, 0, 0, 0, 0, 0.97), 0.0, 0.02, 0.95),
    "us_broad": ((0, 0, 0, 0, 0.96, 0), 0.0, 0.02, 0.95),
    "hk_tech": ((0.35, 0.1, 0, 0, 0, 0.35), 0.0, 0.2, 0.92),
    "global": ((0.1, 0, 0, 0, 0.6, 0.2), 0.005, 0.05, 0.85),
    "reit": ((0, 0, 0.2, 0, 0.55, 0), 0.0, 0.12, 0.9),
    "gold": ((0, 0, 0, 0.99, 0, 0), 0.0, 0.005, 0.0),
    "commodity": ((0.1, 0.1, 0, 0.35, 0, 0), 0.0, 0.16, 0.0),
    "fof_stable": ((0.15, 0.07, 0.75, 0.03, 0, 0), 0.005, 0.015, 0.0),
    "fof_balanced": ((0.35, 0.15, 0.45, 0.05, 0.05, 0), 0.005, 0.03, 0.0),
}

_HOLDINGS_THEME = {"large_cap": "large_cap", "mid_small": "mid_small", "consumer": "consumer",
                   "healthcare": "healthcare", "tech": "tech", "new_energy": "new_energy",
                   "dividend": "dividend", "flexible": "large_cap", "index_300": "large_cap",
                   "index_500": "mid_small", "bank": "bank", "enhanced_300": "large_cap",
                   "enhanced_500": "mid_small", "enhanced_1000": "mid_small", "us_tech": "us_tech",
                   "us_broad": "us_broad", "hk_tech": "hk_tech", "global": "us_broad", "reit": "us_broad",
                   "convertible": "large_cap", "mixed_bond": "dividend", "balanced": "large_cap",
                   "hedged": "large_cap"}

_BENCHMARKS = {
    "money": "七天通知存款利率(税后)",
    "bond": "中债综合全价指数收益率",
    "short_bond": "中债综合指数收益率×50%+一年期定期存款利率(税后)×50%",
    "bond_index": "中债-国开行债券总指数(1-3年)收益率×95%+银行活期存款利率(税后)×5%",
    "convertible": "中证可转换债券指数收益率×70%+中债综合指数收益率×30%",
    "mixed_bond": "沪深300指数收益率×20%+中债综合指数收益率×80%",
    "balanced": "沪深300指数收益率×50%+中债综合指数收益率×50%",
    "hedged": "一年期定期存款利率(税后)",
    "large_cap": "沪深300指数收益率×80%+中债综合指数收益率×20%",
    "mid_small": "中证500指数收益率×80%+中债综合指数收益率×20%",
    "consumer": "中证主要消费指数收益率×80%+中债综合指数收益率×20%",
    "healthcare": "中证医药卫生指数收益率×80%+中债综合指数收益率×20%",
    "tech": "中证信息技术指数收益率×80%+中债综合指数收益率×20%",
    "new_energy": "中证新能源指数收益率×80%+中债综合指数收益率×20%",
    "dividend": "中证红利指数收益率×80%+中债综合指数收益率×20%",
    "flexible": "沪深300指数收益率×60%+中债综合指数收益率×40%",
    "index_300": "沪深300指数收益率×95%+银行活期存款利率(税后)×5%",
    "index_500": "中证500指数收益率×95%+银行活期存款利率(税后)×5%",
    "bank": "中证银行指数收益率×95%+银行活期存款利率(税后)×5%",
    "enhanced_300": "沪深300指数收益率×95%+银行活期存款利率(税后)×5%",
    "enhanced_500": "中证500指数收益率×95%+银行活期存款利率(税后)×5%",
    "enhanced_1000": "中证1000指数收益率×95%+银行活期存款利率(税后)×5%",
    "us_tech": "人民币计价的纳斯达克100指数收益率×95%+银行活期存款利率(税后)×5%",
    "us_broad": "人民币计价的标普500指数收益率×95%+银行活期存款利率(税后)×5%",
    "hk_tech": "恒生科技指数收益率(经汇率调整)×95%+银行活期存款利率(税后)×5%",
    "global": "MSCI全球指数收益率(人民币计价)×80%+中债综合指数收益率×20%",
    "reit": "富时全球房地产信托指数收益率(人民币计价)",
    "gold": "上海黄金交易所Au99.99现货实盘合约收盘价收益率×95%+银行活期存款利率(税后)×5%",
    "commodity": "易盛郑商所能源化工指数A收益率",
    "fof_stable": "沪深300指数收益率×15%+中债综合指数收益率×85%",
    "fof_balanced": "沪深300指数收益率×40%+中债综合指数收益率×60%",
}

F = FundType
_PRODUCTS: tuple[_Product, ...] = (
    _Product("长江现金宝货币", F.MONEY_MARKET, "money", "", "2013-05-01"),
    _Product("黄河天天利货币", F.MONEY_MARKET, "money", "", "2014-03-01"),
    _Product("泰山货币", F.MONEY_MARKET, "money", "", "2012-11-01"),
    _Product("天元日日鑫货币", F.MONEY_MARKET, "money", "", "2015-08-01"),
    _Product("长江稳健债券", F.BOND, "bond", "AC", "2012-09-01"),
    _Product("黄河纯债债券", F.BOND, "bond", "AC", "2013-04-01"),
    _Product("华山信用精选债券", F.BOND, "bond", "A", "2014-02-01"),
    _Product("珠江短债债券", F.BOND, "short_bond", "AC", "2015-03-01"),
    _Product("东海双债增强债券", F.BOND, "bond", "A", "2013-10-01"),
    _Product("南山安心回报债券", F.BOND, "bond", "A", "2016-09-01"),
    _Product("金桥中短债债券", F.BOND, "short_bond", "AC", "2019-05-01"),
    _Product("恒远利率债债券", F.BOND, "bond", "A", "2017-06-01"),
    _Product("北辰中债1-3年国开债指数", F.BOND_INDEX, "bond_index", "A", "2016-03-01"),
    _Product("天元中债综合指数", F.BOND_INDEX, "bond_index", "A", "2018-08-01"),
    _Product("金桥可转债债券", F.CONVERTIBLE, "convertible", "AC", "2014-11-01"),
    _Product("恒远转债增强债券", F.CONVERTIBLE, "convertible", "A", "2017-02-01"),
    _Product("明德稳健配置混合", F.MIXED_BOND, "mixed_bond", "A", "2015-01-01"),
    _Product("长江安盈一年持有混合", F.MIXED_BOND, "mixed_bond", "A", "2019-09-01"),
    _Product("黄河固收增强混合", F.MIXED_BOND, "mixed_bond", "AC", "2016-05-01"),
    _Product("泰山平衡配置混合", F.MIXED_BALANCED, "balanced", "A", "2012-04-01"),
    _Product("华山均衡成长混合", F.MIXED_BALANCED, "balanced", "A", "2015-06-01"),
    _Product("珠江消费升级混合", F.MIXED_EQUITY, "consumer", "A", "2013-08-01"),
    _Product("东海医疗健康混合", F.MIXED_EQUITY, "healthcare", "A", "2014-05-01"),
    _Product("南山科技创新混合", F.MIXED_EQUITY, "tech", "A", "2015-02-01"),
    _Product("北辰新能源主题混合", F.MIXED_EQUITY, "new_energy", "A", "2016-01-04"),
    _Product("天元价值精选混合", F.MIXED_EQUITY, "dividend", "AC", "2012-12-01"),
    _Product("金桥成长先锋混合", F.MIXED_EQUITY, "mid_small", "A", "2014-09-01"),
    _Product("东海蓝筹精选混合", F.MIXED_EQUITY, "large_cap", "A", "2011-07-01"),
    _Product("南山均衡优选混合", F.MIXED_EQUITY, "flexible", "A", "2018-03-01"),
    _Product("恒远灵活配置混合", F.MIXED_FLEXIBLE, "flexible", "A", "2015-04-01"),
    _Product("明德策略精选混合", F.MIXED_FLEXIBLE, "flexible", "A", "2016-10-01"),
    _Product("长江优选回报灵活配置混合", F.MIXED_FLEXIBLE, "flexible", "A", "2014-12-01"),
    _Product("黄河睿见混合", F.MIXED_FLEXIBLE, "large_cap", "A", "2017-08-01"),
    _Product("泰山量化对冲混合", F.MIXED_FLEXIBLE, "hedged", "A", "2016-06-01", risk_override=2),
    _Product("泰山核心资产股票", F.EQUITY, "large_cap", "A", "2015-05-01"),
    _Product("华山中小盘成长股票", F.EQUITY, "mid_small", "A", "2013-06-01"),
    _Product("珠江医药生物股票", F.EQUITY, "healthcare", "A", "2015-09-01"),
    _Product("东海半导体产业股票", F.EQUITY, "tech", "A", "2019-03-01", risk_override=5),
    _Product("南山红利优选股票", F.EQUITY, "dividend", "A", "2014-01-01"),
    _Product("北辰消费精选股票", F.EQUITY, "consumer", "A", "2016-02-01"),
    _Product("恒远高端制造股票", F.EQUITY, "mid_small", "A", "2020-07-01"),
    _Product("明德新能源车股票", F.EQUITY, "new_energy", "A", "2024-03-01"),
    _Product("天元沪深300ETF联接", F.INDEX, "index_300", "AC", "2012-05-01"),
    _Product("金桥中证500ETF联接", F.INDEX, "index_500", "AC", "2013-03-01"),
    _Product("恒远中证银行指数", F.INDEX, "bank", "A", "2015-07-01"),
    _Product("明德中证红利指数", F.INDEX, "dividend", "A", "2014-04-01"),
    _Product("长江创业板指数", F.INDEX, "new_energy", "A", "2016-04-01"),
    _Product("黄河沪深300指数", F.INDEX, "index_300", "A", "2011-01-01"),
    _Product("华山中证医疗指数", F.INDEX, "healthcare", "A", "2016-08-01"),
    _Product("天元科创50ETF联接", F.INDEX, "tech", "AC", "2024-06-01"),
    _Product("泰山沪深300指数增强", F.ENHANCED_INDEX, "enhanced_300", "A", "2014-08-01"),
    _Product("华山中证500指数增强", F.ENHANCED_INDEX, "enhanced_500", "AC", "2015-11-01"),
    _Product("珠江中证1000指数增强", F.ENHANCED_INDEX, "enhanced_1000", "A", "2024-05-01"),
    _Product("恒远沪深300指数增强", F.ENHANCED_INDEX, "enhanced_300", "A", "2017-04-01"),
    _Product("东海纳斯达克100指数(QDII)", F.QDII_EQUITY, "us_tech", "AC", "2015-06-01", status="limited"),
    _Product("南山标普500指数(QDII)", F.QDII_EQUITY, "us_broad", "A", "2016-12-01"),
    _Product("北辰恒生科技指数(QDII)", F.QDII_EQUITY, "hk_tech", "A", "2021-05-01"),
    _Product("天元全球精选股票(QDII)", F.QDII_EQUITY, "global", "A", "2013-09-01"),
    _Product("金桥全球房地产信托(QDII)", F.QDII_OTHER, "reit", "A", "2012-10-01", status="suspended"),
    _Product("明德全球配置混合(QDII)", F.QDII_OTHER, "global", "A", "2017-11-01"),
    _Product("长江黄金ETF联接", F.GOLD, "gold", "AC", "2016-05-01"),
    _Product("黄河上海金ETF联接", F.GOLD, "gold", "A", "2019-10-01"),
    _Product("明德黄金主题", F.GOLD, "gold", "A", "2020-01-01"),
    _Product("泰山能源化工期货ETF联接", F.COMMODITY, "commodity", "A", "2020-03-01"),
    _Product("华山稳健养老目标一年持有(FOF)", F.FOF, "fof_stable", "A", "2018-12-01"),
    _Product("珠江均衡三年持有(FOF)", F.FOF, "fof_balanced", "A", "2020-06-01"),
)


def _cash_daily(dates: pd.DatetimeIndex) -> np.ndarray:
    """Daily money-market accrual on the default yield path (`products.money_market`)."""
    return accrual_returns(dates, yield_path(dates)).to_numpy()


def _factor_returns(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 6) daily factor returns: correlated Student-t innovations under a calm / stress regime."""
    dof = 5.0
    shocks = rng.standard_t(dof, size=(n, len(FACTORS))) / np.sqrt(dof / (dof - 2.0))
    shocks = shocks @ np.linalg.cholesky(FACTOR_CORR).T
    to_stress, to_calm = 0.01, 0.03
    stress = np.zeros(n, dtype=bool)
    draws = rng.random(n)
    for t in range(1, n):  # a two-state Markov chain; sequential by nature, n ≈ 2,600
        stress[t] = draws[t] < (1 - to_calm) if stress[t - 1] else draws[t] < to_stress
    p_stress = to_stress / (to_stress + to_calm)
    norm = np.sqrt((1 - p_stress) * 0.8**2 + p_stress * 1.7**2)
    multiplier = np.where(stress, 1.7, 0.8)[:, None] / norm
    multiplier = np.where(REGIME_SENSITIVE[None, :], multiplier, 1.0)
    scaled = shocks * multiplier * (FACTOR_VOL / np.sqrt(252.0))
    # Remove the sample mean so that every factor's long-run drift is exactly its assumption: the demo's
    # ten years should not teach a lucky or unlucky draw (one seed had gold losing 7% a year).
    return FACTOR_DRIFT / 252.0 + scaled - scaled.mean(axis=0)


def _holdings(rng: np.random.Generator, fund_rows: list[dict], quarters: list[str]) -> pd.DataFrame:
    """Quarterly top-10 holdings of every stock-holding fund (C classes repeat their A class)."""
    stock_meta = {s[0]: s for s in DEMO_STOCKS}
    rows = []
    by_base: dict[str, list[tuple]] = {}
    for fund in fund_rows:
        theme = _HOLDINGS_THEME.get(fund["_theme"])
        equity_share = _PROFILES[fund["_theme"]][3]
        if theme is None or equity_share <= 0:
            continue
        base = fund["_base"]
        if base not in by_base:
            pool = list(THEMES[theme])
            if fund["_theme"] in ("flexible", "balanced", "large_cap"):
                pool = pool + list(THEMES["consumer"][:4]) + list(THEMES["tech"][:3])
            passive = fund["fund_type"] in (FundType.INDEX, FundType.ENHANCED_INDEX) or theme.startswith("us_")
            top10_share = {"bank": 0.68, "large_cap": 0.45, "mid_small": 0.30}.get(theme, 0.55)
            if passive and theme == "large_cap":
                top10_share = 0.24
            generated = []
            for quarter in quarters:
                picks = pool[:10] if passive else list(rng.choice(pool, size=min(10, len(pool)), replace=False))
                if len(picks) < 10:
                    extra = [c for c in THEMES["large_cap"] if c not in picks]
                    picks += extra[: 10 - len(picks)]
                raw = np.sort(rng.dirichlet(np.full(10, 3.0 if passive else 1.5)))[::-1]
                share = top10_share * rng.uniform(0.9, 1.1) * equity_share / 0.95
                generated.append((quarter, picks, raw * share, equity_share * rng.uniform(0.97, 1.02)))
            by_base[base] = generated
        for quarter, picks, weights, eq in by_base[base]:
            for rank, (code, weight) in enumerate(zip(picks, weights, strict=True), start=1):
                meta = stock_meta[code]
                rows.append((quarter, fund["code"], code, meta[1], meta[2], round(float(weight), 6),
                             round(float(min(eq, 1.0)), 4), rank))
    return pd.DataFrame(rows, columns=HOLDING_COLUMNS)


def _stock_industry() -> pd.DataFrame:
    rows = [(s[0], pd.Timestamp("2021-07-30"), s[3], s[4], s[5]) for s in DEMO_STOCKS]
    return pd.DataFrame(rows, columns=INDUSTRY_COLUMNS)


def demo_universe(seed: int = DEMO_SEED) -> Universe:
    """Build the deterministic demo universe (same seed → identical universe)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(DEMO_START, DEMO_END)
    n_days = len(dates)
    factors = _factor_returns(rng, n_days)
    cash = _cash_daily(dates)

    fund_rows: list[dict] = []
    schedules: list[FeeSchedule] = []
    series: list[np.ndarray] = []
    code_no = 900001
    for p_idx, product in enumerate(_PRODUCTS):
        loadings, alpha, idio_vol, _ = _PROFILES[product.theme]
        company = COMPANIES[p_idx % len(COMPANIES)]
        inception = pd.Timestamp(product.inception)
        n_managers = 1 + int(rng.random() < 0.35)
        managers = list(rng.choice(MANAGER_POOL, size=n_managers, replace=False))
        tenure_start = max(inception, pd.Timestamp("2016-01-01")) + pd.Timedelta(
            days=int(rng.integers(0, 2500)))
        manager_since = min(tenure_start, pd.Timestamp(DEMO_END) - pd.Timedelta(days=60))
        if product.theme == "money":
            base_ret = cash * rng.uniform(0.95, 1.08)
        else:
            idio = rng.standard_normal(n_days) * idio_vol / np.sqrt(252.0)
            uninvested = max(0.0, 1.0 - sum(loadings))  # the part not in any factor earns the cash rate
            base_ret = factors @ np.asarray(loadings) + idio + alpha / 252.0 + cash * uninvested
        mgmt_jitter = float(rng.uniform(0.85, 1.15))
        aum = float(np.round(np.exp(rng.normal(np.log(25.0), 1.2)), 2))
        classes = product.classes or ""
        class_letters = list(classes) if classes else [""]
        codes = [f"{code_no + i:06d}" for i in range(len(class_letters))]
        code_no += len(class_letters)
        for letter, code in zip(class_letters, codes, strict=True):
            schedule = default_schedule(product.fund_type, letter)
            schedule = replace(schedule, management_fee=round(schedule.management_fee * mgmt_jitter, 4))
            daily_cost_gap = schedule.sales_service_fee / 252.0
            ret = base_ret - daily_cost_gap
            ret = np.where(dates >= inception, ret, np.nan)
            series.append(ret)
            schedules.append(schedule)
            risk = product.risk_override or int(DEFAULT_RISK_OF_TYPE[product.fund_type])
            min_purchase = default_minimum_purchase(product.fund_type)
            fund_rows.append({
                "code": code,
                "name": product.name + letter,
                "full_name": f"{company}{product.name}证券投资基金",
                "company": company + "管理有限公司",
                "managers": " ".join(managers),
                "manager_since": manager_since,
                "inception": inception,
                "share_class": letter,
                "sibling_codes": " ".join(c for c in codes if c != code),
                "fund_type": product.fund_type.value,
                "asset_class": ASSET_CLASS_OF_TYPE[product.fund_type].value,
                "risk_level": risk,
                "risk_source": "shelf" if product.risk_override else "type_default",
                "aum_yi": aum if letter in ("", "A") else float(np.round(aum * 0.3, 2)),
                "benchmark_text": _BENCHMARKS[product.theme],
                "status": product.status,
                "min_purchase": min_purchase,
                "purchase_increment": 0.01 if product.fund_type is FundType.MONEY_MARKET else 1.0,
                "min_sip": 10.0 if min_purchase <= 10 else 100.0,
                "management_fee": schedule.management_fee,
                "custody_fee": schedule.custody_fee,
                "sales_service_fee": schedule.sales_service_fee, "currency": "CNY", "modelled": False,
                "_theme": product.theme,
                "_base": product.name,
            })

    quarters = [f"{y}-Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]
    holdings = _holdings(rng, fund_rows, quarters)
    funds = pd.DataFrame(fund_rows).drop(columns=["_theme", "_base"]).set_index("code")
    funds.index.name = "code"
    returns = pd.DataFrame(np.column_stack(series), index=dates, columns=funds.index)
    returns.index.name = "date"
    unit_nav = (1.0 + returns.fillna(0.0)).cumprod().where(returns.notna())
    money = funds.index[funds["fund_type"] == FundType.MONEY_MARKET.value]
    unit_nav[money] = unit_nav[money].notna().astype(float).where(unit_nav[money].notna())  # NAV stays 1.00
    factor_prices = pd.DataFrame(np.cumprod(1.0 + factors, axis=0), index=dates, columns=list(FACTORS))
    factor_prices["cash"] = np.cumprod(1.0 + cash)
    factor_prices = pd.concat([factor_prices, deposit_indices(pd.DatetimeIndex(dates))], axis=1)
    factor_prices.index.name = "date"
    return Universe(
        as_of=date.fromisoformat(DEMO_END),
        funds=funds,
        fees=FeeTable.from_schedules(schedules),
        returns=returns,
        holdings=holdings,
        stock_industry=_stock_industry(),
        benchmarks=factor_prices,
        unit_nav=unit_nav,
        source="demo",
        issues=issues_frame(),
    )
