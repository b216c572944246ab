"""Model portfolios: asset-class weights for each customer level C1–C5 × horizon bucket, from a written policy.

The investment policy of a level (`LevelPolicy`, defaults in `DEFAULT_POLICIES`, documented in
docs/portfolio-methodology.md) is a risk budget — a yearly volatility ceiling on the capital market
assumptions and a drawdown tolerance on the assumptions' class history — and asset-class ranges for a
long horizon (> 3 years), including the range of *risk assets* (A-share equity + global equity + gold).

1. **Strategic (long-horizon) mix per level**, solved with cvxpy (Clarabel)::

       maximize   mu'w - (risk_aversion / 2) w' Sigma w - turnover_penalty * ||w - w_previous||_1
       subject to sum(w) = 1, range_min <= w <= range_max, risk_min <= risk assets <= risk_max,
                  ||L'w|| <= max_volatility                          (Sigma = L L')
                  drawdown(w) <= max_drawdown                        (historical, see below)

   `drawdown(w)` is the worst peak-to-trough fall of the mix's *additive* weekly return path over the
   assumptions' history: a pointwise maximum of linear functions of w, so the constraint is convex (the
   CDaR formulation with a running-peak variable). The compounded drawdown is then checked on the daily
   history, and the additive bound tightened until the compounded one meets the tolerance.
2. **Glide path over the horizon.** The horizon scales the whole risk sleeve: at each horizon the level
   holds `HorizonRule.risk_scale` × its strategic risk assets, in the same proportions (A-share equity,
   global equity and gold all scale together), and the rest in cash (at least the horizon's cash floor)
   and bonds. Scales rise with the horizon, so the share of risk assets never falls as the horizon grows.

A class is only used at a level if it has an eligible fund (`advisor.eligibility`): suitable, redeemable,
not weak, with enough history. The turnover penalty against the previous models keeps them from jumping
when the assumptions move a little.

Fallback chain of the strategic mix: Clarabel → SCS → relax the risk budget (the least risky mix within
the ranges) → safe portfolio (all cash, or the least volatile available class). The step that answered is
reported for every model of the level.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from advisor import limits
from advisor.assumptions import CLASSES, AssumptionConfig, CapitalMarketAssumptions, estimate_assumptions
from advisor.eligibility import TRADABLE_STATUS as TRADABLE_STATUS  # re-exported (former home)
from advisor.eligibility import EligibilityPolicy
from advisor.eligibility import available_classes as _eligible_classes
from advisor.fallback import FallbackReport, Note, Step, StepFailed, run_chain
from products.errors import BadInputError
from products.taxonomy import AssetClass
from products.universe import Universe
from risk.levels import CUSTOMER_LEVEL_NAMES_ZH

MODEL_VERSION = "mp-2026.12-1"
LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
HORIZONS: tuple[str, ...] = ("short", "medium", "long")
HORIZON_LABELS: dict[str, tuple[str, str]] = {
    "short": ("1年以内", "under 1 year"), "medium": ("1–3年", "1–3 years"), "long": ("3年以上", "over 3 years"),
}
LEVEL_NAMES_ZH = CUSTOMER_LEVEL_NAMES_ZH  # one list of level names (risk.levels)
EQUITY_CLASSES = (AssetClass.CN_EQUITY.value, AssetClass.GLOBAL_EQUITY.value)
RISK_CLASSES = (AssetClass.CN_EQUITY.value, AssetClass.GLOBAL_EQUITY.value, AssetClass.GOLD.value)
DEFENSIVE_CLASSES = (AssetClass.CASH.value, AssetClass.BOND.value)

_CASH, _BOND = CLASSES.index("cash"), CLASSES.index("bond")
_RISK_IDX = [CLASSES.index(c) for c in RISK_CLASSES]


@dataclass(frozen=True)
class LevelPolicy:
    """Investment policy of one customer level (yearly fractions), for the long horizon (> 3 years).

    `ranges` maps an asset class to its (min, max) weight; a class left out may not be held. `risk_assets`
    is the (min, max) of A-share equity + global equity + gold together."""

    max_volatility: float
    max_drawdown: float
    risk_aversion: float
    risk_assets: tuple[float, float]
    ranges: Mapping[str, tuple[float, float]]

    def __post_init__(self) -> None:
        if not (self.max_volatility > 0 and 0 < self.max_drawdown < 1):
            raise BadInputError("risk budget must be positive", details={"field": "max_volatility"})
        unknown = set(self.ranges) - set(CLASSES)
        if unknown:
            raise BadInputError(f"ranges name unknown asset classes {sorted(unknown)}", details={"field": "ranges"})
        for cls, (lo, hi) in {**dict(self.ranges), "risk_assets": self.risk_assets}.items():
            if not 0.0 <= lo <= hi <= 1.0:
                raise BadInputError(f"range of {cls} must satisfy 0 ≤ min ≤ max ≤ 1", details={"field": cls})

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lower = np.array([self.ranges.get(c, (0.0, 0.0))[0] for c in CLASSES])
        upper = np.array([self.ranges.get(c, (0.0, 0.0))[1] for c in CLASSES])
        return lower, upper

    def key(self) -> tuple:
        return (self.max_volatility, self.max_drawdown, self.risk_aversion, self.risk_assets,
                tuple(sorted(self.ranges.items())))


@dataclass(frozen=True)
class HorizonRule:
    """What a horizon bucket holds of its level's strategic mix: `risk_scale` × the risk assets, at least
    `cash_floor` in cash, the rest in bonds."""

    risk_scale: float
    cash_floor: float


def _level(vol: float, dd: float, aversion: float, risk: tuple[float, float], **ranges: tuple[float, float]
           ) -> LevelPolicy:
    return LevelPolicy(vol, dd, aversion, risk, MappingProxyType(dict(ranges)))


DEFAULT_POLICIES: Mapping[int, LevelPolicy] = MappingProxyType({
    1: _level(0.01, 0.01, 40.0, (0.0, 0.0), cash=(0.50, 1.00), bond=(0.00, 0.50)),
    2: _level(0.04, 0.05, 10.0, (0.05, 0.20), cash=(0.05, 1.00), bond=(0.50, 0.90),
              cn_equity=(0.00, 0.15), global_equity=(0.00, 0.05), gold=(0.00, 0.05)),
    3: _level(0.08, 0.12, 3.0, (0.25, 0.45), cash=(0.05, 1.00), bond=(0.35, 0.75),
              cn_equity=(0.15, 0.35), global_equity=(0.00, 0.10), gold=(0.00, 0.08)),
    4: _level(0.13, 0.22, 1.5, (0.45, 0.70), cash=(0.05, 1.00), bond=(0.15, 0.50),
              cn_equity=(0.30, 0.55), global_equity=(0.05, 0.15), gold=(0.00, 0.10)),
    5: _level(0.18, 0.32, 0.75, (0.65, 0.90), cash=(0.05, 1.00), bond=(0.00, 0.30),
              cn_equity=(0.45, 0.70), global_equity=(0.05, 0.20), gold=(0.00, 0.12)),
})
DEFAULT_HORIZONS: Mapping[str, HorizonRule] = MappingProxyType({
    "short": HorizonRule(risk_scale=0.35, cash_floor=0.20),
    "medium": HorizonRule(risk_scale=0.70, cash_floor=0.10),
    "long": HorizonRule(risk_scale=1.00, cash_floor=0.05),
})


@dataclass(frozen=True)
class ModelPolicy:
    policies: Mapping[int, LevelPolicy] = field(default_factory=lambda: DEFAULT_POLICIES)
    horizons: Mapping[str, HorizonRule] = field(default_factory=lambda: DEFAULT_HORIZONS)
    turnover_penalty: float = 0.01  # utility per unit of one-way class turnover vs the previous model
    cvar_confidence: float = 0.95  # for the reported one-year parametric CVaR
    drawdown_frequency: str = "W-FRI"  # the additive drawdown constraint runs on weekly returns

    def __post_init__(self) -> None:
        if set(self.policies) != set(LEVELS):
            raise BadInputError("a policy is needed for every level C1–C5", details={"field": "policies"})
        if set(self.horizons) != set(HORIZONS):
            raise BadInputError("a rule is needed for every horizon bucket", details={"field": "horizons"})
        scales = [self.horizons[h].risk_scale for h in HORIZONS]
        floors = [self.horizons[h].cash_floor for h in HORIZONS]
        if any(b < a for a, b in itertools.pairwise(scales)) or not all(0 <= x <= 1 for x in scales):
            raise BadInputError("risk scales must lie in [0, 1] and never fall as the horizon grows",
                                details={"field": "risk_scale"})
        if abs(self.horizons["long"].risk_scale - 1.0) > 1e-12:
            raise BadInputError("the long horizon holds the strategic mix: its risk scale must be 1",
                                details={"field": "risk_scale"})
        if any(b > a for a, b in itertools.pairwise(floors)) or not all(0 <= x <= 1 for x in floors):
            raise BadInputError("cash floors must lie in [0, 1] and never rise as the horizon grows",
                                details={"field": "cash_floor"})

    def key(self) -> tuple:
        return (tuple((lvl, p.key()) for lvl, p in sorted(self.policies.items())),
                tuple(sorted(self.horizons.items())), self.turnover_penalty, self.cvar_confidence,
                self.drawdown_frequency)


@dataclass(frozen=True, eq=False)
class ModelPortfolio:
    level: int
    horizon: str
    weights: pd.Series  # asset class -> weight, sums to 1
    expected_return: float
    expected_volatility: float
    cvar_95: float
    report: FallbackReport
    historical_drawdown: float | None = None  # compounded, over the assumptions' class history

    @property
    def risk_assets(self) -> float:
        return float(self.weights[list(RISK_CLASSES)].sum())


def parse_level(level: object, field_name: str = "level") -> int:
    """C1–C5 as 1–5; accepts 3, "3", "C3", "c3" or an IntEnum. Anything else names the field."""
    if isinstance(level, bool):
        raise BadInputError(f"{field_name} must be C1–C5", details={"field": field_name, "value": str(level)})
    if isinstance(level, int | np.integer) and 1 <= int(level) <= 5:
        return int(level)
    text = str(level).strip().upper()
    if text.startswith("C"):
        text = text[1:]
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    raise BadInputError(f"{field_name} must be one of C1–C5, got {level!r}",
                        details={"field": field_name, "value": str(level)})


def horizon_bucket(horizon_years: object) -> str:
    """'short' (< 1 year), 'medium' (1–3 years), 'long' (> 3 years); limits in `advisor.limits`."""
    years = limits.horizon_years(horizon_years)
    return "short" if years < 1.0 else ("medium" if years <= 3.0 else "long")


def available_classes(universe: Universe, level: int, eligibility: EligibilityPolicy | None = None) -> np.ndarray:
    """Bool per class (order `CLASSES`): the class has a fund eligible at R ≤ level (`advisor.eligibility`)."""
    return _eligible_classes(universe, level, eligibility)


def strategic_bounds(policy: LevelPolicy, available: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(lower, upper, risk_min, risk_max) of the long-horizon mix, with classes that have no eligible fund
    closed (their minimum dropped too) and the risk-asset minimum cut to what the open classes can hold."""
    lower, upper = policy.bounds()
    upper = np.where(available, upper, 0.0)
    lower = np.minimum(np.where(available, lower, 0.0), upper)
    risk_max = min(policy.risk_assets[1], float(upper[_RISK_IDX].sum()))
    risk_min = min(policy.risk_assets[0], risk_max)
    if lower.sum() > 1.0 or upper.sum() < 1.0:  # the open classes cannot make a whole portfolio: defensive
        spare = np.where(np.isin(np.arange(len(CLASSES)), [_CASH, _BOND]) & available, 1.0, upper)
        upper = np.maximum(upper, spare)
    return lower, upper, risk_min, risk_max


