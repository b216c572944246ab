"""Fund benchmarks: parse the published 业绩比较基准 into weights over the universe's benchmark series.

A fund's benchmark text, e.g. ``沪深300指数收益率×80%+中债综合指数收益率×20%`` or
``中证500指数收益率*95%+银行活期存款利率(税后)*5%``, becomes weights over the series of
`products.universe.BENCHMARK_NAMES` (沪深300, 中证500, 10年国债, gold, S&P 500, Nasdaq-100, money-market
yield, Hang Seng, DAX, Nikkei 225, 上证50, 上证综指, 深证成指, 中小板指, PBoC deposit rates) plus an optional
constant annual return (``三年期定期存款利率+1.5%`` → 3-year deposit + 1.5 %/yr).

Parsing rules
-------------
* Text is NFKC-normalized (full-width ＋（）％ become ASCII); ``×``, ``*`` and ``X`` before or after a
  percentage are the multiplication sign; parenthesized remarks (``(税后)``, ``(使用估值汇率折算)``)
  are dropped. Terms are split on ``+``; a fragment without weight, index or rate word is joined to
  the next one (``中证360互联网+大数据100指数``).
* A term's weight is ``N%`` (or a bare ``N`` > 2, read as percent; a bare ``N`` ≤ 2 is a multiplier). A
  term that is only a percentage (``+1.5%``, ``年化收益率6%``) is a constant annual return. Index
  terms without a weight share what the weighted terms leave (a single index gets 100%).
* Each index name is matched by `INDEX_RULES` (first match wins) to the series that stand for it. A
  match is **exact** when the data has that very index (or an ETF tracking it, a deposit rate for a
  deposit leg); otherwise it is an **approximation** and the term says what replaced what
  (``中证医药卫生指数 ≈ 沪深300 (510300)``, ``中证转债 ≈ 50% 10年国债 + 50% 沪深300``). Index names no rule
  knows (sector and theme indices) take the broad market of the fund's region — an approximation too.
* Weights above 100% in total are scaled to 100%; below 100% the rest is cash (a pure constant
  such as ``年化收益率6%`` has no index leg at all).
* Text that cannot be read (empty, ``本基金暂不设业绩比较基准``, symbolic weights such as
  ``S×沪深300指数+(100%-S)×中证全债指数``) gets the type default (`DEFAULT_BENCHMARK_OF_TYPE`).

`source` of a spec: ``parsed`` (every term has its own series), ``approximated`` (some term stands in
for another index, or a series the universe lacks or lacks on part of the dates was substituted: see
`BenchmarkSpec.approximations`), ``type_default``.

Per universe (`benchmark_specs`), a series the data lacks is replaced by its substitute
(`SUBSTITUTE_OF`) and a series that ends early (the ``cn_index`` files end 2021-05) is spliced onto its
substitute after its last date; both are recorded as approximations.

The benchmark's daily return is ``Σ w_k · r_k + rf_const`` with daily-rebalanced weights, where
``r_k`` are the series' daily returns aligned to `Universe.returns`' dates (overseas series on the QDII
NAV calendar, see `style_lags`), foreign series converted to the fund's currency (a yuan fund's S&P
500 leg is the S&P 500 in yuan: USD/CNY; Hong Kong dollars through the USD peg; euro and yen legs stay in
local currency, said in the note) and ``rf_const`` the constant compounded to a daily rate over 252 days.
A fund observed after a gap compares with the benchmark compounded over the same dates
(`products.analytics.pair_benchmark`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from products.taxonomy import FundType, currency_of_fund
from products.universe import BENCHMARK_NAMES, Universe

FX_SERIES = "usd_cny"
STYLES: tuple[str, ...] = tuple(n for n in BENCHMARK_NAMES if n != FX_SERIES)  # every series a leg may use
TRADING_DAYS = 252

SERIES_ZH: dict[str, str] = {name: text.split(" (")[0] for name, text in BENCHMARK_NAMES.items()}
SERIES_ZH.update({"cn_large_cap": "沪深300", "cn_mid_small_cap": "中证500", "cn_bond": "10年国债",
                  "gold": "黄金(Au99.99)", "us_equity": "标普500", "us_tech": "纳斯达克100", "cash": "货币基金收益率"})
# What stands in for a series the universe lacks (or lacks after its last date).
SUBSTITUTE_OF: dict[str, str] = {
    "hk_equity": "cn_large_cap", "de_equity": "us_equity", "jp_equity": "us_equity", "us_tech": "us_equity",
    "cn_sse50": "cn_large_cap", "cn_composite": "cn_large_cap", "cn_szse": "cn_mid_small_cap",
    "cn_sme": "cn_mid_small_cap", "cn_mid_small_cap": "cn_large_cap", "deposit_demand": "cash",
    "deposit_1y": "cash", "deposit_3y": "cash",
}
# Currency of the foreign series and the FX series that converts it to yuan (None: no series in the data).
SERIES_CURRENCY: dict[str, str] = {"us_equity": "USD", "us_tech": "USD", "hk_equity": "HKD", "de_equity": "EUR",
                                   "jp_equity": "JPY"}
CNY_PER: dict[str, str | None] = {"USD": FX_SERIES, "HKD": FX_SERIES, "EUR": None, "JPY": None}


@dataclass(frozen=True)
class IndexRule:
    """Index names matching `pattern` stand for `series` (weights); exact only when `exact` also matches."""

    pattern: str
    series: dict[str, float]
    exact: str | None = None
    why: str = ""  # why this stand-in, when it is an approximation (English)


_BOND_10Y = r"10年期?国债|十年期?国债"
INDEX_RULES: tuple[IndexRule, ...] = (
    IndexRule(r"转债|可转换", {"cn_bond": 0.5, "cn_large_cap": 0.5}, None,
              "no convertible-bond index series; the blend had the lowest tracking error to the convertible funds"),
    IndexRule(r"债|bond", {"cn_bond": 1.0}, _BOND_10Y, "no series for this bond index"),
    IndexRule(r"通知存款|同业|shibor|货币", {"cash": 1.0}, r"货币市场基金", "money-market yield path"),
    IndexRule(r"活期", {"deposit_demand": 1.0}, r"活期"),
    IndexRule(r"(一|1)年.*(定期|存款|储蓄)|(定期|存款|储蓄).*(一|1)年", {"deposit_1y": 1.0}, r"."),
    IndexRule(r"(三|3)年.*(定期|存款|储蓄)|(定期|存款|储蓄).*(三|3)年", {"deposit_3y": 1.0}, r"."),
    IndexRule(r"定期|存款|储蓄", {"deposit_1y": 1.0}, None, "deposit of another tenor"),
    IndexRule(r"黄金|au\s*99|au\(t\+d\)", {"gold": 1.0}, r"."),
    IndexRule(r"纳斯达克100|纳指100|nasdaq-?100", {"us_tech": 1.0}, r"^(纳斯达克|纳指|nasdaq-?)100$"),
    IndexRule(r"纳斯达克|纳指|nasdaq", {"us_tech": 1.0}, None, "another Nasdaq index"),
    IndexRule(r"标普500|s&p500", {"us_equity": 1.0}, r"^(标普|s&p)500$", "a sector or strategy index of the S&P 500"),
    IndexRule(r"dax|德国", {"de_equity": 1.0}, r"^(德国)?dax$"),
    IndexRule(r"日经|nikkei|日本", {"jp_equity": 1.0}, r"^日经225$"),
    IndexRule(r"a股|a50|a200|a600|恒生a股", {"cn_large_cap": 1.0}, None, "another A-share large-cap index"),
    IndexRule(r"恒生|港股|香港|hangseng|msci中国|zhonghua", {"hk_equity": 1.0}, r"^恒生$",
              "another Hong Kong index"),
    IndexRule(r"上证50", {"cn_sse50": 1.0}, r"^上证50$", "a variant of the SSE 50"),
    IndexRule(r"上证综合|上证综指|上证指数", {"cn_composite": 1.0}, r"."),
    IndexRule(r"深证成", {"cn_szse": 1.0}, r"^深证成份?$"),
    IndexRule(r"中小板|中小企业", {"cn_sme": 1.0}, r"^中小板$", "another small-and-medium-board index"),
    IndexRule(r"沪深300", {"cn_large_cap": 1.0}, r"^沪深300$", "a sector or strategy index of the CSI 300"),
    IndexRule(r"中证800", {"cn_large_cap": 0.8, "cn_mid_small_cap": 0.2}, None,
              "the CSI 800 is the CSI 300 and CSI 500 by market value (about 80/20)"),
    IndexRule(r"中证500", {"cn_mid_small_cap": 1.0}, r"^中证500$", "a sector or strategy index of the CSI 500"),
    IndexRule(r"中证100|上证180|深证100|红利", {"cn_large_cap": 1.0}, None, "another large-cap index"),
    IndexRule(r"中证1000|中证2000|创业板|科创|中证700|上证中盘", {"cn_mid_small_cap": 1.0}, None,
              "another mid/small-cap index"),
    IndexRule(r"标普|s&p|道琼斯|罗素|美国|全球|纽约|world|acwi|msci", {"us_equity": 1.0}, None,
              "another US or global index"),
)
INDEX_RULES_COMPILED = tuple((re.compile(r.pattern, re.IGNORECASE),
                              re.compile(r.exact, re.IGNORECASE) if r.exact else None, r) for r in INDEX_RULES)
# An index no rule knows stands for the broad market of the fund's region (sector / theme indices).
PRIMARY_STYLE_OF_TYPE: dict[FundType, str] = {
    FundType.MONEY_MARKET: "cash",
    FundType.QDII_EQUITY: "us_equity",
    FundType.QDII_OTHER: "us_equity",
    FundType.GOLD: "gold",
    FundType.COMMODITY: "gold",
}  # every other type: cn_large_cap (an index that is neither a bond nor a rate is an equity index)
_DECORATION = re.compile(r"人民币计价的?|经人民币汇率调整的?|经估值汇率调整的?|以人民币计|使用估值汇率折算|估值汇率|"
                         r"收益率|收率|全收益|总收益|净总收益|价格|指数|实盘合约|合约|现货|税后|基准|利率|"
                         r"中国人民银行公布的?|金融机构|人民币|同期|银行|商业|境内", re.IGNORECASE)

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
    FundType.EQUITY: {"cn_large_cap": 0.95, "deposit_demand": 0.05},
    FundType.INDEX: {"cn_large_cap": 0.95, "deposit_demand": 0.05},
    FundType.ENHANCED_INDEX: {"cn_large_cap": 0.95, "deposit_demand": 0.05},
    FundType.QDII_EQUITY: {"us_equity": 0.95, "deposit_demand": 0.05},
    FundType.QDII_OTHER: {"us_equity": 0.6, "cn_bond": 0.4},
    FundType.GOLD: {"gold": 0.95, "deposit_demand": 0.05},
    FundType.COMMODITY: {"gold": 1.0},
    FundType.FOF: {"cn_bond": 0.7, "cn_large_cap": 0.3},
}

NO_BENCHMARK_MARKERS = ("暂不设", "不设业绩比较基准", "无业绩比较基准", "暂无")


def _blend_zh(series: dict[str, float]) -> str:
    if len(series) == 1:
        return SERIES_ZH.get(next(iter(series)), next(iter(series)))
    return " + ".join(f"{w:.0%} {SERIES_ZH.get(k, k)}" for k, w in series.items())


@dataclass(frozen=True)
class IndexMatch:
    """What an index name stands for: `series` weights, whether that is `exact`, and the note if not."""

    series: dict[str, float]
    exact: bool
    matched: bool  # False: no rule knew the name (the fund region's broad market stands in)
    note_en: str = ""
    note_zh: str = ""

    @property
    def primary(self) -> str:
        return max(self.series, key=lambda k: self.series[k])


def match_index(name: str, fund_type: FundType | str = FundType.EQUITY) -> IndexMatch:
    """The series an index (or rate) name stands for, and whether exactly (see `INDEX_RULES`)."""
    bare = _DECORATION.sub("", unicodedata.normalize("NFKC", name)).replace(" ", "")
    for pattern, exact, rule in INDEX_RULES_COMPILED:
        if pattern.search(name):
            if exact is not None and exact.search(bare):
                return IndexMatch(dict(rule.series), True, True)
            return IndexMatch(dict(rule.series), False, True,
                              f"{name} ≈ {_blend_zh(rule.series)}: {rule.why or 'no series for this index'}",
                              f"{name}：数据中无此指数，以{_blend_zh(rule.series)}近似")
    style = PRIMARY_STYLE_OF_TYPE.get(FundType(fund_type), "cn_large_cap")
    return IndexMatch({style: 1.0}, False, False,
                      f"{name} ≈ {_blend_zh({style: 1.0})}: no series for this index, the broad market stands in",
                      f"{name}：数据中无此指数，以{_blend_zh({style: 1.0})}近似")


def style_of_index(name: str, fund_type: FundType | str = FundType.EQUITY) -> tuple[str, bool]:
    """(main series, matched by a rule) of an index or rate name."""
    match = match_index(name, fund_type)
    return match.primary, match.matched


@dataclass(frozen=True)
class BenchmarkTerm:
    """One term of a benchmark formula: an index (or rate) name, its weight, the series standing for it."""

    name: str
    weight: float
    style: str  # the main series
    matched: bool  # False: the name was not recognized and took the fund region's broad market
    series: dict[str, float] = field(default_factory=dict)  # the series (weights within the term)
    exact: bool = True
    note_en: str = ""
    note_zh: str = ""


@dataclass(frozen=True)
class BenchmarkSpec:
    """A fund's benchmark as weights over benchmark series plus a constant annual return."""

    weights: dict[str, float]
    constant: float = 0.0
    source: str = "type_default"  # parsed | approximated | type_default
    terms: tuple[BenchmarkTerm, ...] = field(default=())
    text: str = ""
    approximations: tuple[dict[str, str], ...] = ()  # {"index", "en", "zh"}: what replaced what, and why

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "source": self.source,
            "weights": {k: round(v, 10) for k, v in self.weights.items()},
            "constant_annual_return": self.constant,
            "terms": [{"name": t.name, "weight": t.weight, "style": t.style, "matched": t.matched,
                       "series": t.series, "exact": t.exact} for t in self.terms],
            "approximations": list(self.approximations),
        }


