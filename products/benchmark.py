"""Fund benchmarks: parse the published 业绩比较基准 into weights over the universe's style series.

A fund's benchmark text, e.g. ``沪深300指数收益率×80%+中债综合指数收益率×20%`` or
``中证500指数收益率*95%+银行活期存款利率(税后)*5%``, becomes weights over the style series of
`products.universe.BENCHMARK_NAMES` (cn_large_cap, cn_mid_small_cap, cn_bond, gold, us_equity,
us_tech, cash) plus an optional constant annual return (``三年期定期存款利率+1.5%`` → cash + 1.5%/yr).

Parsing rules
-------------
* Text is NFKC-normalized (full-width ＋（）％ become ASCII); ``×``, ``*`` and ``X`` before or after a
  percentage are the multiplication sign; parenthesized remarks (``(税后)``, ``(使用估值汇率折算)``)
  are dropped. Terms are split on ``+``; a fragment without weight, index or rate word is joined to
  the next one (``中证360互联网+大数据100指数``).
* A term's weight is ``N%`` (or a bare ``N`` > 2, read as percent; a bare ``N`` ≤ 2 is a multiplier). A
  term that is only a percentage (``+1.5%``, ``年化收益率6%``) is a constant annual return. Index
  terms without a weight share what the weighted terms leave (a single index gets 100%).
* Index names map to a style by keyword, first match wins: bonds (债, bond) → cn_bond; deposits and
  money rates (存款, 活期, 定期, 货币, 同业, Shibor) → cash; 黄金 / Au99.99 → gold; 纳斯达克 / 纳指 →
  us_tech; 沪深300, 上证50, 中证100, 中证800, A50, MSCI中国/A股, 恒生, 港股, 香港 → cn_large_cap (Hong Kong
  indices have no series of their own: Chinese large caps are their nearest proxy); 中证500, 中证1000,
  中证2000, 创业板, 中小板, 中证700, 上证中盘, 深证成指, 科创 → cn_mid_small_cap; 标普 / S&P, 道琼斯, MSCI,
  罗素, DAX, 美国, 全球 → us_equity. Any other index (sector and theme indices such as 中证医药卫生)
  takes the fund type's primary style (`PRIMARY_STYLE_OF_TYPE`); such a benchmark is "partial".
* Weights above 100% in total are scaled to 100%; below 100% the rest is cash (a pure constant
  such as ``年化收益率6%`` has no index leg at all).
* Text that cannot be read (empty, ``本基金暂不设业绩比较基准``, symbolic weights such as
  ``S×沪深300指数+(100%-S)×中证全债指数``) gets the type default (`DEFAULT_BENCHMARK_OF_TYPE`).

The benchmark's daily return is ``Σ w_k · r_k + rf_const`` with daily-rebalanced weights, where
``r_k`` are the style series' daily returns aligned to `Universe.returns`' dates (overseas styles on
the QDII NAV calendar, see `style_lags`) and ``rf_const`` is the constant compounded to a daily rate
over 252 days.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from products.taxonomy import FundType
from products.universe import BENCHMARK_NAMES, Universe

STYLES: tuple[str, ...] = tuple(BENCHMARK_NAMES)
TRADING_DAYS = 252

# Keyword → style, first match wins (order matters: "标普中国债券" is a bond, "MSCI中国A股" Chinese).
_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"债|bond", "cn_bond"),
    (r"存款|活期|定期|货币|同业|shibor|储蓄", "cash"),
    (r"黄金|au\s*99|au\(t\+d\)", "gold"),
    (r"纳斯达克|纳指|nasdaq", "us_tech"),
    (r"沪深300|上证50|中证100|中证800|a50|a200|a600|中国a股|msci中国|恒生|港股|香港|zhonghua|深证100|上证180",
     "cn_large_cap"),
    (r"中证500|中证1000|中证2000|创业板|中小板|中小企业|中证700|上证中盘|深证成|科创", "cn_mid_small_cap"),
    (r"标普|s&p|道琼斯|msci|罗素|dax|美国|全球|纽约|world", "us_equity"),
)
_KEYWORD_PATTERNS = tuple((re.compile(pattern, re.IGNORECASE), style) for pattern, style in _KEYWORDS)

# Style an unrecognized index name stands for, by fund type.
PRIMARY_STYLE_OF_TYPE: dict[FundType, str] = {
    FundType.MONEY_MARKET: "cash",
    FundType.BOND: "cn_bond",
    FundType.BOND_INDEX: "cn_bond",
    FundType.CONVERTIBLE: "cn_bond",
    FundType.MIXED_BOND: "cn_bond",
    FundType.QDII_EQUITY: "us_equity",
    FundType.QDII_OTHER: "us_equity",
    FundType.GOLD: "gold",
    FundType.COMMODITY: "gold",
}  # every other type: cn_large_cap

# Benchmark of a fund whose text cannot be read: the typical published benchmark of its type.
DEFAULT_BENCHMARK_OF_TYPE: dict[FundType, dict[str, float]] = {
    FundType.MONEY_MARKET: {"cash": 1.0},
    FundType.BOND: {"cn_bond": 1.0},
    FundType.BOND_INDEX: {"cn_bond": 1.0},
    FundType.CONVERTIBLE: {"cn_bond": 0.7, "cn_large_cap": 0.3},
    FundType.MIXED_BOND: {"cn_bond": 0.8, "cn_large_cap": 0.2},
    FundType.MIXED_BALANCED: {"cn_large_cap": 0.5, "cn_bond": 0.5},
    FundType.MIXED_FLEXIBLE: {"cn_large_cap": 0.6, "cn_bond": 0.4},
    FundType.MIXED_EQUITY: {"cn_large_cap": 0.8, "cn_bond": 0.2},
    FundType.EQUITY: {"cn_large_cap": 0.95, "cash": 0.05},
    FundType.INDEX: {"cn_large_cap": 0.95, "cash": 0.05},
    FundType.ENHANCED_INDEX: {"cn_large_cap": 0.95, "cash": 0.05},
    FundType.QDII_EQUITY: {"us_equity": 0.95, "cash": 0.05},
    FundType.QDII_OTHER: {"us_equity": 0.6, "cn_bond": 0.4},
    FundType.GOLD: {"gold": 0.95, "cash": 0.05},
    FundType.COMMODITY: {"gold": 1.0},
    FundType.FOF: {"cn_bond": 0.7, "cn_large_cap": 0.3},
}

NO_BENCHMARK_MARKERS = ("暂不设", "不设业绩比较基准", "无业绩比较基准", "暂无")


@dataclass(frozen=True)
class BenchmarkTerm:
    """One term of a benchmark formula: an index (or rate) name, its weight, and the style it maps to."""

    name: str
    weight: float
    style: str
    matched: bool  # False: the name was not recognized and took the type's primary style


@dataclass(frozen=True)
class BenchmarkSpec:
    """A fund's benchmark as weights over style series plus a constant annual return."""

    weights: dict[str, float]
    constant: float = 0.0
    source: str = "type_default"  # parsed | partial | type_default
    terms: tuple[BenchmarkTerm, ...] = field(default=())
    text: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "source": self.source,
            "weights": {k: round(v, 10) for k, v in self.weights.items()},
            "constant_annual_return": self.constant,
            "terms": [{"name": t.name, "weight": t.weight, "style": t.style, "matched": t.matched}
                      for t in self.terms],
        }