def _weekly_paths(history: pd.DataFrame, frequency: str) -> np.ndarray:
    """Cumulative additive weekly returns per class (T × K, classes without history are 0)."""
    if history.empty:
        return np.zeros((0, len(CLASSES)))
    weekly = (1.0 + history).resample(frequency).prod() - 1.0
    weekly = weekly.reindex(columns=list(CLASSES)).fillna(0.0)
    return np.cumsum(weekly.to_numpy(), axis=0)


def historical_drawdown(history: pd.DataFrame, weights: np.ndarray | pd.Series) -> float | None:
    """Max drawdown (≤ 0, compounded) of the class mix held at constant weights, rebalanced daily, over
    the assumptions' class history; None without history."""
    w = pd.Series(np.asarray(weights, dtype=float), index=list(CLASSES))
    cols = [c for c in CLASSES if c in history.columns]
    if history.empty or not cols:
        return None
    series = history[cols].to_numpy() @ w[cols].to_numpy()
    growth = np.cumprod(1.0 + series)
    return float(min((growth / np.maximum(np.maximum.accumulate(growth), 1.0) - 1.0).min(), 0.0))


def _solve_strategic(cma: CapitalMarketAssumptions, policy: ModelPolicy, level: int, available: np.ndarray,
                     previous: np.ndarray | None, solver: str, with_budget: bool,
                     risk_minimums: bool = True) -> np.ndarray:
    """The long-horizon mix. `risk_minimums=False` drops the minimums of the risk classes and of the risk
    assets: the budget outranks the ranges' floors (a level never holds more risk than it tolerates)."""
    level_policy = policy.policies[level]
    lower, upper, risk_min, risk_max = strategic_bounds(level_policy, available)
    if not risk_minimums:
        lower[_RISK_IDX], risk_min = 0.0, 0.0
    if available[_CASH]:  # the long horizon holds the strategic mix: it keeps the long horizon's cash floor
        lower[_CASH] = min(max(lower[_CASH], policy.horizons["long"].cash_floor), upper[_CASH])
    mu = cma.expected_returns.reindex(list(CLASSES)).to_numpy()
    sigma = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()
    chol = np.linalg.cholesky(sigma + 1e-12 * np.eye(len(CLASSES)))
    import cvxpy as cp  # solver libraries load on first use (fast cold starts from the context cache)

    w = cp.Variable(len(CLASSES))
    utility = mu @ w - level_policy.risk_aversion / 2.0 * cp.sum_squares(chol.T @ w)
    if previous is not None:
        utility -= policy.turnover_penalty * cp.norm1(w - previous)
    risk = cp.sum(w[_RISK_IDX])
    constraints = [cp.sum(w) == 1, w >= lower, w <= upper, risk >= risk_min, risk <= risk_max]
    if not with_budget:  # relaxed: the least risky mix the ranges allow
        problem = cp.Problem(cp.Minimize(cp.sum_squares(chol.T @ w) - 1e-6 * (mu @ w)), constraints)
        return _solve(problem, w, solver, lower, upper)
    constraints.append(cp.norm(chol.T @ w, 2) <= level_policy.max_volatility)
    paths = _weekly_paths(cma.drawdown_history, policy.drawdown_frequency)
    if len(paths) < 26:  # under half a year of history: the drawdown tolerance cannot be checked
        return _solve(cp.Problem(cp.Maximize(utility), constraints), w, solver, lower, upper)
    bound = cp.Parameter(nonneg=True, value=level_policy.max_drawdown)
    peak = cp.Variable(len(paths))
    cumulative = paths @ w
    problem = cp.Problem(cp.Maximize(utility), [
        *constraints, peak >= cumulative, peak >= 0, peak[1:] >= peak[:-1], peak - cumulative <= bound])
    for _ in range(6):  # tighten the additive bound until the compounded drawdown meets the tolerance
        weights = _solve(problem, w, solver, lower, upper)
        drawdown = -(historical_drawdown(cma.drawdown_history, weights) or 0.0)
        if drawdown <= level_policy.max_drawdown + 5e-4:
            return weights
        bound.value = float(bound.value) * level_policy.max_drawdown / drawdown * 0.98
    raise StepFailed("the historical drawdown tolerance could not be met")