class _UnreadableError(ValueError):
    pass


def default_benchmark(fund_type: FundType | str, text: str = "") -> BenchmarkSpec:
    weights = DEFAULT_BENCHMARK_OF_TYPE[FundType(fund_type)]
    reason = "no readable benchmark text" if not text else "benchmark text not readable"
    note = {"index": text or "业绩比较基准", "en": f"{reason}: the typical benchmark of the fund type is used",
            "zh": "业绩比较基准缺失或无法解析，采用同类基金的典型基准"}
    return BenchmarkSpec(weights=dict(weights), source="type_default", text=text, approximations=(note,))


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
        for series, share in term.series.items():
            weights[series] = weights.get(series, 0.0) + term.weight * share
    total = sum(weights.values())
    if total > 1.0 + 1e-9:
        weights = {k: v / total for k, v in weights.items()}
    elif terms and total < 1.0 - 1e-9:  # a pure constant (年化收益率6%) has no index leg
        weights["cash"] = weights.get("cash", 0.0) + (1.0 - total)
    weights = {k: round(v, 12) for k, v in weights.items() if abs(v) > 1e-12}
    notes = tuple({"index": t.name, "en": t.note_en, "zh": t.note_zh} for t in terms if not t.exact)
    source = "approximated" if notes else "parsed"
    return BenchmarkSpec(weights=weights, constant=constant, source=source, terms=tuple(terms), text=raw,
                         approximations=notes)


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
        match = match_index(name, fund_type)
        terms.append(BenchmarkTerm(name=name, weight=share if weight is None else weight, style=match.primary,
                                   matched=match.matched, series=match.series, exact=match.exact,
                                   note_en=match.note_en, note_zh=match.note_zh))
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