class _UnreadableError(ValueError):
    pass


def style_of_index(name: str, fund_type: FundType | str = FundType.EQUITY) -> tuple[str, bool]:
    """(style, matched) of an index or rate name; unknown names take the fund type's primary style."""
    for pattern, style in _KEYWORD_PATTERNS:
        if pattern.search(name):
            return style, True
    return PRIMARY_STYLE_OF_TYPE.get(FundType(fund_type), "cn_large_cap"), False


def default_benchmark(fund_type: FundType | str, text: str = "") -> BenchmarkSpec:
    weights = DEFAULT_BENCHMARK_OF_TYPE[FundType(fund_type)]
    return BenchmarkSpec(weights=dict(weights), source="type_default", text=text)


def parse_benchmark(text: object, fund_type: FundType | str = FundType.EQUITY) -> BenchmarkSpec:
    """Parse a 业绩比较基准 text into a `BenchmarkSpec` (the type default if it cannot be read)."""
    raw = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text).strip()
    if not raw or any(marker in raw for marker in NO_BENCHMARK_MARKERS):
        return default_benchmark(fund_type, raw)
    try:
        terms, constant = _parse_terms(raw, FundType(fund_type))
    except _UnreadableError:
        return default_benchmark(fund_type, raw)
    weights: dict[str, float] = {}
    for term in terms:
        weights[term.style] = weights.get(term.style, 0.0) + term.weight
    total = sum(weights.values())
    if total > 1.0 + 1e-9:
        weights = {k: v / total for k, v in weights.items()}
    elif terms and total < 1.0 - 1e-9:  # a pure constant (年化收益率6%) has no index leg
        weights["cash"] = weights.get("cash", 0.0) + (1.0 - total)
    weights = {k: round(v, 12) for k, v in weights.items() if abs(v) > 1e-12}
    source = "parsed" if all(t.matched for t in terms) else "partial"
    return BenchmarkSpec(weights=weights, constant=constant, source=source, terms=tuple(terms), text=raw)


