"""Goal projections (目标规划) by Monte Carlo on the capital market assumptions, for one goal or millions.

A goal has a target amount and date, an amount already put aside, a monthly contribution and a level. Its
money is invested in the model portfolio of that level for the *remaining* horizon (a glide path: the
long-horizon model while more than three years remain, the 1–3-year model after that, the under-one-year
model in the last year — `advisor.model_portfolios.model_portfolio`, rebalanced monthly). Contributions
arrive at the start of every month. A liquidity reserve (活钱) is a goal of its own, held in cash.

Simulation (documented in docs/lifecycle.md):

* Monthly gross returns of the five asset classes are jointly lognormal, matched to the yearly arithmetic
  expected returns μ and covariance Σ of `advisor.assumptions.estimate_assumptions`: monthly log-returns
  have covariance S_ij = ln(1 + Σ_ij / ((1+μ_i)(1+μ_j))) / 12 and mean m_i = ln(1+μ_i)/12 − S_ii/2, so a
  year of them has exactly mean μ and covariance Σ. A model portfolio's monthly return is the weighted sum.
* Common random numbers: one fixed set of draws (`n_paths` × months) serves every goal, so two customers
  with the same inputs get the same answer, a change in inputs moves the answer smoothly, and a nightly
  run over millions shares the work. Draws are indexed by the number of months *remaining*, so a goal of
  T months uses draws T … 1 and the glide path depends only on that index: the growth of one yuan over
  the last T months, A_T = Π_{j≤T}(1 + R_j), and of one yuan paid in every month, B_T = Σ_{j≤T} A_j, are
  prefix products and sums computed once per level. A goal's wealth on path p is then
  W_p = initial · A_T,p + monthly · B_T,p.
* Probability = share of paths with W ≥ target; percentiles of W; on track when the probability is at
  least `target_probability` (75% by default).
* Advice that closes the gap, exact on the same paths: the monthly contribution that reaches the target
  on path p is c_p = (target − initial·A_T,p) / B_T,p, so the smallest contribution reaching the target
  probability is the matching order statistic of c_p; the extra months are the first longer horizon
  whose probability reaches it, looked for only as far as a wait worth offering (at most 10 years and
  three times the goal's horizon plus a year). Amounts are nominal yuan (no inflation adjustment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from advisor import limits
from advisor.assumptions import CLASSES, estimate_assumptions
from advisor.limits import MAX_HORIZON_YEARS
from advisor.model_portfolios import LEVEL_NAMES_ZH, horizon_bucket, model_portfolio, parse_level
from products.errors import BadInputError
from products.taxonomy import AssetClass
from products.universe import Universe

RESERVE = 0  # "level" of the liquidity reserve: all cash
MONTHS_PER_YEAR = 12
BUCKET_YEARS = {"short": 0.5, "medium": 2.0, "long": 5.0}
GOAL_KINDS = ("target", "reserve")


@dataclass(frozen=True)
class GoalSettings:
    n_paths: int = 2000
    seed: int = 20_261_204
    target_probability: float = 0.75
    max_years: int = int(MAX_HORIZON_YEARS)  # longest horizon (and horizon after extension) projected
    reserve_months: float = 6.0  # a liquidity reserve of this many months of expenses by default

    def __post_init__(self) -> None:
        if not 100 <= self.n_paths <= 100_000:
            raise BadInputError("n_paths must be between 100 and 100,000", details={"field": "n_paths"})
        if not 0.05 <= self.target_probability <= 0.99:
            raise BadInputError("target_probability must be between 5% and 99%",
                                details={"field": "target_probability"})

    @property
    def max_months(self) -> int:
        return self.max_years * MONTHS_PER_YEAR


@dataclass(frozen=True)
class Goal:
    """One goal; `level` 1–5, or 0 (`RESERVE`) for the liquidity reserve held in cash."""

    target: float
    months: int
    initial: float = 0.0
    monthly: float = 0.0
    level: int = 3
    name: str = ""

    @classmethod
    def build(cls, *, target: object, years: object = None, months: object = None, initial: object = 0.0,
              monthly: object = 0.0, level: object = 3, name: str = "", kind: str = "target",
              max_years: int = int(MAX_HORIZON_YEARS)) -> Goal:
        """Validate inputs a person typed (amounts and horizons within `advisor.limits`); errors name the field."""
        target_v = limits.money(target, "target")
        initial_v = limits.money(initial, "initial", allow_zero=True)
        monthly_v = limits.money(monthly, "monthly", allow_zero=True)
        if (years is None) == (months is None):
            raise BadInputError("give the horizon as years or as months", details={"field": "years"})
        if months is not None:
            months_v = int(_number(months, "months", low=1.0, high=max_years * MONTHS_PER_YEAR))
        else:
            years_v = limits.horizon_years(years, "years")
            months_v = max(1, round(years_v * MONTHS_PER_YEAR))
        if kind not in GOAL_KINDS:
            raise BadInputError(f"kind must be one of {', '.join(GOAL_KINDS)}", details={"field": "kind"})
        lvl = RESERVE if kind == "reserve" else parse_level(level)
        return cls(target=target_v, months=months_v, initial=initial_v, monthly=monthly_v, level=lvl, name=name)


def _number(value: object, field: str, low: float = -math.inf, high: float = math.inf) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadInputError(f"{field} must be a number", details={"field": field, "value": str(value)}) from None
    if not math.isfinite(number) or not low <= number <= high:
        limits = f"at least {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
        raise BadInputError(f"{field} must be {limits}", details={"field": field, "value": str(value)})
    return number


def months_until(as_of: date, target_date: date) -> int:
    """Whole months from `as_of` to `target_date` (at least 1 when the date is still ahead)."""
    months = (target_date.year - as_of.year) * 12 + (target_date.month - as_of.month)
    if target_date.day < as_of.day:
        months -= 1
    return max(months, 1 if target_date > as_of else 0)


# ---------------------------------------------------------------------------------------------
# the simulator
# ---------------------------------------------------------------------------------------------

class GoalSimulator:
    """Draws and per-level growth tables for one universe's assumptions and models (see module docstring)."""

    def __init__(self, universe: Universe, settings: GoalSettings | None = None):
        self.settings = settings or GoalSettings()
        self.universe = universe
        cma = estimate_assumptions(universe)
        self.assumptions = cma
        mu = cma.expected_returns.reindex(list(CLASSES)).to_numpy(dtype=float)
        cov = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy(dtype=float)
        gross = 1.0 + mu
        s = np.log1p(cov / np.outer(gross, gross)) / MONTHS_PER_YEAR
        m = np.log(gross) / MONTHS_PER_YEAR - np.diag(s) / 2.0
        chol = np.linalg.cholesky(s + 1e-14 * np.eye(len(CLASSES)))
        rng = np.random.default_rng(self.settings.seed)
        z = rng.standard_normal((self.settings.n_paths, self.settings.max_months, len(CLASSES)))
        self.class_returns = np.expm1(m + z @ chol.T)  # (paths, months remaining − 1, classes)
        self.bucket_of_month = np.array([horizon_bucket(j / MONTHS_PER_YEAR)
                                         for j in range(1, self.settings.max_months + 1)], dtype=object)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._weights: dict[tuple[int, str], np.ndarray] = {}

    def weights(self, level: int, bucket: str) -> np.ndarray:
        """Class weights (order `CLASSES`) of the model a goal of `level` holds in horizon `bucket`."""
        key = (level, bucket)
        if key not in self._weights:
            if level == RESERVE:
                w = np.zeros(len(CLASSES))
                w[CLASSES.index(AssetClass.CASH.value)] = 1.0
            else:
                series = model_portfolio(level, BUCKET_YEARS[bucket], universe=self.universe)
                w = series.reindex(list(CLASSES)).fillna(0.0).to_numpy(dtype=float)
            self._weights[key] = w
        return self._weights[key]

    def tables(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """(A, B), each (max_months + 1, paths), row T contiguous: growth of a lump sum and of 1 a month
        over the last T months."""
        if level not in self._tables:
            months = self.settings.max_months
            port = np.empty((self.settings.n_paths, months))
            for bucket in ("short", "medium", "long"):
                cols = np.flatnonzero(self.bucket_of_month == bucket)
                if len(cols):
                    port[:, cols] = self.class_returns[:, cols, :] @ self.weights(level, bucket)
            growth = np.cumprod(1.0 + port, axis=1)
            a = np.ascontiguousarray(np.hstack([np.ones((self.settings.n_paths, 1)), growth]).T)
            b = np.ascontiguousarray(np.hstack([np.zeros((self.settings.n_paths, 1)), np.cumsum(growth, axis=1)]).T)
            self._tables[level] = (a, b)
        return self._tables[level]

    def glide_path(self, level: int, months: int) -> list[dict[str, Any]]:
        """The models a goal of `months` holds, from now to the target date."""
        out = []
        for bucket, (lo, hi) in (("long", (36, None)), ("medium", (12, 36)), ("short", (0, 12))):
            start = 0 if hi is None else max(months - hi, 0)
            end = max(months - lo, 0)
            if end > start:
                w = self.weights(level, bucket)
                out.append({"from_month": start, "to_month": end, "horizon": bucket,
                            "weights": {c: round(float(x), 4) for c, x in zip(CLASSES, w, strict=True) if x > 0}})
        return out


_SIMULATORS: dict[tuple, GoalSimulator] = {}


def goal_simulator(universe: Universe, settings: GoalSettings | None = None) -> GoalSimulator:
    """The simulator of `universe` and `settings` (cached per universe version)."""
    settings = settings or GoalSettings()
    key = (universe.version, id(universe), settings)
    found = _SIMULATORS.get(key)
    if found is None:
        if len(_SIMULATORS) > 4:
            _SIMULATORS.clear()
        found = _SIMULATORS[key] = GoalSimulator(universe, settings)
    return found


# ---------------------------------------------------------------------------------------------
# many goals at once
# ---------------------------------------------------------------------------------------------

def project_many(sim: GoalSimulator, level: np.ndarray, months: np.ndarray, initial: np.ndarray,
                 monthly: np.ndarray, target: np.ndarray, *, percentiles: bool = False,
                 advice: bool = False, chunk: int = 256) -> dict[str, np.ndarray]:
    """Probability and on-track flag per goal (optionally p10/p50/p90 and the advice), vectorized by level."""
    n = len(level)
    level = np.asarray(level, dtype=np.int64)
    months = np.clip(np.asarray(months, dtype=np.int64), 0, sim.settings.max_months)
    initial, monthly, target = (np.asarray(x, dtype=float) for x in (initial, monthly, target))
    p_star = sim.settings.target_probability
    out: dict[str, np.ndarray] = {"probability": np.full(n, np.nan)}
    if percentiles:
        for q in ("p10", "p50", "p90"):
            out[q] = np.full(n, np.nan)
    if advice:
        out["required_monthly"] = np.full(n, np.nan)
        out["extra_months"] = np.full(n, np.nan)
    due = months == 0  # the date has come: what is there is what there is
    out["probability"][due] = (initial[due] >= target[due]).astype(float)
    k = math.ceil(p_star * sim.settings.n_paths) - 1
    for lvl in np.unique(level[~due]):
        a, b = sim.tables(int(lvl))
        rows = np.flatnonzero((level == lvl) & ~due)
        out["probability"][rows] = reaching(a, b, months[rows], initial[rows], monthly[rows], target[rows]) / a.shape[1]
        if percentiles or advice:
            for lo in range(0, len(rows), chunk):
                part = rows[lo:lo + chunk]
                a_t = a[months[part]]  # (goals, paths)
                b_t = b[months[part]]
                if percentiles:
                    wealth = initial[part, None] * a_t
                    wealth += monthly[part, None] * b_t
                    q = np.percentile(wealth, [10, 50, 90], axis=1)
                    out["p10"][part], out["p50"][part], out["p90"][part] = q
                if advice:
                    need = (target[part, None] - initial[part, None] * a_t) / b_t
                    # advice is money a person pays: rounded UP to the cent, so paying it reaches the bar
                    exact = np.maximum(np.partition(need, k, axis=1)[:, k], 0.0)
                    out["required_monthly"][part] = np.ceil(exact * 100.0 * (1.0 + 1e-12)) / 100.0
        if advice:
            out["extra_months"][rows] = _extra_months(a, b, months[rows], initial[rows], monthly[rows],
                                                      target[rows], p_star)
    out["on_track"] = out["probability"] >= p_star
    return out


BLOCK = 64  # goals per block of (goals × paths) work: small enough to stay in the CPU cache (5–10× faster)


def reaching(a: np.ndarray, b: np.ndarray, months: np.ndarray, initial: np.ndarray, monthly: np.ndarray,
             target: np.ndarray) -> np.ndarray:
    """Per goal, the number of paths whose wealth initial · A_T + monthly · B_T reaches the target."""
    n, paths = len(months), a.shape[1]
    out = np.empty(n, dtype=np.int64)
    wa, wb = np.empty((BLOCK, paths)), np.empty((BLOCK, paths))
    hit = np.empty((BLOCK, paths), dtype=bool)
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        m = hi - lo
        np.take(a, months[lo:hi], axis=0, out=wa[:m])
        np.take(b, months[lo:hi], axis=0, out=wb[:m])
        wa[:m] *= initial[lo:hi, None]
        wb[:m] *= monthly[lo:hi, None]
        wa[:m] += wb[:m]
        np.greater_equal(wa[:m], target[lo:hi, None], out=hit[:m])
        out[lo:hi] = np.count_nonzero(hit[:m], axis=1)
    return out


def _extra_months(a: np.ndarray, b: np.ndarray, months: np.ndarray, initial: np.ndarray, monthly: np.ndarray,
                  target: np.ndarray, p_star: float) -> np.ndarray:
    """Smallest extra months reaching `p_star` with the same contributions, searched up to the longest delay
    worth offering (`longest_delay`; NaN when that does not reach it either). The probability grows with the
    horizon on almost every path (a month more adds its return and a contribution), so a bisection over the
    horizon finds the boundary: the month before the answer was evaluated below `p_star` (or is the goal's
    own date)."""
    max_t = a.shape[0] - 1
    start = months.astype(np.int64)
    last = np.minimum(start + longest_delay(start).astype(np.int64), max_t)
    reachable = _reaches(a, b, last, initial, monthly, target, p_star)
    best = _bisect(a, b, start, last, initial, monthly, target, p_star, rows=np.flatnonzero(reachable))
    return np.where(reachable, (best - months).astype(float), np.nan)


def _reaches(a: np.ndarray, b: np.ndarray, t: np.ndarray, initial: np.ndarray, monthly: np.ndarray,
             target: np.ndarray, p_star: float) -> np.ndarray:
    return reaching(a, b, t, initial, monthly, target) / a.shape[1] >= p_star


def _bisect(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, initial: np.ndarray, monthly: np.ndarray,
            target: np.ndarray, p_star: float, rows: np.ndarray | None = None) -> np.ndarray:
    """Per goal, the horizon in (lo, hi] where the probability first reaches `p_star`, by bisection (taking
    it below `p_star` at lo and reaching it at hi)."""
    lo, hi = lo.astype(np.int64).copy(), hi.astype(np.int64).copy()
    rows = np.arange(len(lo)) if rows is None else rows
    rows = rows[hi[rows] - lo[rows] > 1]
    while len(rows):
        mid = (lo[rows] + hi[rows]) // 2
        ok = _reaches(a, b, mid, initial[rows], monthly[rows], target[rows], p_star)
        hi[rows[ok]] = mid[ok]
        lo[rows[~ok]] = mid[~ok]
        rows = rows[hi[rows] - lo[rows] > 1]
    return hi


# ---------------------------------------------------------------------------------------------
# one goal, as a customer reads it
# ---------------------------------------------------------------------------------------------

def required_return(goal: Goal) -> float | None:
    """The steady yearly return that turns the initial amount and contributions into the target."""
    from scipy.optimize import brentq

    def shortfall(r: float) -> float:
        g = (1.0 + r) ** (1.0 / MONTHS_PER_YEAR)
        grow = g ** goal.months
        annuity = goal.monthly * (grow - 1.0) / (g - 1.0) * g if abs(g - 1.0) > 1e-12 else goal.monthly * goal.months
        return goal.initial * grow + annuity - goal.target

    if goal.initial + goal.monthly <= 0:
        return None
    if shortfall(-0.5) > 0:
        return -0.5
    if shortfall(1.0) < 0:
        return None
    return float(brentq(shortfall, -0.5, 1.0, xtol=1e-10))


def project_goal(universe: Universe, goal: Goal, settings: GoalSettings | None = None) -> dict[str, Any]:
    """The projection of one goal (the CLI's and the API's JSON): probability, percentiles, advice, fan chart."""
    sim = goal_simulator(universe, settings)
    one = project_many(sim, np.array([goal.level]), np.array([goal.months]), np.array([goal.initial]),
                       np.array([goal.monthly]), np.array([goal.target]), percentiles=True, advice=True)
    probability = float(one["probability"][0])
    required = float(one["required_monthly"][0])
    extra_months = one["extra_months"][0]
    on_track = bool(one["on_track"][0])
    a, b = sim.tables(goal.level)
    fan = _fan(a, b, goal)
    paid_in = goal.initial + goal.monthly * goal.months
    p_star = sim.settings.target_probability
    result: dict[str, Any] = {
        "name": goal.name, "kind": "reserve" if goal.level == RESERVE else "target",
        "level": None if goal.level == RESERVE else f"C{goal.level}",
        "target": round(goal.target, 2), "months": goal.months, "years": round(goal.months / 12, 2),
        "initial": round(goal.initial, 2), "monthly": round(goal.monthly, 2), "paid_in": round(paid_in, 2),
        "probability": round(probability, 4), "target_probability": p_star, "on_track": on_track,
        "required_monthly": round(required, 2),
        "extra_monthly": round(max(required - goal.monthly, 0.0), 2),
        "extra_months": (int(extra_months) if not on_track and bool(delay_worth_offering(extra_months, goal.months))
                         else None),
        "required_return": _round(required_return(goal)),
        "model_expected_return": round(float(sim.weights(goal.level, horizon_bucket(goal.months / MONTHS_PER_YEAR))
                                             @ sim.assumptions.expected_returns.reindex(list(CLASSES)).to_numpy()), 4),
        "percentiles": {k: round(float(one[k][0]), 2) for k in ("p10", "p50", "p90")},
        "fan": fan, "glide_path": sim.glide_path(goal.level, goal.months),
        "assumptions": {"as_of": str(sim.assumptions.as_of), "n_paths": sim.settings.n_paths,
                        "seed": sim.settings.seed, "universe_version": universe.version,
                        "monthly_contributions": "start of each month", "amounts": "nominal yuan"},
    }
    result.update(explain_goal(result))
    return result


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _fan(a: np.ndarray, b: np.ndarray, goal: Goal) -> list[dict[str, float]]:
    """p10 / p50 / p90 of the goal's wealth at the end of each year (and at the target date)."""
    t_total = goal.months
    points = sorted({*range(12, t_total, 12), t_total})
    out = []
    for elapsed in points:
        rest = t_total - elapsed
        wealth = (goal.initial * a[t_total] + goal.monthly * (b[t_total] - b[rest])) / a[rest]
        p10, p50, p90 = np.percentile(wealth, [10, 50, 90])
        out.append({"month": elapsed, "p10": round(float(p10), 2), "p50": round(float(p50), 2),
                    "p90": round(float(p90), 2)})
    return out


def _yuan(x: float) -> str:
    return f"¥{x:,.0f}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


MAX_DELAY_MONTHS = 120


def delay_worth_offering(extra_months: Any, months: Any) -> Any:
    """A later date is advice only when it is a reasonable wait: at most 10 years, and at most three times the
    goal's own horizon plus a year. (A ¥1,000,000 goal in 3 years that would need 43 more years, or a cash
    reserve with no contributions that would need 9 years of interest, is closed by contributions, not by
    waiting.) The one rule for the projection and the off-track alert."""
    extra = np.asarray(extra_months, dtype=float)
    return np.isfinite(extra) & (extra > 0) & (np.nan_to_num(extra) <= longest_delay(months))  # element-wise


def longest_delay(months: Any) -> Any:
    """The longest later date worth offering, in extra months, of goals `months` away (`delay_worth_offering`)."""
    return np.minimum(MAX_DELAY_MONTHS, 3 * np.asarray(months, dtype=float) + 12)


def _duration_zh(months: int) -> str:
    years, rest = divmod(months, 12)
    return (f"{years}年" if years else "") + (f"{rest}个月" if rest else "") or "0个月"


def _duration_en(months: int) -> str:
    years, rest = divmod(months, 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if rest:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " ".join(parts) or "0 months"


def explain_goal(r: dict[str, Any]) -> dict[str, str]:
    """Plain zh / en sentences: the chance, the likely range, and what closes the gap."""
    name_zh = f"「{r['name']}」" if r["name"] else ""
    name_en = f" “{r['name']}”" if r["name"] else ""
    level = r["level"]
    where_zh = "活钱（货币基金）" if level is None else f"{level}（{LEVEL_NAMES_ZH[int(level[1])]}）模型组合"
    where_en = "cash (money-market funds)" if level is None else f"the {level} model portfolio"
    p = r["percentiles"]
    zh = [f"目标{name_zh}：{_duration_zh(r['months'])}后达到{_yuan(r['target'])}。按{where_zh}和资本市场假设模拟，"
          f"达成概率约{_pct(r['probability'])}；中间情形约{_yuan(p['p50'])}，较差情形（10%分位）约{_yuan(p['p10'])}，"
          f"较好情形（90%分位）约{_yuan(p['p90'])}。"]
    en = [f"Goal{name_en}: {_yuan(r['target'])} in {_duration_en(r['months'])}. Simulated on {where_en} and our "
          f"capital market assumptions, the chance of reaching it is about {_pct(r['probability'])}; the middle "
          f"outcome is about {_yuan(p['p50'])}, a poor one (10th percentile) {_yuan(p['p10'])}, a good one (90th "
          f"percentile) {_yuan(p['p90'])}."]
    target_p = _pct(r["target_probability"])
    if r["on_track"]:
        zh.append(f"目前进度正常（达成概率不低于{target_p}）。")
        en.append(f"The goal is on track (at least a {target_p} chance).")
    else:
        options_zh, options_en = [], []
        if r["extra_monthly"] > 0:
            in_all = r["required_monthly"] > r["extra_monthly"] + 0.005  # only when something is paid in already
            options_zh.append(f"每月多投入{_yuan(r['extra_monthly'])}" + (f"（每月共{_yuan(r['required_monthly'])}）"
                                                                      if in_all else ""))
            options_en.append(f"add {_yuan(r['extra_monthly'])} a month" + (f" ({_yuan(r['required_monthly'])} in all)"
                                                                         if in_all else ""))
        if r["extra_months"]:
            options_zh.append(f"把目标日期推后{_duration_zh(r['extra_months'])}")
            options_en.append(f"move the date {_duration_en(r['extra_months'])} later")
        zh.append(f"目前进度落后：要把达成概率提高到{target_p}，可以" + "，或".join(options_zh) + "。")
        en.append(f"The goal is off track: to reach a {target_p} chance, " + ", or ".join(options_en) + ".")
    if level is not None and r["required_return"] is not None and r["required_return"] > r["model_expected_return"]:
        zh.append(f"按现在的投入，需要每年约{_pct(r['required_return'])}的收益，高于该模型组合的预期年化收益"
                  f"（约{_pct(r['model_expected_return'])}）；我们不会为追求目标而超出您的风险等级。")
        en.append(f"With today's contributions it needs about {_pct(r['required_return'])} a year, more than the model "
                  f"portfolio is expected to earn (about {_pct(r['model_expected_return'])}); we do not go beyond "
                  "your risk level to chase it.")
    zh.append("模拟结果不构成收益承诺。")
    en.append("Simulations are not a promise of returns.")
    return {"explanation_zh": "".join(zh), "explanation_en": " ".join(en)}