def series_coverage(universe: Universe) -> pd.DataFrame:
    """Per series: first and last date with data (NaT if none), and whether it is spliced after its end
    onto its substitute (it ends before the fund data does)."""
    return _series_coverage(universe).copy()


@lru_cache(maxsize=4)
def _series_coverage(universe: Universe) -> pd.DataFrame:
    levels = universe.benchmarks if universe.benchmarks is not None else pd.DataFrame()
    end_of_data = universe.returns.index[-1] if len(universe.returns) else pd.NaT
    spans = {}
    for name in (*STYLES, FX_SERIES):
        col = levels[name].dropna() if name in levels else pd.Series(dtype=float)
        col = col[col > 0]
        spans[name] = (col.index[0], col.index[-1]) if len(col) else (pd.NaT, pd.NaT)
    rows = {}
    for name, (first, last) in spans.items():
        substitute = SUBSTITUTE_OF.get(name, "")
        sub_end = spans.get(substitute, (pd.NaT, pd.NaT))[1]
        margin = pd.Timedelta(days=SPLICE_AFTER_DAYS)
        spliced = bool(pd.notna(last) and substitute and pd.notna(end_of_data) and last < end_of_data - margin
                       and pd.notna(sub_end) and sub_end > last + margin)
        rows[name] = {"start": first, "end": last, "available": pd.notna(last), "substitute": substitute,
                      "spliced_after": last if spliced else pd.NaT}
    return pd.DataFrame.from_dict(rows, orient="index")


