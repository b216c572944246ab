"""Product risk ratings that are current: shelf rows that still describe the fund, and a floor from measured risk.

A distributor's shelf table is matched by fund code, but codes get reused and funds change mandate (保本
funds became mixed funds, a domestic fund became a QDII fund). Two rules (docs/data-format.md, "Product
risk ratings"):

1. **A shelf row applies only while it describes the same product** (`shelf_row_applies`): the shelf's
   name and type must agree with the current profile. It is stale when the row names a capital guarantee
   (保本) the fund no longer has, when the family changed (QDII, gold / commodity, bond, money market, or
   equity & mixed — 股票型 and 混合型 are one family, as many 股票型 funds became 混合型 in 2015 without
   changing what they hold), or when the names share too little once the company prefix is set aside
   (`NAME_SIMILARITY_MIN`). A stale row is not used at all (rating, fees, SIP minimum): the fund takes its
   type's conservative default, never lower than the stale rating (`risk_source = stale_shelf`).
2. **A rating implausibly low for the fund's measured risk is raised** (`apply_risk_floor`): annualized
   volatility over the `VOLATILITY_YEARS` = 3 years to the as-of date (at least `MIN_OBSERVATIONS` days)
   above `MAX_VOLATILITY_OF_LEVEL[level]` (R1 3 %, R2 12 %) raises the level to the type default, or
   higher if that is still too low (`risk_source = measured_risk`). Ratings are never lowered.

Both are reported as findings (`stale_shelf_row`, `risk_raised`) so the data team sees every change.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from products.taxonomy import DEFAULT_RISK_OF_TYPE, FundType
from products.validation import issues_frame

NAME_SIMILARITY_MIN = 0.5
MAX_VOLATILITY_OF_LEVEL: dict[int, float] = {1: 0.03, 2: 0.12}
VOLATILITY_YEARS = 3
MIN_OBSERVATIONS = 126  # half a year of daily NAVs inside the window
TRADING_DAYS = 252

_GUARANTEE = ("保本", "保值")
# Words that say nothing about which product it is (type, share class, vehicle, currency, sector suffix).
_GENERIC = re.compile(r"证券投资基金|基金|混合型|股票型|债券型|混合|股票|债券|灵活配置|发起式|联接|场外|人民币|美元|"
                      r"现汇|现钞|份额|指数|行业|产业|ETF|LOF|QDII|[A-EHIY]类?$|[（(][^）)]*[）)]")
_COMPANY_SUFFIX = re.compile(r"(基金管理|资产管理|基金)?(股份)?有限(责任)?公司$")


def family_of_type(fund_type: str) -> str:
    """The product family a rating is tied to: qdii, gold, bond, money, or equity (stock and mixed)."""
    t = str(fund_type)
    if t.startswith("qdii"):
        return "qdii"
    if t in (FundType.GOLD, FundType.COMMODITY):
        return "gold"
    if t in (FundType.BOND, FundType.BOND_INDEX, FundType.CONVERTIBLE):
        return "bond"
    if t == FundType.MONEY_MARKET:
        return "money"
    return "equity"


def family_of_shelf(name: str, type_text: str) -> str:
    """The family a shelf row describes, from its name and its loose type text (gold ETFs are 股票型 there)."""
    text = f"{name} {type_text}"
    if "QDII" in text.upper():
        return "qdii"
    if "黄金" in text or "商品" in text:
        return "gold"
    if "货币" in text:
        return "money"
    if "债" in text and "混合" not in text and "股票" not in text:
        return "bond"
    return "equity"


def _core(name: str, company: str = "") -> str:
    """A fund name without its company prefix (as far as it matches the company's short name) and without
    generic words: `工银瑞信聚焦30` and `工银聚焦30股票` (company 工银瑞信基金管理有限公司) both → `聚焦30`."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    short = _COMPANY_SUFFIX.sub("", unicodedata.normalize("NFKC", str(company)).strip())
    prefix = 0
    while prefix < min(len(text), len(short)) and text[prefix] == short[prefix]:
        prefix += 1
    if prefix >= 2:
        text = text[prefix:]
    for _ in range(2):  # a class letter may only end the name once a vehicle word is gone (`D类场外`)
        text = _GENERIC.sub("", text)
    return text.strip()


def name_similarity(shelf_name: str, name: str, company: str = "") -> float:
    """Similarity 0–1 (difflib ratio) of two fund names without company prefix and generic words."""
    core_a, core_b = _core(shelf_name, company), _core(name, company)
    if not core_a and not core_b:
        return 1.0
    return SequenceMatcher(None, core_a, core_b).ratio()


def shelf_row_applies(shelf_name: str, shelf_type: str, name: str, fund_type: str,
                      company: str = "") -> tuple[bool, str]:
    """(applies, reason) — whether a shelf row still describes the fund now called `name` of `fund_type`."""
    if any(g in shelf_name for g in _GUARANTEE) and not any(g in name for g in _GUARANTEE):
        return False, f"shelf row '{shelf_name}' is a capital-guaranteed product; the fund is now '{name}'"
    was, now = family_of_shelf(shelf_name, shelf_type), family_of_type(fund_type)
    if was != now:
        return False, f"shelf row '{shelf_name}' ({shelf_type}) describes a product of the {was} family; the fund " \
                      f"'{name}' is now in the {now} family"
    similarity = name_similarity(shelf_name, name, company)
    if similarity < NAME_SIMILARITY_MIN:
        return False, f"shelf row '{shelf_name}' and the fund's name '{name}' differ (similarity {similarity:.2f})"
    return True, ""


def measured_volatility(returns: pd.DataFrame, as_of: object = None, years: int = VOLATILITY_YEARS,
                        min_obs: int = MIN_OBSERVATIONS) -> pd.Series:
    """Annualized volatility of each fund over the `years` to `as_of` (NaN under `min_obs` observations)."""
    if returns.empty:
        return pd.Series(np.nan, index=returns.columns, dtype=float)
    end = returns.index[-1] if as_of is None else min(pd.Timestamp(as_of), returns.index[-1])
    window = returns.loc[(returns.index > end - pd.DateOffset(years=years)) & (returns.index <= end)]
    vol = window.std(ddof=1) * np.sqrt(TRADING_DAYS)
    return vol.where(window.notna().sum() >= min_obs)


def plausible_floor(volatility: float, max_volatility: Mapping[int, float] = MAX_VOLATILITY_OF_LEVEL) -> int:
    """The lowest level whose volatility ceiling `volatility` does not exceed (1 when unknown)."""
    if not np.isfinite(volatility):
        return 1
    for level in range(1, 6):
        ceiling = max_volatility.get(level)
        if ceiling is None or volatility <= ceiling:
            return level
    return 5


def apply_risk_floor(funds: pd.DataFrame, returns: pd.DataFrame, as_of: object = None,
                     max_volatility: Mapping[int, float] = MAX_VOLATILITY_OF_LEVEL,
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raise ratings implausibly low for the measured 3-year volatility; returns (funds, findings)."""
    if funds.empty:
        return funds, issues_frame()
    vol = measured_volatility(returns.reindex(columns=funds.index), as_of)
    level = funds["risk_level"].astype("int64")
    floor = pd.Series([plausible_floor(v, max_volatility) for v in vol], index=funds.index, dtype="int64")
    default = pd.Series([int(DEFAULT_RISK_OF_TYPE.get(FundType(t), 3)) for t in funds["fund_type"]],
                        index=funds.index, dtype="int64")
    too_low = level < floor
    if not too_low.any():
        return funds, issues_frame()
    raised = np.maximum(np.maximum(default, floor), level)
    out = funds.copy()
    out.loc[too_low, "risk_level"] = raised[too_low]
    out.loc[too_low, "risk_source"] = "measured_risk"
    records = [{"code": code, "check": "risk_raised", "severity": "warning", "source": "risk_rating",
                "message": f"rated R{level[code]} ({funds.at[code, 'risk_source']}) but its {VOLATILITY_YEARS}-year "
                           f"volatility is {vol[code]:.1%} (above {max_volatility[int(level[code])]:.0%} for "
                           f"R{level[code]}): raised to R{raised[code]}"}
               for code in funds.index[too_low]]
    return out, issues_frame(records)
