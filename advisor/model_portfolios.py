"""Strategic model portfolios: asset-class weights for each customer level C1–C5 × horizon bucket.

Each of the 15 models solves (cvxpy, Clarabel)::

    maximize   mu'w - (risk_aversion / 2) w' Sigma w - turnover_penalty * ||w - w_previous||_1
    subject to sum(w) = 1, lower <= w <= upper, cn_equity + global_equity <= equity cap,
               ||L'w|| <= max_volatility                       (Sigma = L L')
               z_95 ||L'w|| - mu'w <= max_cvar                 (one-year parametric CVaR 95%, normal)

with `mu`, `Sigma` from `advisor.assumptions`. Bounds come from the level (equity / global / gold caps)
and the horizon (cash floor, equity scale-down for short horizons). A class is only used at a level if
the universe has at least one open fund of that class at or below the level's R-limit, so a model never
asks for something the fund layer may not buy. The turnover penalty against the previous models keeps
them from jumping when the assumptions move a little.

Fallback chain per model: Clarabel → SCS → relax the risk budget (lowest-risk mix within the bounds) →
safe portfolio (all cash, or the least volatile available class). The step that answered is reported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from advisor import limits
from advisor.assumptions import CLASSES, AssumptionConfig, CapitalMarketAssumptions, estimate_assumptions
from advisor.fallback import FallbackReport, Note, Step, StepFailed, run_chain
from products.errors import BadInputError
from products.taxonomy import AssetClass
from products.universe import Universe
from risk.levels import CUSTOMER_LEVEL_NAMES_ZH

MODEL_VERSION = "mp-2026.11-1"
LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
HORIZONS: tuple[str, ...] = ("short", "medium", "long")
HORIZON_LABELS: dict[str, tuple[str, str]] = {
    "short": ("1年以内", "under 1 year"), "medium": ("1–3年", "1–3 years"), "long": ("3年以上", "over 3 years"),
}
LEVEL_NAMES_ZH = CUSTOMER_LEVEL_NAMES_ZH  # one list of level names (risk.levels)
EQUITY_CLASSES = (AssetClass.CN_EQUITY.value, AssetClass.GLOBAL_EQUITY.value)
TRADABLE_STATUS = ("open", "limited")


@dataclass(frozen=True)
class LevelBudget:
    """Risk budget and class caps of one customer level (yearly fractions)."""

    max_volatility: float
    max_cvar: float
    risk_aversion: float
    max_equity: float
    max_global: float
    max_gold: float
    max_bond: float = 1.0


@dataclass(frozen=True)
class HorizonRule:
    cash_floor: float
    equity_scale: float


DEFAULT_BUDGETS: Mapping[int, LevelBudget] = MappingProxyType({
    1: LevelBudget(0.010, 0.005, 40.0, 0.00, 0.00, 0.00, max_bond=0.50),
    2: LevelBudget(0.040, 0.030, 10.0, 0.15, 0.05, 0.05),
    3: LevelBudget(0.080, 0.080, 3.0, 0.45, 0.10, 0.08),
    4: LevelBudget(0.130, 0.150, 1.5, 0.70, 0.15, 0.10),
    5: LevelBudget(0.180, 0.250, 0.75, 0.90, 0.20, 0.12),
})
DEFAULT_HORIZONS: Mapping[str, HorizonRule] = MappingProxyType({
    "short": HorizonRule(cash_floor=0.30, equity_scale=0.30),
    "medium": HorizonRule(cash_floor=0.10, equity_scale=0.65),
    "long": HorizonRule(cash_floor=0.05, equity_scale=1.00),
})


@dataclass(frozen=True)
class ModelPolicy:
    budgets: Mapping[int, LevelBudget] = field(default_factory=lambda: DEFAULT_BUDGETS)
    horizons: Mapping[str, HorizonRule] = field(default_factory=lambda: DEFAULT_HORIZONS)
    turnover_penalty: float = 0.01  # utility per unit of one-way class turnover vs the previous model
    cvar_confidence: float = 0.95

    def key(self) -> tuple:
        return (tuple(sorted(self.budgets.items())), tuple(sorted(self.horizons.items())),
                self.turnover_penalty, self.cvar_confidence)


@dataclass(frozen=True, eq=False)
class ModelPortfolio:
    level: int
    horizon: str
    weights: pd.Series  # asset class -> weight, sums to 1
    expected_return: float
    expected_volatility: float
    cvar_95: float
    report: FallbackReport


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


def available_classes(universe: Universe, level: int) -> np.ndarray:
    """Bool per class (order `CLASSES`): the universe has an open fund of the class at R ≤ level."""
    funds = universe.funds
    ok = funds["status"].astype(str).isin(TRADABLE_STATUS).to_numpy() & (
        funds["risk_level"].to_numpy(dtype=float) <= level)
    classes = funds["asset_class"].astype(str).to_numpy()[ok]
    return np.array([c in set(classes) for c in CLASSES])


def _bounds(policy: ModelPolicy, level: int, horizon: str, available: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, float]:
    budget, rule = policy.budgets[level], policy.horizons[horizon]
    equity_cap = budget.max_equity * rule.equity_scale
    upper = np.array([1.0, budget.max_bond, equity_cap, min(budget.max_global, equity_cap), budget.max_gold])
    upper = np.where(available, upper, 0.0)
    lower = np.zeros(len(CLASSES))
    lower[0] = rule.cash_floor if available[0] else 0.0
    return lower, upper, equity_cap


def _solve_model(cma: CapitalMarketAssumptions, policy: ModelPolicy, level: int, horizon: str,
                 available: np.ndarray, previous: np.ndarray | None, solver: str, with_budget: bool) -> np.ndarray:
    budget = policy.budgets[level]
    lower, upper, equity_cap = _bounds(policy, level, horizon, available)
    mu = cma.expected_returns.reindex(list(CLASSES)).to_numpy()
    sigma = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()
    chol = np.linalg.cholesky(sigma + 1e-12 * np.eye(len(CLASSES)))
    import cvxpy as cp  # solver libraries load on first use (fast cold starts from the context cache)
    from scipy.stats import norm

    w = cp.Variable(len(CLASSES))
    risk = cp.norm(chol.T @ w, 2)
    utility = mu @ w - budget.risk_aversion / 2.0 * cp.sum_squares(chol.T @ w)
    if previous is not None:
        utility -= policy.turnover_penalty * cp.norm1(w - previous)
    eq_idx = [CLASSES.index(c) for c in EQUITY_CLASSES]
    constraints = [cp.sum(w) == 1, w >= lower, w <= upper, cp.sum(w[eq_idx]) <= equity_cap]
    if with_budget:
        z = float(norm.pdf(norm.ppf(policy.cvar_confidence)) / (1.0 - policy.cvar_confidence))
        constraints += [risk <= budget.max_volatility, z * risk - mu @ w <= budget.max_cvar]
        problem = cp.Problem(cp.Maximize(utility), constraints)
    else:  # relaxed: the least risky mix the bounds allow
        problem = cp.Problem(cp.Minimize(cp.sum_squares(chol.T @ w) - 1e-6 * (mu @ w)), constraints)
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


def _build_one(cma: CapitalMarketAssumptions, policy: ModelPolicy, level: int, horizon: str,
               available: np.ndarray, previous: np.ndarray | None) -> ModelPortfolio:
    steps = [
        Step("clarabel", lambda: _solve_model(cma, policy, level, horizon, available, previous, "CLARABEL", True)),
        Step("scs", lambda: _solve_model(cma, policy, level, horizon, available, previous, "SCS", True),
             Note("model_other_solver", "主求解器未收敛，已用备用求解器求解。",
                  "The primary solver failed; a second solver answered.")),
        Step("relaxed_risk_budget",
             lambda: _solve_model(cma, policy, level, horizon, available, None, "CLARABEL", False),
             Note("model_relaxed", "在给定配置约束下无法满足风险预算，已采用约束内风险最低的组合。",
                  "The risk budget cannot be met within the class bounds; the lowest-risk mix is used.")),
        Step("safe_portfolio", lambda: _safe_model(cma, available),
             Note("model_safe", "优化无解，已采用安全组合（现金类为主）。",
                  "No optimized mix was found; the documented safe portfolio (cash) is used.")),
    ]
    weights, report = run_chain(steps)
    mu = cma.expected_returns.reindex(list(CLASSES)).to_numpy()
    sigma = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()
    exp_ret = float(mu @ weights)
    vol = float(np.sqrt(max(weights @ sigma @ weights, 0.0)))
    from scipy.stats import norm

    z = float(norm.pdf(norm.ppf(policy.cvar_confidence)) / (1.0 - policy.cvar_confidence))
    return ModelPortfolio(level, horizon, pd.Series(weights, index=list(CLASSES)), exp_ret, vol,
                          z * vol - exp_ret, report)


_CACHE: dict[tuple, dict[tuple[int, str], ModelPortfolio]] = {}


def build_model_portfolios(universe: Universe | None = None, *, policy: ModelPolicy | None = None,
                           assumptions: AssumptionConfig | None = None,
                           previous: pd.DataFrame | None = None) -> dict[tuple[int, str], ModelPortfolio]:
    """All 15 models for `universe` (default: `load_universe()`), cached per universe and settings.

    `previous` is an earlier `model_portfolio_table` (or any frame with `level`, `horizon` and the class
    columns): each new model is penalized for moving away from its predecessor.
    """
    universe = _default_universe(universe)
    policy = policy or ModelPolicy()
    assumptions = assumptions or AssumptionConfig()
    prev = _previous_weights(previous)
    prev_key = hashlib.sha256(np.round(np.stack(list(prev.values())), 6).tobytes()).hexdigest() if prev else ""
    key = (universe.version, id(universe), policy.key(), assumptions.key(), prev_key)
    found = _CACHE.get(key)
    if found is None:
        cma = estimate_assumptions(universe, assumptions)
        found = {}
        for level in LEVELS:
            available = available_classes(universe, level)
            for horizon in HORIZONS:
                found[(level, horizon)] = _build_one(cma, policy, level, horizon, available,
                                                     prev.get((level, horizon)))
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
                    previous: pd.DataFrame | None = None) -> pd.Series:
    """Asset class → weight (sums to 1) of the model for `level` (C1–C5) and `horizon_years`."""
    lvl, bucket = parse_level(level), horizon_bucket(horizon_years)
    models = build_model_portfolios(universe, policy=policy, assumptions=assumptions, previous=previous)
    return models[(lvl, bucket)].weights.copy()


def _max_drawdown(history: pd.DataFrame, weights: pd.Series) -> float | None:
    """Max drawdown of the class mix over the assumptions' history (constant weights, daily rebalanced)."""
    cols = [c for c in CLASSES if c in history.columns]
    if history.empty or abs(float(weights[cols].sum()) - 1.0) > 1e-6:
        return None
    growth = np.cumprod(1.0 + history[cols].to_numpy() @ weights[cols].to_numpy())
    return float(min((growth / np.maximum(np.maximum.accumulate(growth), 1.0) - 1.0).min(), 0.0))


def model_portfolio_table(universe: Universe | None = None, *, policy: ModelPolicy | None = None,
                          assumptions: AssumptionConfig | None = None,
                          previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """The 15 models as rows: level, horizon, the five class weights, expected return / volatility,
    one-year CVaR 95%, the historical max drawdown of the mix over the assumptions' history (None when a
    class has no history), the fallback step that answered, and the model version."""
    models = build_model_portfolios(universe, policy=policy, assumptions=assumptions, previous=previous)
    universe = _default_universe(universe)
    history = estimate_assumptions(universe, assumptions or AssumptionConfig()).history
    rows = []
    for (level, horizon), m in models.items():
        rows.append({"level": f"C{level}", "level_name_zh": LEVEL_NAMES_ZH[level], "horizon": horizon,
                     **{c: float(m.weights[c]) for c in CLASSES},
                     "expected_return": m.expected_return, "expected_volatility": m.expected_volatility,
                     "cvar_95": m.cvar_95, "hist_max_drawdown": _max_drawdown(history, m.weights),
                     "solver_step": m.report.answered_by, "model_version": MODEL_VERSION})
    return pd.DataFrame(rows)