SPLICE_AFTER_DAYS = 10  # a series that stops this many days before the fund data is extended by its substitute


def _fx_available(coverage: pd.DataFrame) -> bool:
    return FX_SERIES in coverage.index and bool(coverage.at[FX_SERIES, "available"])


def _resolve(series: str, coverage: pd.DataFrame) -> str:
    """The series that carries `series` in this universe: itself, or its first available substitute."""
    current, seen = series, set()
    while current in coverage.index and not bool(coverage.at[current, "available"]) and current not in seen:
        seen.add(current)
        if current not in SUBSTITUTE_OF:
            break
        current = SUBSTITUTE_OF[current]
    return current


def resolve_spec(spec: BenchmarkSpec, coverage: pd.DataFrame, currency: str = "CNY") -> BenchmarkSpec:
    """`spec` on the series this universe has: absent series replaced by their substitute, early-ending ones
    spliced; currency notes for foreign legs the data cannot convert. Every change is an approximation."""
    weights: dict[str, float] = {}
    notes = list(spec.approximations)
    for name, weight in spec.weights.items():
        actual = _resolve(name, coverage) if name in coverage.index else name
        if actual != name:
            notes.append({"index": BENCHMARK_NAMES.get(name, name),
                          "en": f"{BENCHMARK_NAMES.get(name, name)} is not in the data: replaced by "
                                f"{BENCHMARK_NAMES.get(actual, actual)}",
                          "zh": f"数据中无{SERIES_ZH.get(name, name)}序列，以{SERIES_ZH.get(actual, actual)}代替"})
        weights[actual] = weights.get(actual, 0.0) + weight
        if actual in coverage.index and pd.notna(coverage.at[actual, "spliced_after"]):
            end = pd.Timestamp(coverage.at[actual, "spliced_after"]).date().isoformat()
            sub = coverage.at[actual, "substitute"]
            notes.append({"index": BENCHMARK_NAMES.get(actual, actual),
                          "en": f"{BENCHMARK_NAMES.get(actual, actual)} until {end}, then "
                                f"{BENCHMARK_NAMES.get(sub, sub)} (the data's series ends there)",
                          "zh": f"{SERIES_ZH.get(actual, actual)}数据截至{end}，其后以{SERIES_ZH.get(sub, sub)}接续"})
        foreign = SERIES_CURRENCY.get(actual)
        fx_missing = foreign is not None and CNY_PER.get(foreign) is not None and not _fx_available(coverage)
        if currency == "CNY" and foreign is not None and (CNY_PER.get(foreign) is None or fx_missing):
            notes.append({"index": BENCHMARK_NAMES.get(actual, actual),
                          "en": f"{BENCHMARK_NAMES.get(actual, actual)} in {foreign}: no {foreign}/CNY series, "
                                "the currency effect is not included",
                          "zh": f"{SERIES_ZH.get(actual, actual)}按当地货币计，数据无{foreign}/CNY汇率，未计汇率影响"})
    source = spec.source
    if source == "parsed" and len(notes) > len(spec.approximations):
        source = "approximated"
    return BenchmarkSpec(weights=weights, constant=spec.constant, source=source, terms=spec.terms, text=spec.text,
                         approximations=tuple(notes))