def _solve(problem, w, solver: str, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Solve a cvxpy problem in `w` and tidy the weights; a failed solve raises `StepFailed`."""
    import cvxpy as cp

    problem.solve(solver=solver)
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or w.value is None:
        raise StepFailed(f"{solver}: {problem.status}")
    return _tidy(np.asarray(w.value), lower, upper)


def _tidy(weights: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Clip solver noise, round to basis points, and keep the sum exactly 1 (largest weight absorbs)."""
    w = np.clip(weights, lower, upper)
    w = np.round(w / w.sum(), 4)
    w[np.argmax(w)] += 1.0 - w.sum()
    return np.round(w, 4)


def _safe_model(cma: CapitalMarketAssumptions, available: np.ndarray) -> np.ndarray:
    w = np.zeros(len(CLASSES))
    if available[0]:
        w[0] = 1.0
    else:
        vols = np.where(available, cma.volatilities.reindex(list(CLASSES)).to_numpy(), np.inf)
        w[int(np.argmin(vols))] = 1.0
    return w


def glide(strategic: np.ndarray, rule: HorizonRule, level_policy: LevelPolicy, available: np.ndarray) -> np.ndarray:
    """The mix of one horizon: `rule.risk_scale` × the strategic risk assets (same proportions), at least
    `rule.cash_floor` (and the strategic cash share) in cash, the rest in bonds — up to the level's bond
    maximum plus the risk assets the horizon gives up — and any excess in cash. Without a cash fund the
    defensive part is all bonds; with neither, the strategic mix is kept."""
    w = np.zeros(len(CLASSES))
    w[_RISK_IDX] = strategic[_RISK_IDX] * rule.risk_scale
    defensive = 1.0 - w.sum()
    if available[_CASH]:
        _, upper = level_policy.bounds()
        released = float(strategic[_RISK_IDX].sum()) - float(w[_RISK_IDX].sum())
        bond_max = upper[_BOND] + released if available[_BOND] else 0.0
        cash = min(max(rule.cash_floor, strategic[_CASH]), defensive)
        bond = min(defensive - cash, bond_max)
        w[_CASH], w[_BOND] = defensive - bond, bond
    elif available[_BOND]:
        w[_BOND] = defensive
    else:  # neither cash nor bonds: nothing defensive to glide into
        w = strategic.copy()
    w = np.round(w, 4)
    w[np.argmax(w)] += 1.0 - w.sum()
    return np.round(w, 4)


def _build_level(cma: CapitalMarketAssumptions, policy: ModelPolicy, level: int, available: np.ndarray,
                 previous: np.ndarray | None) -> dict[str, ModelPortfolio]:
    steps = [
        Step("clarabel", lambda: _solve_strategic(cma, policy, level, available, previous, "CLARABEL", True)),
        Step("scs", lambda: _solve_strategic(cma, policy, level, available, previous, "SCS", True),
             Note("model_other_solver", "主求解器未收敛，已用备用求解器求解。",
                  "The primary solver failed; a second solver answered.")),
        Step("budget_below_ranges",
             lambda: _solve_strategic(cma, policy, level, available, previous, "CLARABEL", True, False),
             Note("model_below_ranges",
                  "在给定配置范围内无法满足风险预算（波动率与最大回撤容忍度），风险资产已降至预算允许的水平，低于该等级的常规比例下限。",
                  "The risk budget (volatility and drawdown tolerance) cannot be met within the asset-class "
                  "ranges: risk assets are cut to what the budget allows, below the level's usual minimum.")),
        Step("relaxed_risk_budget",
             lambda: _solve_strategic(cma, policy, level, available, None, "CLARABEL", False),
             Note("model_relaxed", "在给定配置范围内无法满足风险预算，已采用范围内风险最低的组合。",
                  "The risk budget cannot be met within the asset-class ranges; the lowest-risk mix is used.")),
        Step("safe_portfolio", lambda: _safe_model(cma, available),
             Note("model_safe", "优化无解，已采用安全组合（现金类为主）。",
                  "No optimized mix was found; the documented safe portfolio (cash) is used.")),
    ]
    strategic, report = run_chain(steps)
    closed = _closed_classes_note(policy.policies[level], available, level)
    if closed is not None:
        report = FallbackReport(report.answered_by, report.attempts, (*report.notes, closed))
    from scipy.stats import norm

    mu = cma.expected_returns.reindex(list(CLASSES)).to_numpy()
    sigma = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()
    z = float(norm.pdf(norm.ppf(policy.cvar_confidence)) / (1.0 - policy.cvar_confidence))
    out = {}
    for horizon in HORIZONS:
        if report.answered_by == "safe_portfolio":
            weights = strategic
        else:
            weights = glide(strategic, policy.horizons[horizon], policy.policies[level], available)
        exp_ret = float(mu @ weights)
        vol = float(np.sqrt(max(weights @ sigma @ weights, 0.0)))
        out[horizon] = ModelPortfolio(level, horizon, pd.Series(weights, index=list(CLASSES)), exp_ret, vol,
                                      z * vol - exp_ret, report, historical_drawdown(cma.drawdown_history, weights))
    return out


def _closed_classes_note(level_policy: LevelPolicy, available: np.ndarray, level: int) -> Note | None:
    """Say which classes the policy allows but no eligible fund can fill at this level."""
    from products.taxonomy import asset_class_name

    _, upper = level_policy.bounds()
    closed = [CLASSES[k] for k in range(len(CLASSES)) if upper[k] > 0 and not available[k]]
    if not closed:
        return None
    zh = "、".join(asset_class_name(c, "zh") for c in closed)
    en = ", ".join(asset_class_name(c, "en") for c in closed)
    return Note("model_classes_closed",
                f"风险等级不高于R{level}、可申购且评级合格的基金中暂无{zh}基金，模型中该类别比例为0。",
                f"No eligible fund rated R{level} or below for {en}: the model holds none.")


_CACHE: dict[tuple, dict[tuple[int, str], ModelPortfolio]] = {}


def build_model_portfolios(universe: Universe | None = None, *, policy: ModelPolicy | None = None,
                           assumptions: AssumptionConfig | None = None,
                           previous: pd.DataFrame | None = None,
                           eligibility: EligibilityPolicy | None = None) -> dict[tuple[int, str], ModelPortfolio]:
    """All 15 models for `universe` (default: `load_universe()`), cached per universe and settings.

    `previous` is an earlier `model_portfolio_table` (or any frame with `level`, `horizon` and the class
    columns): each level's strategic mix is penalized for moving away from its predecessor's long-horizon
    mix. `eligibility` decides which classes have a fund (default: `advisor.eligibility` defaults).
    """
    universe = _default_universe(universe)
    policy = policy or ModelPolicy()
    assumptions = assumptions or AssumptionConfig()
    eligibility = eligibility or EligibilityPolicy()
    prev = _previous_weights(previous)
    prev_key = hashlib.sha256(np.round(np.stack(list(prev.values())), 6).tobytes()).hexdigest() if prev else ""
    key = (universe.version, id(universe), policy.key(), assumptions.key(), prev_key, eligibility.key())
    found = _CACHE.get(key)
    if found is None:
        cma = estimate_assumptions(universe, assumptions)
        found = {}
        for level in LEVELS:
            available = available_classes(universe, level, eligibility)
            for horizon, model in _build_level(cma, policy, level, available, prev.get((level, "long"))).items():
                found[(level, horizon)] = model
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _previous_weights(previous: pd.DataFrame | None) -> dict[tuple[int, str], np.ndarray]:
    if previous is None or len(previous) == 0:
        return {}
    frame = previous.reset_index() if "level" not in previous.columns else previous
    missing = [c for c in ("level", "horizon", *CLASSES) if c not in frame.columns]
    if missing:
        raise BadInputError(f"previous models lack columns {missing}", details={"field": "previous"})
    out: dict[tuple[int, str], np.ndarray] = {}
    for row in frame.itertuples(index=False):
        level = parse_level(row.level, "previous.level")
        horizon = str(row.horizon)
        if horizon not in HORIZONS:
            raise BadInputError(f"previous model has unknown horizon {horizon!r}", details={"field": "horizon"})
        weights = np.array([float(getattr(row, c)) for c in CLASSES])
        if not np.all(np.isfinite(weights)) or abs(weights.sum() - 1.0) > 1e-3 or (weights < -1e-9).any():
            raise BadInputError(f"previous model C{level}/{horizon} weights must be ≥ 0 and sum to 1",
                                details={"field": "previous"})
        out[(level, horizon)] = weights
    return out


def _default_universe(universe: Universe | None) -> Universe:
    if universe is not None:
        return universe
    from products.loading import load_universe

    return load_universe(None)


def model_portfolio(level: int | str, horizon_years: float, *, universe: Universe | None = None,
                    policy: ModelPolicy | None = None, assumptions: AssumptionConfig | None = None,
                    previous: pd.DataFrame | None = None, eligibility: EligibilityPolicy | None = None
                    ) -> pd.Series:
    """Asset class → weight (sums to 1) of the model for `level` (C1–C5) and `horizon_years`."""
    lvl, bucket = parse_level(level), horizon_bucket(horizon_years)
    models = build_model_portfolios(universe, policy=policy, assumptions=assumptions, previous=previous,
                                    eligibility=eligibility)
    return models[(lvl, bucket)].weights.copy()


def model_portfolio_table(universe: Universe | None = None, *, policy: ModelPolicy | None = None,
                          assumptions: AssumptionConfig | None = None,
                          previous: pd.DataFrame | None = None,
                          eligibility: EligibilityPolicy | None = None) -> pd.DataFrame:
    """The 15 models as rows: level, horizon, the five class weights, risk assets, expected return /
    volatility, one-year CVaR 95%, the compounded historical max drawdown of the mix over the assumptions'
    history (None without history), the level's budget (max volatility, drawdown tolerance), the fallback
    step that answered, and the model version."""
    policy = policy or ModelPolicy()
    models = build_model_portfolios(universe, policy=policy, assumptions=assumptions, previous=previous,
                                    eligibility=eligibility)
    rows = []
    for (level, horizon), m in models.items():
        budget = policy.policies[level]
        rows.append({"level": f"C{level}", "level_name_zh": LEVEL_NAMES_ZH[level], "horizon": horizon,
                     **{c: float(m.weights[c]) for c in CLASSES}, "risk_assets": round(m.risk_assets, 6),
                     "expected_return": m.expected_return, "expected_volatility": m.expected_volatility,
                     "cvar_95": m.cvar_95, "hist_max_drawdown": m.historical_drawdown,
                     "max_volatility": budget.max_volatility, "max_drawdown": budget.max_drawdown,
                     "solver_step": m.report.answered_by, "model_version": MODEL_VERSION})
    return pd.DataFrame(rows)
