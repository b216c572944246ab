"""What a fund's mandate concentrates on: sector and theme funds, market-neutral funds, index trackers.

One classification shared by the leaderboard's peer groups and by fund selection's concentration caps:

* **Focus** (equity funds only): ``sector`` when the fund invests in one industry (银行, 医药, 有色金属 …),
  ``theme`` when it follows a cross-industry theme (新能源, 养老, 国企改革 …), else ``broad``. Three
  signals, first hit wins:

  1. *benchmark* — the main equity index of the published 业绩比较基准 (the largest-weight term that is
     not a bond, deposit or money rate) names a sector or theme (`FOCUS_KEYWORDS`);
  2. *name* — the fund's short name names one (``东海医疗健康混合``, ``北辰新能源主题混合``);
  3. *holdings* — one SW level-1 industry carries at least `MandateRule.holdings_share` of the A-share
     stocks the fund discloses, when the disclosed stocks are at least `MandateRule.min_disclosed` of
     its NAV (an active fund that says "broad" but holds one industry).

  Strategy and style indices (红利, 低波动, 大数据, 价值, 成长, ESG …) and board indices (创业板, 科创50)
  are broad: they spread over industries.
* **Market-neutral** (mixed or equity funds): the name says 对冲 / 市场中性 / 套利 / 绝对收益 — hedged
  books whose risk and return look nothing like the mixed funds they are filed with.
* **Passive**: index, bond-index, gold and commodity funds, and QDII funds named 指数 / ETF / 联接.

Everything here reads the universe only (and, for the holdings signal, the look-through as of a date),
is computed for all funds at once and cached per universe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from products.benchmark import benchmark_specs
from products.research._common import cached, to_timestamp
from products.universe import Universe

EQUITY_CLASSES = ("cn_equity", "global_equity")
PASSIVE_TYPES = ("index", "bond_index", "gold", "commodity")
QDII_TYPES = ("qdii_equity", "qdii_other")
NEUTRAL_TYPES = ("mixed_flexible", "mixed_balanced", "mixed_equity", "equity")
NON_EQUITY_STYLES = ("cash", "cn_bond")

# keyword → (label, kind); the first match in this order wins (so 非银金融 before 金融, 新能源 before 能源)
FOCUS_KEYWORDS: tuple[tuple[str, str, str], ...] = (
    # sectors (one industry)
    (r"证券|券商|非银|保险", "非银金融", "sector"),
    (r"(?<![农工交建中浦加])银行(?!业)", "银行", "sector"),
    (r"金融地产|金融", "金融地产", "sector"),
    (r"房地产|地产|REIT|房地产信托", "房地产", "sector"),
    (r"医药|医疗|生物|卫生|健康|制药|创新药", "医药生物", "sector"),
    (r"食品|饮料|白酒|酒", "食品饮料", "sector"),
    (r"消费", "消费", "sector"),
    (r"家电", "家用电器", "sector"),
    (r"半导体|芯片|集成电路", "半导体", "sector"),
    (r"电子", "电子", "sector"),
    (r"计算机|软件|信息技术|信息", "计算机", "sector"),
    (r"传媒|文体|文化|娱乐|游戏", "传媒", "sector"),
    (r"通信|5G", "通信", "sector"),
    (r"汽车|新能源车|电动车", "汽车", "sector"),
    (r"有色|稀土|金属", "有色金属", "sector"),
    (r"钢铁", "钢铁", "sector"),
    (r"化工|材料", "基础化工", "sector"),
    (r"石油|油气|天然气", "石油石化", "sector"),
    (r"煤炭", "煤炭", "sector"),
    (r"(?<!新)能源", "能源", "sector"),
    (r"军工|国防", "国防军工", "sector"),
    (r"农业|养殖|畜牧|农林", "农林牧渔", "sector"),
    (r"基建|建筑|建材", "建筑", "sector"),
    (r"交通|运输|物流|航空", "交通运输", "sector"),
    (r"电力|公用事业", "公用事业", "sector"),
    # themes (across industries)
    (r"新能源|光伏|电池|碳中和|低碳", "新能源", "theme"),
    (r"TMT|科技|互联网|人工智能|机器人|大数据产业|云计算|数字经济", "科技", "theme"),
    (r"制造|装备|工业|机械", "先进制造", "theme"),
    (r"环保|环境", "环保", "theme"),
    (r"养老", "养老", "theme"),
    (r"国企|央企|一带一路|改革", "国企改革", "theme"),
    (r"小康|安全|主题", "主题", "theme"),
)
_FOCUS_PATTERNS = tuple((re.compile(p, re.IGNORECASE), label, kind) for p, label, kind in FOCUS_KEYWORDS)
# words inside index names that look like a focus but describe a broad strategy (checked first)
BROAD_EXCEPTIONS = re.compile(r"行业中性|行业龙头|淘金大数据|大数据\d+|百发|可持续发展|ESG", re.IGNORECASE)
NEUTRAL_NAME = re.compile(r"对冲|市场中性|量化中性|套利|绝对收益")
PASSIVE_QDII_NAME = re.compile(r"指数|ETF|联接", re.IGNORECASE)
MANDATE_COLUMNS = ["focus", "focus_label", "focus_source", "market_neutral", "passive", "main_index",
                   "top_industry", "top_industry_share"]


@dataclass(frozen=True)
class MandateRule:
    """Thresholds of the holdings signal (configurable)."""

    holdings_share: float = 0.6  # one SW L1 industry's share of the disclosed A-share stocks
    min_disclosed: float = 0.2  # disclosed stocks must be at least this share of NAV to judge

    def key(self) -> tuple:
        return (self.holdings_share, self.min_disclosed)


DEFAULT_MANDATE_RULE = MandateRule()


def focus_of_text(text: str) -> tuple[str, str] | None:
    """(label, kind) when an index or fund name names a sector or theme, else None."""
    if not text or BROAD_EXCEPTIONS.search(text):
        return None
    for pattern, label, kind in _FOCUS_PATTERNS:
        if pattern.search(text):
            return label, kind
    return None


def text_mandates(universe: Universe) -> pd.DataFrame:
    """Mandates from the texts alone (benchmark and name; no holdings): cheap, and what the leaderboard
    needs for its peer groups. Columns as `fund_mandates`, holdings columns empty."""
    return cached("mandates_text", universe, None, lambda: _text_mandates(universe)).copy()


def fund_mandates(universe: Universe, as_of: date | str | pd.Timestamp | None = None,
                  rule: MandateRule = DEFAULT_MANDATE_RULE) -> pd.DataFrame:
    """Mandate of every fund (index = code, order of `universe.funds`): `focus` (broad / sector / theme,
    "" for funds that are not equity), `focus_label` (中文 label), `focus_source` (benchmark / name /
    holdings), `market_neutral`, `passive`, `main_index` (the benchmark's main equity index),
    `top_industry` and `top_industry_share` (of the disclosed A-share stocks, latest quarter at `as_of`)."""
    ts = to_timestamp(as_of)
    key = (None if ts is None else ts.isoformat(), rule.key())
    return cached("mandates", universe, key, lambda: _with_holdings(universe, ts, rule)).copy()


def _main_index(spec) -> str:
    """The largest-weight term that is not a bond, deposit or money rate (ties: first written)."""
    best, weight = "", 0.0
    for term in spec.terms:
        if term.style in NON_EQUITY_STYLES:
            continue
        if term.weight > weight + 1e-12:
            best, weight = term.name, term.weight
    return best


def _text_mandates(universe: Universe) -> pd.DataFrame:
    funds = universe.funds
    specs = benchmark_specs(universe)
    names = funds["name"].fillna("").astype(str)
    types = funds["fund_type"].astype(str)
    classes = funds["asset_class"].astype(str)
    rows = []
    for code in funds.index:
        name, ftype = names.at[code], types.at[code]
        equity = classes.at[code] in EQUITY_CLASSES
        main = _main_index(specs[code]) if equity else ""
        neutral = ftype in NEUTRAL_TYPES and bool(NEUTRAL_NAME.search(name))
        passive = ftype in PASSIVE_TYPES or (ftype in QDII_TYPES and bool(PASSIVE_QDII_NAME.search(name)))
        focus, label, source = ("broad" if equity else ""), "", ""
        if equity and not neutral:
            for text, where in ((main, "benchmark"), (name, "name")):
                found = focus_of_text(text)
                if found is not None:
                    (label, focus), source = found, where
                    break
        rows.append((focus, label, source, neutral, passive, main, "", np.nan))
    frame = pd.DataFrame(rows, columns=MANDATE_COLUMNS, index=funds.index)
    frame.index.name = "code"
    return frame


def _with_holdings(universe: Universe, as_of: pd.Timestamp | None, rule: MandateRule) -> pd.DataFrame:
    from products.research.lookthrough import SPECIAL_BUCKETS, look_through

    frame = text_mandates(universe)
    equity = frame.index[frame["focus"] != ""].tolist()
    if not equity or universe.holdings is None or len(universe.holdings) == 0:
        return frame
    result = look_through(universe, equity, None, as_of)
    industries = result.industries
    named = [c for c in industries.columns if c not in SPECIAL_BUCKETS]
    if not named:
        return frame
    block = industries[named]
    disclosed = block.sum(axis=1)
    top = block.idxmax(axis=1).where(disclosed > 0, "")
    share = (block.max(axis=1) / disclosed.where(disclosed > 0)).astype(float)
    frame.loc[block.index, "top_industry"] = top.astype(str)
    frame.loc[block.index, "top_industry_share"] = share
    judged = (disclosed >= rule.min_disclosed) & (share >= rule.holdings_share)
    hits = judged[judged].index
    hits = [c for c in hits if frame.at[c, "focus"] == "broad" and not frame.at[c, "market_neutral"]]
    frame.loc[hits, "focus"] = "sector"
    frame.loc[hits, "focus_label"] = top.reindex(hits).astype(str).to_numpy()
    frame.loc[hits, "focus_source"] = "holdings"
    return frame


def focused_mask(mandates: pd.DataFrame) -> np.ndarray:
    """Bool per row: a sector or theme fund."""
    return mandates["focus"].isin(["sector", "theme"]).to_numpy(dtype=bool)