def benchmark_specs(universe: Universe) -> dict[str, BenchmarkSpec]:
    """Parsed benchmark of every fund on this universe's series, by code."""
    return dict(_benchmark_specs(universe))


@lru_cache(maxsize=4)
def _benchmark_specs(universe: Universe) -> tuple[tuple[str, BenchmarkSpec], ...]:
    funds = universe.funds
    texts = funds["benchmark_text"] if "benchmark_text" in funds else pd.Series("", index=funds.index)
    coverage = _series_coverage(universe)
    currency = currency_of_fund(funds)
    return tuple((code, resolve_spec(parse_benchmark(texts.loc[code], funds.at[code, "fund_type"]), coverage,
                                     currency.loc[code])) for code in funds.index)


def benchmark_spec(universe: Universe, code: str) -> BenchmarkSpec:
    """One fund's benchmark on this universe's series."""
    return dict(_benchmark_specs(universe))[code]


def benchmark_weights(universe: Universe) -> pd.DataFrame:
    """Fund × (series…, constant, source): each fund's benchmark weights (0 where unused)."""
    return _benchmark_weights(universe).copy()


@lru_cache(maxsize=4)
def _benchmark_weights(universe: Universe) -> pd.DataFrame:  # a Universe is immutable and hashed by identity
    specs = dict(_benchmark_specs(universe))
    rows = {code: {**{s: spec.weights.get(s, 0.0) for s in STYLES}, "constant": spec.constant,
                   "source": spec.source} for code, spec in specs.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(universe.funds.index)
    frame.index.name = "code"
    return frame


def clear_caches() -> None:
    """Forget cached benchmark weights and series (benchmarks time cold runs with this)."""
    for cache in (_series_coverage, _benchmark_specs, _benchmark_weights, _raw_style_returns, _style_lags,
                  _style_returns, _fund_benchmark_returns):
        cache.cache_clear()


def parse_coverage(universe: Universe) -> pd.Series:
    """How many funds' benchmarks were parsed exactly, approximated, or took the type default."""
    sources = benchmark_weights(universe)["source"]
    return sources.value_counts().reindex(["parsed", "approximated", "type_default"], fill_value=0)


def style_returns(universe: Universe) -> pd.DataFrame:
    """Daily returns of each series on `universe.returns`' dates (NaN outside its own span).

    Levels are carried forward over dates the series lacks (a holiday of its market) but never past its
    last value, except that a series ending before the fund data is spliced onto its substitute's returns
    (`series_coverage`); the return on a date is the level change since the previous date. Overseas
    series are then moved onto the QDII NAV calendar by `style_lags`. In the series' own currency.
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


def _level_returns(levels: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    levels = levels.sort_index()
    levels = levels[~levels.index.duplicated(keep="last")].astype(float)
    levels = levels.where(levels > 0)
    union = levels.index.union(dates)
    filled = levels.reindex(union).ffill()
    filled = filled.where(levels.reindex(union).bfill().notna())  # not past each series' last value
    on_dates = filled.reindex(dates)
    return on_dates / on_dates.shift(1) - 1.0


@lru_cache(maxsize=4)
def _raw_style_returns(universe: Universe) -> pd.DataFrame:
    dates = pd.DatetimeIndex(universe.returns.index)
    levels = universe.benchmarks
    columns = [*STYLES, FX_SERIES]
    if levels is None or levels.empty:
        return pd.DataFrame(np.nan, index=dates, columns=columns)
    out = _level_returns(levels.reindex(columns=columns), dates)
    coverage = _series_coverage(universe)
    for name in STYLES:  # splice early-ending series onto their substitute (substitutes first: fixed order)
        end = coverage.at[name, "spliced_after"]
        if pd.notna(end):
            after = out.index > end
            out.loc[after, name] = out.loc[after, coverage.at[name, "substitute"]]
    return out


@lru_cache(maxsize=4)
def _style_returns(universe: Universe) -> pd.DataFrame:
    out = _raw_style_returns(universe).copy()
    for style, lag in _style_lags(universe):
        if lag:
            out[style] = out[style].shift(-lag)
    return out


def fund_benchmark_returns(universe: Universe) -> pd.DataFrame:
    """Each fund's benchmark daily returns, aligned to `universe.returns` (same index and columns), in the
    fund's currency.

    NaN on a date where any series the benchmark uses has no return (before that series starts).
    Cached per universe (immutable); each call returns its own copy-on-write view.
    """
    return _fund_benchmark_returns(universe).copy(deep=False)


@lru_cache(maxsize=4)
def _fund_benchmark_returns(universe: Universe) -> pd.DataFrame:
    styles = _style_returns(universe)
    weights = _benchmark_weights(universe)
    w = weights[list(STYLES)].to_numpy(dtype=float)  # (funds, series)
    local = styles[list(STYLES)].to_numpy(dtype=float)  # (dates, series)
    in_cny = local.copy()
    if _fx_available(_series_coverage(universe)):
        fx = styles[FX_SERIES].to_numpy(dtype=float)
        for j, name in enumerate(STYLES):  # a yuan investor's return on a foreign leg includes the currency move
            if CNY_PER.get(SERIES_CURRENCY.get(name, "")) == FX_SERIES:
                in_cny[:, j] = (1.0 + local[:, j]) * (1.0 + fx) - 1.0
    yuan = (currency_of_fund(universe.funds) == "CNY").to_numpy()
    out = np.empty((len(styles), w.shape[0]))
    for mask, values in ((yuan, in_cny), (~yuan, local)):
        if mask.any():
            sub = w[mask]
            missing = np.isnan(values).astype(float) @ (sub != 0).T > 0
            part = np.nan_to_num(values, nan=0.0) @ sub.T
            part[missing] = np.nan
            out[:, mask] = part
    constant = (1.0 + weights["constant"].to_numpy(dtype=float)) ** (1.0 / TRADING_DAYS) - 1.0
    out = out + constant[None, :]
    return pd.DataFrame(out, index=universe.returns.index, columns=universe.returns.columns)
