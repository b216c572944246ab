"""One-click allocation proposals (一键配置): level + amount + horizon (+ goal) → funds to buy, with fees.

Pipeline per request (docs/portfolio-methodology.md):

1. Validate the inputs (a `BadInputError` names the field); the customer may hold products up to
   `risk.suitability.allowed_max_product_level` (R1 only for the lowest category, which is reported as
   level C1 whatever level came with it, with a `lowest_category_is_c1` note).
2. Class targets: the model portfolio of that level and horizon bucket (`advisor.model_portfolios`).
3. Funds: the selection for that R-limit (`advisor.selection`) and the compiled construction QP
   (`advisor.construction`) give fund weights meeting the class targets.
4. Discrete allocation (`advisor.allocation`): share class per fund by holding cost over the horizon,
   funds whose amount would fall below their minimum purchase are dropped and the weights re-solved,
   then amounts are rounded to purchase increments with fees counted. Below `small_amount` (default
   ¥1,000) the proposal is one cash or bond fund, with an explanation.
5. Figures: expected return (asset-class CMAs, net of the entry fees spread over the horizon), expected
   volatility (the funds' shrunk covariance), goal probability (lognormal, see `goal_probability`),
   a historical backtest of the proposed weights (> 1 year, volatility and max drawdown, as the
   advisory rules require), the strategy's risk level rated as a whole
   (`risk.suitability.portfolio_risk_level`), and bilingual explanations.

Everything per universe (assumptions, models, selections, prepared arrays, construction results per
active fund set) is computed once and cached on the universe, so a request only re-solves when its
amount forces funds out, and otherwise costs a few hundred microseconds. Results are deterministic.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from advisor import limits
from advisor.allocation import Allocation, below_minimum, discretize, ideal_paid, to_cents
from advisor.assumptions import CLASSES, AssumptionConfig, CapitalMarketAssumptions, estimate_assumptions
from advisor.construction import (
    ConstructionPolicy,
    ConstructionResult,
    SelectionData,
    construct,
    prepare,
)
from advisor.fallback import FallbackReport, Note
from advisor.lines import LinePolicy, plan_lines
from advisor.model_portfolios import (
    HORIZON_LABELS,
    LEVEL_NAMES_ZH,
    MODEL_VERSION,
    ModelPolicy,
    ModelPortfolio,
    build_model_portfolios,
    horizon_bucket,
    parse_level,
)
from advisor.selection import Selection, SelectionPolicy, choose_share_classes, select_funds
from advisor.simulation.record import history_note, records_pending, walk_forward_record
from products.errors import BadInputError
from products.taxonomy import ASSET_CLASS_NAMES_ZH, AssetClass, asset_class_name, modelled_mask
from products.universe import Universe
from risk.suitability import allowed_max_product_level, check_recommendation, portfolio_risk_level

REFERENCE_AMOUNT = 100_000.0  # yuan; share-class choice in `target_fund_weights`
HISTORY_YEARS = 3.0  # backtest window (the common history of the lines, at most this long)
MIN_HISTORY_DAYS = 366  # calendar days: past performance must cover more than one year


@dataclass(frozen=True)
class ProposalConfig:
    small_amount: float = 1_000.0  # below this: a single cash or bond fund
    max_amount: float = limits.MAX_MONEY
    model: ModelPolicy = field(default_factory=ModelPolicy)
    assumptions: AssumptionConfig = field(default_factory=AssumptionConfig)
    selection: SelectionPolicy = field(default_factory=SelectionPolicy)
    construction: ConstructionPolicy = field(default_factory=ConstructionPolicy)
    lines: LinePolicy = field(default_factory=LinePolicy)  # no dust: the smallest line, by share and yuan

    def key(self) -> tuple:
        return (self.small_amount, self.max_amount, self.model.key(), self.assumptions.key(),
                self.selection.key(), self.construction.key(), self.lines.key())


@dataclass(frozen=True)
class ProposalLine:
    code: str
    name: str
    asset_class: str
    risk_level: int
    amount: float  # net invested, yuan
    fee: float  # subscription fee, yuan (paid = amount + fee)
    weight: float  # share of the invested total (net)
    modelled: bool = False  # a placeholder modelled from a yield path (the 模拟 money funds), not a real fund

    def to_dict(self) -> dict[str, Any]:
        out = {"code": self.code, "name": self.name, "asset_class": self.asset_class,
               "risk_level": f"R{self.risk_level}", "amount": self.amount, "weight": self.weight,
               "fee": self.fee, "paid": round(self.amount + self.fee, 2), "modelled": self.modelled}
        if self.modelled:
            out["note_zh"], out["note_en"] = MODELLED_LINE_NOTE
        return out


MODELLED_LINE_NOTE = ("模拟货币基金：数据中没有真实货币基金，此处按货币基金收益率曲线模拟，"
                      "仅作现金类占位，不是可购买的产品；请替换为本行的货币基金。",
                      "Modelled money fund: the data has no real money-market fund, so this cash placeholder "
                      "follows a money-fund yield curve and is not a product one can buy; replace it with the "
                      "bank's own money fund.")


@dataclass(frozen=True)
class Proposal:
    level: int
    lowest_category: bool
    amount: float
    horizon_years: float
    horizon: str
    target_return: float | None
    strategy_risk_level: int
    lines: tuple[ProposalLine, ...]
    cash_remainder: float
    total_fee: float
    expected_return: float
    expected_volatility: float
    goal_probability: float | None
    historical: dict[str, Any] | None
    asset_classes: dict[str, float]  # the model portfolio's class targets
    explanations: tuple[Note, ...]
    solver: dict[str, Any]
    universe_as_of: str
    universe_version: str
    model_version: str = MODEL_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": f"C{self.level}", "level_name_zh": LEVEL_NAMES_ZH[self.level],
            "lowest_category": self.lowest_category, "amount": self.amount,
            "horizon_years": self.horizon_years, "horizon": self.horizon, "target_return": self.target_return,
            "strategy_risk_level": f"R{self.strategy_risk_level}" if self.strategy_risk_level else None,
            "lines": [line.to_dict() for line in self.lines],
            "cash_remainder": self.cash_remainder, "total_fee": self.total_fee,
            "expected_return": self.expected_return, "expected_volatility": self.expected_volatility,
            "goal_probability": self.goal_probability, "historical": self.historical,
            "asset_classes": self.asset_classes,
            "explanations": [n.to_dict() for n in self.explanations],
            "solver": self.solver, "universe_as_of": self.universe_as_of,
            "universe_version": self.universe_version, "model_version": self.model_version,
        }


# ------------------------------------------------------------------------------------------------
# per-universe context
# ------------------------------------------------------------------------------------------------

class _Context:
    """Everything a proposal needs that depends only on the universe and the configuration."""

    def __init__(self, universe: Universe, config: ProposalConfig):
        self.universe = universe
        self.config = config
        self.models: dict[tuple[int, str], ModelPortfolio] = build_model_portfolios(
            universe, policy=config.model, assumptions=config.assumptions,
            eligibility=config.selection.eligibility)
        self.cma: CapitalMarketAssumptions = estimate_assumptions(universe, config.assumptions)
        funds = universe.funds
        self.names = funds["name"].astype(str).to_numpy()
        self.codes = funds.index.astype(str).to_numpy()
        self.asset_class = funds["asset_class"].astype(str).to_numpy()
        self.risk = funds["risk_level"].to_numpy(dtype=np.int64)
        self.modelled = modelled_mask(funds).to_numpy(dtype=bool)
        # class targets per model as arrays: a pandas reindex per request cost more than the whole allocation
        self._targets = {key: m.weights.reindex(list(CLASSES)).to_numpy(dtype=float)
                         for key, m in self.models.items()}
        self.min_cents = np.round(funds["min_purchase"].to_numpy(dtype=float) * 100).astype(np.int64)
        self.inc_cents = np.maximum(np.round(funds["purchase_increment"].fillna(0.01).to_numpy(dtype=float)
                                             * 100).astype(np.int64), 1)
        self.money_market = universe.fees.money_market
        self.class_mu = self.cma.expected_returns.reindex(list(CLASSES)).to_numpy()
        returns = universe.returns.to_numpy(dtype=float)
        self.dates = universe.returns.index
        self.first_row = np.where(np.isnan(returns).all(axis=0), len(self.dates),
                                  np.argmax(~np.isnan(returns), axis=0))
        # the backtest window, funds × days, NaN as 0 after a fund's start (a row gather per request)
        window_start = self.dates[-1] - pd.DateOffset(days=int(HISTORY_YEARS * 365.25)) if len(self.dates) else None
        self.window_row = int(self.dates.searchsorted(window_start, side="right")) if len(self.dates) else 0
        self.window_returns = np.ascontiguousarray(np.nan_to_num(returns[self.window_row:], nan=0.0).T)
        self.date_text = [d.date().isoformat() for d in self.dates[self.window_row:]]
        self.model_text = {key: _model_text(m) for key, m in self.models.items()}
        self._lock = threading.Lock()
        self._selections: dict[int, tuple[Selection, SelectionData]] = {}
        self._family_min: dict[int, np.ndarray] = {}
        self._constructions: dict[tuple, ConstructionResult] = {}

    def selection(self, max_level: int) -> tuple[Selection, SelectionData]:
        found = self._selections.get(max_level)
        if found is None:
            with self._lock:
                sel = select_funds(self.universe, max_level, self.config.selection)
                data = prepare(self.universe, sel, self.config.selection.slots)
                found = self._selections[max_level] = (sel, data)
        return found

    def family_min_cents(self, max_level: int) -> np.ndarray:
        """Per selected family: the highest minimum purchase among its share classes (either may be bought)."""
        found = self._family_min.get(max_level)
        if found is None:
            sel, _ = self.selection(max_level)
            found = np.array([max(int(self.min_cents[p]) for p in members) for members in sel.members],
                             dtype=np.int64)
            self._family_min[max_level] = found
        return found

    def targets(self, model_level: int, horizon: str) -> np.ndarray:
        return self._targets[(model_level, horizon)].copy()

    def construction(self, max_level: int, model_level: int, horizon: str, active: np.ndarray,
                     targets: np.ndarray | None = None) -> ConstructionResult:
        """Weights over the `active` funds for the model's class targets (or `targets`, when the amount
        changed them), memoized per fund set and targets."""
        t = np.round(np.asarray(self.targets(model_level, horizon) if targets is None else targets, float), 12)
        key = (max_level, active.tobytes(), t.tobytes())
        found = self._constructions.get(key)
        if found is None:
            _, data = self.selection(max_level)
            found = construct(data, t, active, self.config.construction)  # thread-local compiled problem
            with self._lock:
                if len(self._constructions) > 4096:
                    self._constructions.clear()
                self._constructions[key] = found
        return found


_CONTEXTS: weakref.WeakKeyDictionary[Universe, dict[tuple, _Context]] = weakref.WeakKeyDictionary()
_CONTEXTS_LOCK = threading.Lock()


def _context(universe: Universe, config: ProposalConfig) -> _Context:
    key = (universe.version, config.key())
    per_universe = _CONTEXTS.get(universe)
    if per_universe is None or key not in per_universe:
        with _CONTEXTS_LOCK:
            per_universe = _CONTEXTS.setdefault(universe, {})
            if key not in per_universe:
                per_universe[key] = _Context(universe, config)
    return per_universe[key]


WARM_UP_AMOUNTS = tuple(float(round(a, -1)) for a in np.geomspace(1_000, 50_000, 24))
WARM_UP_YEARS = (0.5, 2.0, 5.0)


def warm_up(universe: Universe, config: ProposalConfig | None = None,
            amounts: tuple[float, ...] = WARM_UP_AMOUNTS) -> None:
    """Precompute everything per universe: models, selections, prepared arrays, full-set weights, and the
    re-solved weights for the fund sets small amounts leave (a ladder of `amounts` per level and horizon),
    so that a typical request never waits for a solver."""
    config = config or ProposalConfig()
    ctx = _context(universe, config)
    for max_level in range(1, 6):
        _, data = ctx.selection(max_level)
        for horizon in ("short", "medium", "long"):
            ctx.construction(max_level, max_level, horizon, np.ones(data.n_funds, dtype=bool))
    for max_level in range(1, 6):
        for years in WARM_UP_YEARS:
            for amount in amounts:
                propose(universe, max_level, amount, years, config=config)


# ------------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------------

def _validate(amount: object, horizon_years: object, target_return: object, lowest_category: object,
              config: ProposalConfig) -> tuple[float, float, float | None, bool]:
    amt = limits.money(amount, "amount")
    if amt > config.max_amount:
        raise BadInputError(f"amount above the supported maximum {config.max_amount:,.0f}",
                            details={"field": "amount"})
    years = limits.horizon_years(horizon_years)
    target = limits.target_return(target_return)
    if not isinstance(lowest_category, bool | np.bool_):
        raise BadInputError("lowest_category must be true or false", details={"field": "lowest_category"})
    return amt, years, target, bool(lowest_category)


# ------------------------------------------------------------------------------------------------
# the proposal
# ------------------------------------------------------------------------------------------------

def propose(universe: Universe, level: int | str, amount: float, horizon_years: float,
            target_return: float | None = None, lowest_category: bool = False, *,
            config: ProposalConfig | None = None) -> Proposal:
    """A purchasable fund portfolio for one customer (see module docstring). Deterministic."""
    config = config or ProposalConfig()
    lvl = parse_level(level)
    amt, years, target, lowest = _validate(amount, horizon_years, target_return, lowest_category, config)
    notes: list[Note] = []
    if lowest and lvl > 1:  # the lowest category is C1 whatever level was stated with it
        notes.append(Note("lowest_category_is_c1",
                          f"您属于风险承受能力最低类别，按C1处理（仅限R1产品），而非所填的C{lvl}。",
                          f"The customer is in the lowest risk category, so is treated as C1 (R1 products "
                          f"only), not the stated C{lvl}."))
        lvl = 1
    max_r = allowed_max_product_level(lvl, lowest)
    model_level = max_r  # the lowest category gets the C1 (R1-only) model
    horizon = horizon_bucket(years)
    ctx = _context(universe, config)
    amount_cents = to_cents(amt)
    model = ctx.models[(model_level, horizon)]

    allocation: Allocation | None = None
    report: FallbackReport | None = None
    sel, data = ctx.selection(max_r)
    if amt >= config.small_amount and len(sel):
        allocation, report, family_pos = _allocate_portfolio(ctx, sel, data, max_r, model_level, horizon, years,
                                                             amount_cents, notes)
    if allocation is None:
        allocation, family_pos = _small_amount(ctx, sel, max_r, horizon, years, amount_cents, amt, notes,
                                               config.small_amount)
    return _finish(ctx, lvl, lowest, amt, years, horizon, target, model, allocation, family_pos, data, sel,
                   report, notes)


def _allocate_portfolio(ctx: _Context, sel: Selection, data: SelectionData, max_r: int, model_level: int,
                        horizon: str, years: float, amount_cents: int, notes: list[Note]
                        ) -> tuple[Allocation | None, FallbackReport | None, dict[int, int]]:
    """Funds for the amount (`advisor.lines.plan_lines`), weights re-solved on them, share classes by cost,
    then lines below their floor (the line minimum or the fund's minimum purchase) dropped and the weights
    re-solved until every line clears it; amounts rounded to increments with fees."""
    fees, discount = ctx.universe.fees, ctx.universe.fee_discount
    family_min = ctx.family_min_cents(max_r)
    plan = plan_lines(data, ctx.targets(model_level, horizon), amount_cents, family_min, ctx.config.lines)
    active = plan.active.copy()
    if not active.any():
        return None, None, {}
    dropped: list[int] = []
    for _ in range(len(sel) + 1):
        result = ctx.construction(max_r, model_level, horizon, active, plan.targets)
        fam = np.flatnonzero(result.weights > 0)
        if len(fam) == 0:
            return None, None, {}
        pos_all = choose_share_classes(ctx.universe, sel, years, amount_cents / 100.0 * result.weights)
        pos = pos_all[fam]
        ideal = ideal_paid(amount_cents, pos, result.weights[fam], fees, discount)
        bad = below_minimum(ideal, np.maximum(ctx.min_cents[pos], plan.floor_cents))
        if not bad.any():
            allocation = discretize(amount_cents, pos, ideal, ctx.min_cents[pos], ctx.inc_cents[pos], fees,
                                    discount, ctx.money_market[pos])
            _line_notes(ctx, sel, plan, dropped, len(allocation.fund_idx), notes)
            family_of = {int(p): int(f) for p, f in zip(pos, fam, strict=True)}
            return allocation, result.report, family_of
        drop = _funds_to_drop(fam, bad, ideal, sel)
        active[drop] = False
        dropped.extend(int(i) for i in drop)
        if not active.any():
            return None, None, {}
    return None, None, {}


def _line_notes(ctx: _Context, sel: Selection, plan, dropped: list[int], n_lines: int, notes: list[Note]) -> None:
    """Explain why the amount holds fewer funds or classes than the full model (no dust lines)."""
    floor = plan.floor_cents / 100.0
    if plan.derisked:
        notes.append(Note("small_amount_less_risk",
                          "金额较小，为保证现金和债券部分至少有一笔有意义的持仓，组合中的风险资产比例略低于模型比例"
                          "（宁低勿高）。",
                          "At this amount the cash and bond part is raised to at least one worthwhile line, so the "
                          "portfolio holds somewhat fewer risk assets than the model (never more)."))
    if plan.closed_classes or plan.limited or dropped:
        closed_zh = "、".join(asset_class_name(CLASSES[k], "zh") for k in plan.closed_classes)
        closed_en = ", ".join(asset_class_name(CLASSES[k], "en") for k in plan.closed_classes)
        extra_zh = f"；{closed_zh}的比例过小，已并入相近的资产类别" if closed_zh else ""
        extra_en = f"; {closed_en} would be too small a line and went to the nearest class" if closed_en else ""
        notes.append(Note("few_lines",
                          f"为避免持仓过于零散，每只基金的金额不低于¥{floor:,.0f}（且不低于其起购金额），"
                          f"本组合使用{n_lines}只基金{extra_zh}。",
                          f"To avoid dust positions every line is at least ¥{floor:,.0f} (and the fund's minimum "
                          f"purchase): this portfolio uses {n_lines} fund{'' if n_lines == 1 else 's'}{extra_en}."))
    if dropped:
        names = "、".join(ctx.names[sel.representative[i]] for i in dropped)
        notes.append(Note("below_minimum_dropped",
                          f"按当前金额，{names}的金额达不到单只最低金额或起购金额，已从组合中移除并重新优化其余基金的比例。",
                          f"At this amount {len(dropped)} fund(s) would fall below the smallest line or their "
                          "minimum purchase; they were left out and the remaining weights re-optimized."))


def _funds_to_drop(fam: np.ndarray, bad: np.ndarray, ideal: np.ndarray, sel: Selection) -> np.ndarray:
    """All below-floor funds, except that a class whose funds are all below keeps its largest one for
    another try (dropping it would empty the class); when every fund is below, drop the smallest."""
    drop = []
    classes = sel.asset_class[fam]
    for cls in dict.fromkeys(classes.tolist()):
        in_cls = classes == cls
        if (bad & in_cls).sum() == in_cls.sum() and in_cls.sum() > 1:
            members = np.flatnonzero(in_cls)
            keep = members[np.argmax(ideal[members])]
            drop.extend(int(fam[j]) for j in members if j != keep)
        elif in_cls.sum() > 1 or not bad[in_cls].all():
            drop.extend(int(fam[j]) for j in np.flatnonzero(bad & in_cls))
    if not drop:  # each remaining class is a single fund below its floor: drop the smallest of them
        drop = [int(fam[np.flatnonzero(bad)[np.argmin(ideal[bad])]])]
    return np.array(sorted(set(drop)), dtype=np.intp)


def _small_amount(ctx: _Context, sel: Selection, max_r: int, horizon: str, years: float, amount_cents: int,
                  amt: float, notes: list[Note], threshold: float) -> tuple[Allocation, dict[int, int]]:
    """One cash fund (short horizon or R1 only) or one bond fund; nothing if even its minimum is too high."""
    prefer = ["cash"] if (horizon == "short" or max_r <= 1) else ["bond", "cash"]
    amounts = np.full(len(sel), amt)
    positions = choose_share_classes(ctx.universe, sel, years, amounts) if len(sel) else np.zeros(0, np.intp)
    chosen: int | None = None
    family = -1
    for cls in prefer:
        for i in np.flatnonzero(sel.asset_class == cls) if len(sel) else []:
            p = int(positions[i])
            if ctx.min_cents[p] <= amount_cents:
                chosen, family = p, int(i)
                break
        if chosen is not None:
            break
    if chosen is None and not len(sel):
        notes.append(Note("no_eligible_fund",
                          f"当前基金池中没有风险等级不高于R{max_r}、可申购且历史满一年的基金，暂无法配置。",
                          f"The fund universe has no open fund at or below R{max_r} with more than a year of "
                          "history; nothing can be proposed."))
        return Allocation(np.zeros(0, np.intp), np.zeros(0, np.int64), np.zeros(0, np.int64), amount_cents), {}
    if chosen is None:
        notes.append(Note("amount_below_minimum", f"金额¥{amt:,.2f}低于可选基金的起购金额，暂无法配置。",
                          f"¥{amt:,.2f} is below the minimum purchase of every eligible fund; nothing can be "
                          "bought yet."))
        return Allocation(np.zeros(0, np.intp), np.zeros(0, np.int64), np.zeros(0, np.int64), amount_cents), {}
    cls_zh = ASSET_CLASS_NAMES_ZH[AssetClass(ctx.asset_class[chosen])]
    notes.append(Note("small_amount", f"金额低于¥{threshold:,.0f}，分散到多只基金意义不大，建议先配置一只{cls_zh}基金"
                                      f"（{ctx.names[chosen]}），金额增加后再按组合配置。",
                      f"Below ¥{threshold:,.0f} spreading over many funds makes little sense: one "
                      f"{ctx.asset_class[chosen]} fund ({ctx.codes[chosen]}) now, the full portfolio once the "
                      "amount grows."))
    ideal = np.array([float(amount_cents)])
    idx = np.array([chosen], dtype=np.intp)
    fees = ctx.universe.fees
    allocation = discretize(amount_cents, idx, ideal, ctx.min_cents[idx], ctx.inc_cents[idx], fees,
                            ctx.universe.fee_discount, ctx.money_market[idx])
    return allocation, {chosen: family}


# ------------------------------------------------------------------------------------------------
# figures and explanations
# ------------------------------------------------------------------------------------------------

def goal_probability(expected_return: float, volatility: float, years: float, target: float) -> float:
    """P(annualized return over `years` ≥ `target`) with lognormal wealth: yearly log-returns are normal
    with variance s² = ln(1 + σ²/(1+μ)²) and mean m = ln(1+μ) − s²/2, so
    P = Φ((m − ln(1+target)) · √T / s). Horizons under a year count as one year; σ = 0 is a certainty."""
    from scipy.stats import norm

    t = max(years, 1.0)
    s2 = math.log1p(volatility ** 2 / (1.0 + expected_return) ** 2)
    m = math.log1p(expected_return) - s2 / 2.0
    gap = m - math.log1p(target)
    if s2 <= 1e-14:
        return 1.0 if gap >= 0 else 0.0
    return float(norm.cdf(gap * math.sqrt(t) / math.sqrt(s2)))


def historical_backtest(ctx: _Context, positions: np.ndarray, weights: np.ndarray) -> dict[str, Any] | None:
    """Constant weights (daily rebalanced) over the lines' common history, at most `HISTORY_YEARS`.

    Hand-written on numpy because it is on the per-request path (`products.analytics.compute_metrics`
    costs ~5 ms per call); the definitions are the analytics ones (CAGR over 252 days, sample σ·√252,
    max drawdown from the running peak) and a test checks equality with `compute_metrics`."""
    if len(positions) == 0:
        return None
    start_row = max(int(ctx.first_row[positions].max()), ctx.window_row)
    end_row = len(ctx.dates) - 1
    if start_row >= end_row or (ctx.dates[end_row] - ctx.dates[start_row]).days < MIN_HISTORY_DAYS:
        return None
    offset = start_row - ctx.window_row
    series = (weights / weights.sum()) @ ctx.window_returns[positions, offset:]
    n = len(series)
    growth = np.cumprod(1.0 + series)
    peak = np.maximum(np.maximum.accumulate(growth), 1.0)
    mdd = float((growth / peak - 1.0).min())
    return {
        "start": ctx.date_text[offset], "end": ctx.date_text[-1],
        "annual_return": float(growth[-1] ** (252.0 / n) - 1.0),
        "annual_volatility": float(series.std(ddof=1) * math.sqrt(252.0)),
        "max_drawdown": min(mdd, 0.0), "n_days": n, "method": "constant weights, rebalanced daily",
    }


def _finish(ctx: _Context, lvl: int, lowest: bool, amt: float, years: float, horizon: str, target: float | None,
            model: ModelPortfolio, allocation: Allocation, family_of: dict[int, int], data: SelectionData,
            sel: Selection, report: FallbackReport | None, notes: list[Note]) -> Proposal:
    idx = allocation.fund_idx
    levels = ctx.risk[idx]
    check_recommendation(lvl, levels, lowest, codes=[str(c) for c in ctx.codes[idx]])
    net = allocation.net_cents
    invested = int(net.sum())
    weights = net / invested if invested > 0 else np.zeros(len(idx))
    modelled = ctx.modelled
    lines = tuple(
        ProposalLine(str(ctx.codes[p]), str(ctx.names[p]), str(ctx.asset_class[p]), int(ctx.risk[p]),
                     round(int(n) / 100.0, 2), round(int(f) / 100.0, 2), float(round(w, 6)), bool(modelled[p]))
        for p, n, f, w in zip(idx, net, allocation.fee_cents, weights, strict=True))
    if any(line.modelled for line in lines):
        notes = [*notes, Note("modelled_cash", *MODELLED_LINE_NOTE)]
    total_fee_cents = int(allocation.fee_cents.sum())
    amount_cents = allocation.total_cents
    share_invested = invested / amount_cents if amount_cents else 0.0
    class_pos = np.array([CLASSES.index(c) for c in ctx.asset_class[idx]], dtype=np.intp)
    gross_mu = float(weights @ ctx.class_mu[class_pos]) * share_invested if len(idx) else 0.0
    fee_drag = total_fee_cents / amount_cents / max(years, 1.0) if amount_cents else 0.0
    exp_ret = gross_mu - fee_drag
    fams = np.array([family_of.get(int(p), -1) for p in idx], dtype=np.intp)
    if len(idx) and (fams >= 0).all():
        cov = data.covariance[np.ix_(fams, fams)]
        vol = float(math.sqrt(max(weights @ cov @ weights, 0.0))) * share_invested
    else:
        vol = 0.0
    strategy = portfolio_risk_level(weights, levels) if len(idx) else 0
    history = (walk_forward_record(ctx.universe, model.level, model.horizon, ctx.config.key())
               if len(idx) else None)  # the policy's simulated record, looked up (never simulated here)
    goal = goal_probability(exp_ret, vol, years, target) if target is not None and len(idx) else None
    explanations = _explain(ctx, lvl, lowest, horizon, years, target, model, lines, exp_ret, goal,
                            total_fee_cents, allocation.remainder_cents, history, strategy, sel, notes, report)
    solver = report.to_dict() if report is not None else {"answered_by": "single_fund_rule", "degraded": False,
                                                          "attempts": [], "notes": []}
    solver["model_step"] = model.report.answered_by
    return Proposal(
        level=lvl, lowest_category=lowest, amount=round(amount_cents / 100.0, 2), horizon_years=years,
        horizon=horizon, target_return=target, strategy_risk_level=int(strategy), lines=lines,
        cash_remainder=round(allocation.remainder_cents / 100.0, 2), total_fee=round(total_fee_cents / 100.0, 2),
        expected_return=round(exp_ret, 6), expected_volatility=round(vol, 6),
        goal_probability=None if goal is None else round(goal, 4), historical=history,
        asset_classes=dict(ctx.model_text[(model.level, model.horizon)][2]), explanations=tuple(explanations),
        solver=solver, universe_as_of=str(ctx.universe.as_of), universe_version=ctx.universe.version)


def _model_text(model: ModelPortfolio) -> tuple[str, str, dict[str, float]]:
    """(mix in Chinese, mix in English, class → weight) of a model, prepared once per universe."""
    weights = {c: float(model.weights[c]) for c in CLASSES}
    return (*_mix_text({c: w for c, w in weights.items() if w > 0}), weights)


def _mix_text(weights: dict[str, float]) -> tuple[str, str]:
    """(Chinese, English) of a class mix, e.g. 债券类44.5%、A股权益类38.5% / bonds 44.5%, Chinese equity 38.5%."""
    return ("、".join(f"{ASSET_CLASS_NAMES_ZH[AssetClass(c)]}{_pct(w)}" for c, w in weights.items()),
            ", ".join(f"{asset_class_name(c, 'en')} {_pct(w)}" for c, w in weights.items()))


# Half the L1 distance between the portfolio's asset classes and the model's beyond which the strategy's
# simulated record no longer describes the portfolio (a small amount held in one or two funds).
RECORD_DEVIATION = 0.10


def _record_caveat(model_weights: dict[str, float], lines: tuple[ProposalLine, ...]) -> list[Note]:
    """A warning beside the simulated record when the portfolio's class mix is far from the model's: the
    record is the strategy's, not this portfolio's."""
    held = {c: 0.0 for c in CLASSES}
    for line in lines:
        held[line.asset_class] += line.weight
    gap = 0.5 * sum(abs(held[c] - model_weights.get(c, 0.0)) for c in CLASSES)
    if gap <= RECORD_DEVIATION:
        return []
    mix_zh, mix_en = _mix_text({c: w for c, w in held.items() if w > 0.0005})
    return [Note("history_differs",
                 f"您的组合为{mix_zh}，与策略配置相差{_pct(gap)}（金额较小时只能买入少数几只基金）；上述模拟业绩按策略"
                 "配置计算，不代表本组合的表现。",
                 f"Your portfolio holds {mix_en}, {_pct(gap)} away from the strategy's mix (a small amount buys only "
                 "a few funds); the simulated record above is the strategy's, not this portfolio's.")]


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _explain(ctx: _Context, lvl: int, lowest: bool, horizon: str, years: float, target: float | None,
             model: ModelPortfolio, lines: tuple[ProposalLine, ...], exp_ret: float, goal: float | None,
             fee_cents: int, remainder_cents: int, history: dict[str, Any] | None, strategy: int,
             sel: Selection, notes: list[Note], report: FallbackReport | None) -> list[Note]:
    h_zh, h_en = HORIZON_LABELS[horizon]
    mix_zh, mix_en, _ = ctx.model_text[(model.level, model.horizon)]
    level_zh = "风险承受能力最低类别（仅限R1产品）" if lowest else f"C{lvl}（{LEVEL_NAMES_ZH[lvl]}）"
    level_en = "the lowest risk category (R1 products only)" if lowest else f"C{lvl}"
    out = [Note("model", f"根据您的风险等级{level_zh}和投资期限（{h_zh}），策略配置为：{mix_zh}。",
                f"For risk level {level_en} and a horizon of {h_en}, the strategy holds: {mix_en}.")]
    if lines:
        max_line = max(line.risk_level for line in lines)
        out.append(Note("suitability",
                        f"组合整体风险等级为R{strategy}，所选每只基金风险等级均不高于R{max_line}，"
                        "均在您可购买的范围内。",
                        f"The portfolio as a whole is rated R{strategy}; every fund is at most R{max_line}, "
                        "within what you may buy."))
        overlap_checked = not any(n.code == "overlap_unavailable" for n in sel.notes)
        overlap_zh = "权益基金之间持仓重合度受限；" if overlap_checked else ""
        overlap_en = ", with limited holdings overlap between equity funds" if overlap_checked else ""
        out.append(Note("selection", "各类资产选用基金大数据榜单中综合评分靠前的基金，同一基金公司不超过"
                                     f"{ctx.config.selection.max_per_company}只，{overlap_zh}"
                                     "A/C份额按您的持有期限比较总费用后选择。",
                        "Funds are the leaderboard's best in each class, at most "
                        f"{ctx.config.selection.max_per_company} per fund company{overlap_en}; "
                        "A or C share class by total cost over your horizon."))
        out.append(Note("fees",
                        f"申购费合计¥{fee_cents / 100:,.2f}（按银行申购费折扣计算，已包含在各基金购买金额中）。",
                        f"Subscription fees total ¥{fee_cents / 100:,.2f} (bank discount applied), included in "
                        "each purchase amount."))
    if remainder_cents > 0:
        out.append(Note("remainder", f"因起购金额和递增金额限制，¥{remainder_cents / 100:,.2f}暂未投资，保留为现金。",
                        f"¥{remainder_cents / 100:,.2f} stays in cash because of minimum and increment rules."))
    out.extend(notes)
    out.extend(sel.notes)
    if report is not None:
        out.extend(report.notes)
    out.extend(model.report.notes)
    if target is not None and goal is not None:
        out.append(Note("goal", f"按资本市场假设估算，{years:g}年内实现年化{_pct(target)}目标的概率约为{_pct(goal)}"
                                f"（组合预期年化收益{_pct(exp_ret)}）。",
                        f"On our capital market assumptions, the chance of reaching {_pct(target)} a year over "
                        f"{years:g} years is about {_pct(goal)} (expected {_pct(exp_ret)} a year)."))
        if target > exp_ret:
            out.append(Note("goal_above_expected", "目标收益高于与您风险等级相符组合的预期收益；我们不会为追求目标而"
                                                   "超出您的风险等级配置。",
                            "The target is above what a portfolio within your risk level is expected to earn; we "
                            "do not go beyond your risk level to chase it."))
    if lines:
        pending = history is None and records_pending(ctx.universe, ctx.config.key())
        out.append(history_note(history, pending=pending))
        if history is not None:
            out.extend(_record_caveat(ctx.model_text[(model.level, model.horizon)][2], lines))
    out.append(Note("disclaimer", "基金投资有风险，过往业绩不代表未来表现，预期收益不构成收益承诺。",
                    "Funds carry risk; past performance does not predict future results, and expected "
                    "returns are not a promise."))
    return out


def target_fund_weights(universe: Universe, level: int | str, horizon_years: float, *,
                        lowest_category: bool = False, config: ProposalConfig | None = None) -> pd.Series:
    """Fund code → weight (sums to 1) a customer of `level` and horizon should hold: the funds and weights of
    a ¥100,000 reference proposal (the proposal itself: its line plan, lines under their floor dropped and the
    weights re-solved, share classes), so the
    health check and rebalancing aim at what a proposal buys. Above about ¥17,000 the line plan no longer
    depends on the amount. Deterministic, cached per universe."""
    proposal = propose(universe, level, REFERENCE_AMOUNT, horizon_years, lowest_category=lowest_category,
                       config=config)
    if not proposal.lines:
        return pd.Series(dtype=float, name="weight")
    series = pd.Series([line.weight for line in proposal.lines],
                       index=pd.Index([line.code for line in proposal.lines], name="code"), name="weight")
    return series.groupby(level=0, sort=False).sum() / float(series.sum())


def in_sample_backtest(universe: Universe, proposal: Proposal, *, config: ProposalConfig | None = None
                       ) -> dict[str, Any] | None:
    """The constant-weight backtest of a proposal's lines over their common history (at most
    `HISTORY_YEARS`): in-sample, because the funds were chosen on that window. Not shown to customers;
    the walk-forward simulator reports it beside the out-of-sample record."""
    if not proposal.lines:
        return None
    ctx = _context(universe, config or ProposalConfig())
    positions = universe.index_of([line.code for line in proposal.lines])
    weights = np.array([line.amount for line in proposal.lines], dtype=float)
    return historical_backtest(ctx, positions, weights) if weights.sum() > 0 else None