_NUMBER = r"(\d+(?:\.\d+)?)"
_PCT = re.compile(_NUMBER + r"\s*%")
_CONSTANT_NAME = re.compile(r"^(年化)?(收益率)?(年化)?$")
_INDEX_WORDS = re.compile(r"指数|利率|收益|价格|价|index|rate", re.IGNORECASE)


def _normalize(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = s.replace("＊", "*").replace("*", "×").replace("·", "")
    s = re.sub(r"[Xx](?=\s*\d+(?:\.\d+)?\s*%)", "×", s)
    s = re.sub(r"(?<=%)\s*[Xx]", "×", s)
    s = re.sub(r"(?<=\d)\s*[Xx](?=\s*[^\W\d_a-zA-Z])", "×", s)
    s = re.sub(r"\([^()]*\)", "", s)
    s = re.sub(r"\[[^\[\]]*\]", "", s)
    return s.replace(" ", "")


def _split_terms(s: str) -> list[str]:
    parts = [p for p in s.split("+")]
    merged: list[str] = []
    carry = ""
    for i, part in enumerate(parts):
        piece = carry + ("+" if carry else "") + part
        bare = not _PCT.search(part) and "×" not in part and not _INDEX_WORDS.search(part)
        if bare and i < len(parts) - 1:
            carry = piece
            continue
        merged.append(piece)
        carry = ""
    return [m for m in merged if m]


def _parse_terms(raw: str, fund_type: FundType) -> tuple[list[BenchmarkTerm], float]:
    s = _normalize(raw)
    constant = 0.0
    pending: list[tuple[str, float | None]] = []
    for term in _split_terms(s):
        name, weight = _weight_of(term)
        if not name or _CONSTANT_NAME.match(name):
            if weight is None:
                raise _UnreadableError(term)
            constant += weight
            continue
        pending.append((name, weight))
    if not pending:
        if constant:
            return [], constant
        raise _UnreadableError(raw)
    given = sum(w for _, w in pending if w is not None)
    missing = [n for n, w in pending if w is None]
    share = 0.0
    if missing:
        rest = 1.0 - given
        if rest <= 1e-9:
            raise _UnreadableError(raw)
        share = rest / len(missing)
    terms = []
    for name, weight in pending:
        style, matched = style_of_index(name, fund_type)
        terms.append(BenchmarkTerm(name=name, weight=share if weight is None else weight, style=style,
                                   matched=matched))
    return terms, constant


def _weight_of(term: str) -> tuple[str, float | None]:
    """(index name, weight as a fraction or None) of one term; raises `_UnreadableError` on symbols."""
    pieces = [p for p in term.split("×")]
    if len(pieces) > 2 or any(p == "" for p in pieces):
        raise _UnreadableError(term)
    if len(pieces) == 2:
        first, second = pieces
        w_first, w_second = _as_weight(first), _as_weight(second)
        if w_first is not None and w_second is None:
            return _strip_pct(second), w_first
        if w_second is not None and w_first is None:
            return _strip_pct(first), w_second
        raise _UnreadableError(term)
    match = re.match(r"^" + _NUMBER + r"%(.*)$", term) or re.match(r"^(.*?)" + _NUMBER + r"%$", term)
    if match is None:
        return term, None
    groups = match.groups()
    if term[0].isdigit():
        return groups[1], float(groups[0]) / 100.0
    return groups[0], float(groups[1]) / 100.0


def _as_weight(piece: str) -> float | None:
    m = re.fullmatch(_NUMBER + r"(%?)", piece)
    if m is None:
        return None
    value = float(m.group(1))
    if m.group(2) == "%" or value > 2:
        return value / 100.0
    return value


def _strip_pct(name: str) -> str:
    if re.fullmatch(r"[A-Za-z]", name):  # a symbolic weight such as S×沪深300
        raise _UnreadableError(name)
    return name


# --------------------------------------------------------------------------------------------------
# Universe level
# --------------------------------------------------------------------------------------------------


def benchmark_specs(universe: Universe) -> dict[str, BenchmarkSpec]:
    """Parsed benchmark of every fund, by code."""
    funds = universe.funds
    texts = funds["benchmark_text"] if "benchmark_text" in funds else pd.Series("", index=funds.index)
    return {code: parse_benchmark(texts.loc[code], funds.at[code, "fund_type"]) for code in funds.index}


def benchmark_weights(universe: Universe) -> pd.DataFrame:
    """Fund × (styles…, constant, source): each fund's benchmark weights (0 where unused)."""
    return _benchmark_weights(universe).copy()


@lru_cache(maxsize=4)
def _benchmark_weights(universe: Universe) -> pd.DataFrame:  # a Universe is immutable and hashed by identity
    specs = benchmark_specs(universe)
    rows = {code: {**{s: spec.weights.get(s, 0.0) for s in STYLES}, "constant": spec.constant,
                   "source": spec.source} for code, spec in specs.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(universe.funds.index)
    frame.index.name = "code"
    return frame


def clear_caches() -> None:
    """Forget cached benchmark weights and series (benchmarks time cold runs with this)."""
    _benchmark_weights.cache_clear()
    _raw_style_returns.cache_clear()
    _style_lags.cache_clear()
    _style_returns.cache_clear()
    _fund_benchmark_returns.cache_clear()


def parse_coverage(universe: Universe) -> pd.Series:
    """How many funds' benchmarks were fully parsed, partly parsed, or took the type default."""
    sources = benchmark_weights(universe)["source"]
    return sources.value_counts().reindex(["parsed", "partial", "type_default"], fill_value=0)


def style_returns(universe: Universe) -> pd.DataFrame:
    """Daily returns of each style series on `universe.returns`' dates (NaN outside its own span).

    Levels are carried forward over dates the style series lacks (a holiday of its market) but never
    past its last value; the return on a date is the level change since the previous date. Overseas
    styles are then moved onto the QDII NAV calendar by `style_lags` (a QDII fund's NAV dated T prices
    the overseas close of T, which a China-listed ETF on that index only shows on the next trading day).
    """
    return _style_returns(universe).copy(deep=False)  # copy-on-write: callers cannot alter the cache


def style_lags(universe: Universe) -> dict[str, int]:
    """Rows by which each overseas style series trails the QDII NAVs that track it (0 or 1).

    Decided on the data, so that a source already on the overseas market's dates (or the demo's factor
    model) keeps lag 0 and China-listed ETFs on overseas indices (513500, 513100) get lag 1: the lag
    whose median daily correlation with the QDII funds benchmarked mainly on that style is higher,
    by at least `LAG_MARGIN`. A style without at least 3 such funds keeps lag 0.
    """
    return dict(_style_lags(universe))


OVERSEAS_STYLES = ("us_equity", "us_tech")
LAG_MARGIN = 0.1


@lru_cache(maxsize=4)
def _style_lags(universe: Universe) -> tuple[tuple[str, int], ...]:
    raw = _raw_style_returns(universe)
    weights = _benchmark_weights(universe)
    qdii = universe.funds["fund_type"].isin([FundType.QDII_EQUITY.value, FundType.QDII_OTHER.value])
    lags = []
    for style in OVERSEAS_STYLES:
        tracking = weights.index[qdii.reindex(weights.index, fill_value=False) & (weights[style] >= 0.5)]
        if len(tracking) < 3 or raw[style].notna().sum() < 60:
            lags.append((style, 0))
            continue
        funds = universe.returns[tracking]
        same_day = funds.corrwith(raw[style]).median()
        next_day = funds.corrwith(raw[style].shift(-1)).median()
        lags.append((style, 1 if next_day > same_day + LAG_MARGIN else 0))
    return tuple(lags)


@lru_cache(maxsize=4)
def _raw_style_returns(universe: Universe) -> pd.DataFrame:
    dates = pd.DatetimeIndex(universe.returns.index)
    levels = universe.benchmarks
    if levels is None or levels.empty:
        return pd.DataFrame(np.nan, index=dates, columns=list(STYLES))
    levels = levels.sort_index()
    levels = levels[~levels.index.duplicated(keep="last")]
    levels = levels.reindex(columns=list(STYLES)).astype(float)
    levels = levels.where(levels > 0)
    union = levels.index.union(dates)
    filled = levels.reindex(union).ffill()
    filled = filled.where(levels.reindex(union).bfill().notna())  # not past each series' last value
    on_dates = filled.reindex(dates)
    return on_dates / on_dates.shift(1) - 1.0


@lru_cache(maxsize=4)
def _style_returns(universe: Universe) -> pd.DataFrame:
    out = _raw_style_returns(universe).copy()
    for style, lag in _style_lags(universe):
        if lag:
            out[style] = out[style].shift(-lag)
    return out


def fund_benchmark_returns(universe: Universe) -> pd.DataFrame:
    """Each fund's benchmark daily returns, aligned to `universe.returns` (same index and columns).

    NaN on a date where any style the benchmark uses has no return (before that series starts).
    Cached per universe (immutable); each call returns its own copy-on-write view.
    """
    return _fund_benchmark_returns(universe).copy(deep=False)


@lru_cache(maxsize=4)
def _fund_benchmark_returns(universe: Universe) -> pd.DataFrame:
    styles = _style_returns(universe)
    weights = _benchmark_weights(universe)
    w = weights[list(STYLES)].to_numpy(dtype=float)  # (funds, styles)
    s = styles[list(STYLES)].to_numpy(dtype=float)  # (dates, styles)
    missing = np.isnan(s).astype(float) @ (w != 0).T > 0
    out = np.nan_to_num(s, nan=0.0) @ w.T
    constant = (1.0 + weights["constant"].to_numpy(dtype=float)) ** (1.0 / TRADING_DAYS) - 1.0
    out = out + constant[None, :]
    out[missing] = np.nan
    return pd.DataFrame(out, index=universe.returns.index, columns=universe.returns.columns)
