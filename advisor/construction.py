"""Fund weights that meet the class targets: a small QP compiled once per universe and problem shape.

For the selected funds (padded to a fixed number of slots) the problem is::

    minimize   w' Sigma w + alpha ||w - anchor||^2 - beta * score' w
    subject to M w = t                     (class targets from the model portfolio)
               0 <= w <= u                 (u = 0 for empty / dropped slots; one fund ≤ 60% of its class)
               f' w <= focused_total_cap   (sector and theme funds together; each one ≤ focused_fund_cap via u)
               E' w <= industry_cap        (look-through: SW level-1 industry exposure of the portfolio)
               S' w <= stock_cap           (look-through: single-stock exposure through all funds)

`Sigma` is the Ledoit–Wolf-shrunk covariance of the funds' last three years of daily returns (entered as
its Cholesky factor F, ``w'Sigma w = ||F w||^2``), `anchor` splits each class target equally over the
class's funds (diversification), and `score` is the leaderboard score / 100 (quality tilt). Every input
is a cvxpy `Parameter`, the problem is DPP, so cvxpy compiles it once per (slots, industries, stocks)
shape and each request only re-fills parameters and calls the solver — see `CompiledConstruction`.

Before solving, a class target no active fund can carry moves to the class that stands in for it
(`SUBSTITUTES`: global ↔ A-share equity, gold → bonds, cash ↔ bonds): a class with no active fund, or one
whose funds are all sector / theme funds holding less than the target under their caps.

Fallback chain per solve: compiled Clarabel → compiled OSQP (tight tolerances) → relax the soft
constraints (drop look-through caps and the single-fund cap; the sector / theme caps stay: they are
policy) → safe portfolio (each class target split equally over its funds, sector / theme funds capped).
`ConstructionResult.report` says which step answered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.assumptions import CLASSES
from advisor.fallback import Attempt, FallbackReport, Note, Step, StepFailed, run_chain
from advisor.selection import Selection
from products.research import fund_look_through
from products.taxonomy import asset_class_name
from products.universe import Universe

COV_WINDOW_DAYS = 756
CLARABEL_SETTINGS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}
OSQP_SETTINGS = {"eps_abs": 1e-10, "eps_rel": 1e-10, "polishing": True, "max_iter": 200_000}
K = len(CLASSES)
# where a class target goes when the class cannot take it, in order of preference: equity for equity,
# else the defensive classes; with none of these open, the safest open class (`SAFEST_FIRST`)
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    "cash": ("bond",), "bond": ("cash",), "cn_equity": ("global_equity", "bond", "cash"),
    "global_equity": ("cn_equity", "bond", "cash"), "gold": ("bond", "cash"),
}
SAFEST_FIRST: tuple[str, ...] = ("cash", "bond", "gold", "cn_equity", "global_equity")


@dataclass(frozen=True)
class ConstructionPolicy:
    alpha: float = 0.2  # pull toward equal weights inside a class
    beta: float = 0.01  # tilt toward higher leaderboard scores
    max_fund_share: float = 0.6  # of its class target, when the class has two or more funds
    industry_cap: float | None = 0.25  # of the whole portfolio, per SW level-1 industry; None = off
    stock_cap: float | None = 0.05  # of the whole portfolio, per stock; None = off

    def key(self) -> tuple:
        return (self.alpha, self.beta, self.max_fund_share, self.industry_cap, self.stock_cap)


_NO_CAP = 10.0  # a cap no exposure reaches (weights sum to 1)


@dataclass(frozen=True, eq=False)
class SelectionData:
    """Per-universe, per-selection arrays padded to the compiled shape (built once, shared)."""

    n_slots: int
    n_funds: int
    factor: np.ndarray  # (n, n) upper Cholesky factor of the annual covariance
    membership: np.ndarray  # (K, n) 0/1
    score: np.ndarray  # (n,) 0–1
    industry: np.ndarray  # (n, g) fraction of NAV per SW L1 industry
    industry_names: tuple[str, ...]
    stock: np.ndarray  # (n, h) fraction of NAV per stock
    covariance: np.ndarray  # (n, n)
    focused: np.ndarray  # (n,) 1.0 for a sector or theme fund, else 0.0
    focused_fund_cap: float = 1.0
    focused_total_cap: float = 1.0


@dataclass(frozen=True, eq=False)
class ConstructionResult:
    weights: np.ndarray  # (n_funds,) sums to 1, order of the selection
    targets: np.ndarray  # (K,) effective class targets after moving empty classes
    report: FallbackReport


def _pad(n: int, multiple: int) -> int:
    return max(multiple, int(np.ceil(n / multiple)) * multiple)


def fund_covariance(universe: Universe, positions: np.ndarray) -> np.ndarray:
    """Annualized Ledoit–Wolf covariance of the funds' daily returns over the last three years
    (missing days count as zero return once a fund has started)."""
    if len(positions) == 0:
        return np.zeros((0, 0))
    block = universe.returns.iloc[-COV_WINDOW_DAYS:, positions]
    started = block.notna().cummax()
    values = block.where(~started | block.notna(), 0.0).dropna(how="any").to_numpy(dtype=float)
    if len(values) < 60:
        values = universe.returns.iloc[:, positions].fillna(0.0).to_numpy(dtype=float)
    from sklearn.covariance import ledoit_wolf  # solver libraries load on first use (fast cold starts)

    cov, _ = ledoit_wolf(values)
    return cov * 252.0


def exposures(universe: Universe, codes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fund × SW L1 industry, fund × stock) fractions of NAV from each fund's latest disclosed top-10
    holdings (`products.research.fund_look_through`). Buckets that are not an industry (undisclosed,
    non-stock, HK / overseas) are not capped and left out."""
    industries, top = fund_look_through(universe, codes)
    sw_l1 = set(universe.stock_industry["sw_l1"].dropna().astype(str))
    industries = industries[[c for c in industries.columns if str(c) in sw_l1]].reindex(codes).fillna(0.0)
    if top.empty:
        return industries, pd.DataFrame(index=codes, dtype=float)
    stocks = top.pivot_table(index="code", columns="stock_code", values="weight", aggfunc="sum")
    return industries, stocks.reindex(codes).fillna(0.0)


def prepare(universe: Universe, selection: Selection, n_slots: int) -> SelectionData:
    """Arrays for one selection, padded to `n_slots` (empty slots have zero rows / columns)."""
    n = len(selection)
    if n > n_slots:
        raise ValueError("selection larger than the compiled shape")
    codes = [str(universe.funds.index[p]) for p in selection.representative]
    cov = fund_covariance(universe, selection.representative)
    factor = np.zeros((n_slots, n_slots))
    if n:
        chol = np.linalg.cholesky(cov + 1e-10 * np.eye(n))
        factor[:n, :n] = chol.T
    membership = np.zeros((K, n_slots))
    for i, cls in enumerate(selection.asset_class):
        membership[CLASSES.index(str(cls)), i] = 1.0
    score = np.zeros(n_slots)
    score[:n] = np.clip(np.nan_to_num(selection.score) / 100.0, 0.0, 1.0)
    industries, stocks = exposures(universe, codes) if n else (pd.DataFrame(), pd.DataFrame())
    ind = np.zeros((n_slots, industries.shape[1]))
    ind[:n] = industries.to_numpy(dtype=float) if n else 0.0
    stk = np.zeros((n_slots, stocks.shape[1]))
    stk[:n] = stocks.to_numpy(dtype=float) if n else 0.0
    full_cov = np.zeros((n_slots, n_slots))
    full_cov[:n, :n] = cov
    focused = np.zeros(n_slots)
    focused[:n] = np.asarray(selection.focused, dtype=float) if len(selection.focused) == n else 0.0
    return SelectionData(n_slots, n, factor, membership, score, ind, tuple(map(str, industries.columns)), stk,
                         full_cov, focused, float(selection.focused_fund_cap), float(selection.focused_total_cap))


class CompiledConstruction:
    """The construction QP as a DPP cvxpy problem with Parameters, compiled once per shape.

    A compiled problem holds mutable parameter state: one instance per worker thread (see `compiled`).
    """

    def __init__(self, n_slots: int, n_industries: int, n_stocks: int, alpha: float):
        import cvxpy as cp

        self.shape = (n_slots, n_industries, n_stocks)
        self.alpha = alpha
        n, g, h = self.shape
        self.factor = cp.Parameter((n, n), name="factor")
        self.membership = cp.Parameter((K, n), name="membership")
        self.targets = cp.Parameter(K, name="targets")
        self.upper = cp.Parameter(n, nonneg=True, name="upper")
        self.linear = cp.Parameter(n, name="linear")  # -2 alpha anchor - beta score
        self.industry = cp.Parameter((n, g), name="industry")
        self.industry_cap = cp.Parameter(g, name="industry_cap")
        self.stock = cp.Parameter((n, h), name="stock")
        self.stock_cap = cp.Parameter(h, name="stock_cap")
        self.focused = cp.Parameter(n, nonneg=True, name="focused")
        self.focused_cap = cp.Parameter(nonneg=True, name="focused_cap")
        self.w = cp.Variable(n, name="w")
        w = self.w
        # alpha ||w - anchor||^2 = alpha ||w||^2 - 2 alpha anchor'w + const: the anchor goes into `linear`
        objective = cp.Minimize(cp.sum_squares(self.factor @ w) + alpha * cp.sum_squares(w) + self.linear @ w)
        base = [self.membership @ w == self.targets, w >= 0, w <= self.upper, self.focused @ w <= self.focused_cap]
        self.strict = cp.Problem(objective, [*base, self.industry.T @ w <= self.industry_cap,
                                             self.stock.T @ w <= self.stock_cap])
        self.relaxed = cp.Problem(objective, base)
        if not (self.strict.is_dpp() and self.relaxed.is_dpp()):
            raise AssertionError("construction problem must be DPP")

    def load(self, data: SelectionData, values: dict[str, np.ndarray | float]) -> None:
        n, g, h = self.shape
        self.factor.value = data.factor
        self.membership.value = data.membership
        ind = np.zeros((n, g))
        ind[:, : data.industry.shape[1]] = data.industry
        stk = np.zeros((n, h))
        stk[:, : data.stock.shape[1]] = data.stock
        self.industry.value = ind
        self.stock.value = stk
        self.focused.value = data.focused
        self.focused_cap.value = data.focused_total_cap
        for name, value in values.items():
            getattr(self, name).value = value

    def solve(self, solver: str, relaxed: bool = False) -> np.ndarray:
        import cvxpy as cp

        problem = self.relaxed if relaxed else self.strict
        kwargs = OSQP_SETTINGS if solver == "OSQP" else CLARABEL_SETTINGS
        problem.solve(solver=solver, warm_start=False, **kwargs)
        if problem.status not in (cp.OPTIMAL,) or self.w.value is None:
            raise StepFailed(f"{solver}: {problem.status}")
        return np.asarray(self.w.value, dtype=float)


_LOCAL = threading.local()


def compiled(n_slots: int, n_industries: int, n_stocks: int, alpha: float) -> CompiledConstruction:
    """This thread's compiled problem for the shape (compiled on first use, then reused)."""
    cache: dict[tuple, CompiledConstruction] = _LOCAL.__dict__.setdefault("problems", {})
    key = (n_slots, n_industries, n_stocks, alpha)
    if key not in cache:
        cache[key] = CompiledConstruction(*key)
    return cache[key]


def problem_shape(data: SelectionData) -> tuple[int, int, int]:
    return data.n_slots, _pad(data.industry.shape[1], 16), _pad(data.stock.shape[1], 64)


def class_capacity(data: SelectionData, active: np.ndarray) -> np.ndarray:
    """(K,) the most each class can hold with its active funds: unlimited (1) when it has a broad fund,
    else its sector / theme funds' caps (per fund, and in total), 0 without an active fund."""
    n = data.n_funds
    member = data.membership[:, :n] * active[None, :].astype(float)
    focused = data.focused[:n] > 0.5
    broad = member @ (~focused).astype(float)
    narrow = member @ focused.astype(float)
    capped = np.minimum(narrow * data.focused_fund_cap, data.focused_total_cap)
    return np.where(broad > 0, 1.0, capped)


def effective_targets(targets: np.ndarray, data: SelectionData, active: np.ndarray
                      ) -> tuple[np.ndarray, list[Note]]:
    """Move what a class cannot hold (no active fund, or only capped sector / theme funds) to its first
    substitute that can (`SUBSTITUTES`), else to the safest class that can (`SAFEST_FIRST`); with a note."""
    t = np.asarray(targets, dtype=float).copy()
    active = np.asarray(active, dtype=bool)
    capacity = class_capacity(data, active)
    offered = class_capacity(data, np.ones(data.n_funds, dtype=bool))  # before the caller's line plan
    focused_left = data.focused_total_cap
    notes: list[Note] = []
    moves: list[tuple[int, int, float]] = []
    for k in np.argsort(-t, kind="stable"):
        if t[k] <= 1e-9:
            continue
        room = capacity[k] if capacity[k] >= 1.0 else min(capacity[k], focused_left)
        if capacity[k] < 1.0:
            focused_left -= min(t[k], room)
        excess = t[k] - room
        if excess <= 1e-9:
            continue
        sinks = [CLASSES.index(c) for c in (*SUBSTITUTES[CLASSES[k]], *SAFEST_FIRST)
                 if CLASSES.index(c) != k and capacity[CLASSES.index(c)] >= 1.0]
        if not sinks:
            continue
        t[k] -= excess
        t[sinks[0]] += excess
        moves.append((int(k), sinks[0], excess))
    for k, sink, moved in moves:
        if capacity[k] <= 0 < offered[k]:
            continue  # the selection has a fund here, closed by the caller's line plan: its own note says why
        src_zh, dst_zh = asset_class_name(CLASSES[k], "zh"), asset_class_name(CLASSES[sink], "zh")
        src_en, dst_en = asset_class_name(CLASSES[k], "en"), asset_class_name(CLASSES[sink], "en")
        why_zh = "暂无符合您风险等级的可选基金" if capacity[k] <= 0 else "只有行业/主题基金，受单只及合计上限约束"
        why_en = "has no eligible fund at your risk level" if capacity[k] <= 0 else \
            "has only sector or theme funds, which are capped"
        notes.append(Note("class_moved", f"{src_zh}{why_zh}，其{moved:.1%}的目标比例已转入{dst_zh}。",
                          f"{src_en[:1].upper()}{src_en[1:]} {why_en}; {moved:.1%} of the portfolio moved to "
                          f"{dst_en}."))
    return t, notes


def _parameters(data: SelectionData, targets: np.ndarray, active: np.ndarray, policy: ConstructionPolicy,
                shape: tuple[int, int, int]) -> tuple[dict[str, np.ndarray | float], np.ndarray, np.ndarray]:
    n, g, h = shape
    act = np.zeros(n, dtype=bool)
    act[: data.n_funds] = active
    member = data.membership * act[None, :]
    counts = member.sum(axis=1)
    fund_class = np.argmax(data.membership, axis=0)
    class_target = np.where(act, targets[fund_class], 0.0)
    class_count = np.where(act, counts[fund_class], 1.0)
    share = np.where(class_count >= 2, policy.max_fund_share, 1.0)
    focus_cap = np.where(data.focused > 0.5, data.focused_fund_cap, np.inf)
    upper = np.where(act, np.minimum(class_target * share, focus_cap), 0.0)
    anchor = np.where(act, class_target / np.maximum(class_count, 1.0), 0.0)
    ind_cap = np.full(g, _NO_CAP)
    if policy.industry_cap is not None:
        ind_cap[: data.industry.shape[1]] = policy.industry_cap
    stk_cap = np.full(h, _NO_CAP)
    if policy.stock_cap is not None:
        stk_cap[: data.stock.shape[1]] = policy.stock_cap
    values: dict[str, np.ndarray | float] = {
        "targets": targets, "upper": upper, "linear": -2.0 * policy.alpha * anchor - policy.beta * data.score * act,
        "industry_cap": ind_cap, "stock_cap": stk_cap,
    }
    relaxed_upper = np.where(act, np.minimum(class_target, focus_cap), 0.0)
    return values, relaxed_upper, anchor


def construct(data: SelectionData, targets: np.ndarray, active: np.ndarray | None = None,
              policy: ConstructionPolicy | None = None) -> ConstructionResult:
    """Fund weights for class `targets` over the selection's `active` funds, through the fallback chain."""
    policy = policy or ConstructionPolicy()
    active = np.ones(data.n_funds, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    t, notes = effective_targets(targets, data, active)
    if data.n_funds == 0 or not active.any() or t.sum() <= 0:
        raise StepFailed("no fund to construct from")
    direct = _direct(data, t, active, policy)
    if direct is not None:  # one fund per class: the weights are the class targets, nothing to optimize
        return ConstructionResult(direct, t, FallbackReport("direct", (Attempt("direct", True),), tuple(notes)))
    shape = problem_shape(data)
    values, relaxed_upper, _ = _parameters(data, t, active, policy, shape)
    problem = compiled(*shape, policy.alpha)

    def run(solver: str, relaxed: bool) -> np.ndarray:
        problem.load(data, values if not relaxed else {**values, "upper": relaxed_upper})
        return problem.solve(solver, relaxed)

    steps = [
        Step("compiled_clarabel", lambda: run("CLARABEL", False)),
        Step("compiled_osqp", lambda: run("OSQP", False),
             Note("construction_other_solver", "主求解器未收敛，已用备用求解器求解。",
                  "The primary solver failed; a second solver answered.")),
        Step("relaxed_soft_constraints", lambda: run("CLARABEL", True),
             Note("construction_relaxed", "行业/个股穿透上限与单只基金上限无法同时满足，已放宽这些软约束"
                                          "（行业/主题基金上限保持不变）。",
                  "Look-through and single-fund caps could not all be met; these soft limits were relaxed (the "
                  "sector and theme fund caps stay).")),
        Step("safe_equal_split", lambda: _equal_split(data, t, active),
             Note("construction_safe", "优化无解，已在各大类内等权分配。",
                  "No optimized weights were found; each class target is split equally over its funds.")),
    ]
    raw, report = run_chain(steps, notes)
    w = np.clip(raw[: data.n_funds], 0.0, None) * active
    w[w < 1e-7] = 0.0
    w = w / w.sum()
    return ConstructionResult(w, t, report)


def _direct(data: SelectionData, targets: np.ndarray, active: np.ndarray, policy: ConstructionPolicy
            ) -> np.ndarray | None:
    """Weights = class targets when every class with a target has exactly one active fund and the caps
    (sector / theme, look-through) hold; None otherwise (the QP decides)."""
    n = data.n_funds
    member = data.membership[:, :n] * active[None, :]
    counts = member.sum(axis=1)
    if np.any((targets > 1e-12) & (counts != 1)):
        return None
    w = member.T @ np.where(counts == 1, targets, 0.0)
    focused = data.focused[:n] > 0.5
    tol = 1e-9
    if np.any(w[focused] > data.focused_fund_cap + tol) or w[focused].sum() > data.focused_total_cap + tol:
        return None
    if policy.industry_cap is not None and data.industry.shape[1] and \
            np.any(data.industry[:n].T @ w > policy.industry_cap + tol):
        return None
    if policy.stock_cap is not None and data.stock.shape[1] and np.any(data.stock[:n].T @ w > policy.stock_cap + tol):
        return None
    return w / w.sum()


def _equal_split(data: SelectionData, targets: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Each class target over its funds: sector / theme funds get an equal share up to their caps (in
    total too), the broad funds share the rest equally."""
    n = data.n_funds
    focused = (data.focused[:n] > 0.5) & active
    out = np.zeros(n)
    left = data.focused_total_cap
    for k in range(K):
        members = (data.membership[k, :n] > 0.5) & active
        if not members.any() or targets[k] <= 0:
            continue
        narrow, broad = members & focused, members & ~focused
        each = targets[k] / members.sum()
        if broad.any():
            give = min(each, data.focused_fund_cap, left / max(narrow.sum(), 1)) if narrow.any() else 0.0
            out[narrow] = give
            left -= give * narrow.sum()
            out[broad] = (targets[k] - give * narrow.sum()) / broad.sum()
        else:
            out[narrow] = min(each, data.focused_fund_cap, left / narrow.sum())
            left -= out[narrow].sum()
    return out


def reference_solve(data: SelectionData, targets: np.ndarray, active: np.ndarray | None = None,
                    policy: ConstructionPolicy | None = None, solver: str = "CLARABEL") -> np.ndarray:
    """The same problem written from scratch with constants (no Parameters, no padding): the check that
    the compiled path solves what it claims to."""
    policy = policy or ConstructionPolicy()
    active = np.ones(data.n_funds, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    t, _ = effective_targets(targets, data, active)
    shape = problem_shape(data)
    values, _, anchor = _parameters(data, t, active, policy, shape)
    import cvxpy as cp

    n = data.n_funds
    w = cp.Variable(n)
    cov = data.covariance[:n, :n]
    objective = cp.Minimize(cp.quad_form(w, cp.psd_wrap(cov + 1e-10 * np.eye(n)))
                            + policy.alpha * cp.sum_squares(w - anchor[:n])
                            - policy.beta * data.score[:n] @ w)
    cons = [data.membership[:, :n] @ w == t, w >= 0, w <= values["upper"][:n],
            data.focused[:n] @ w <= data.focused_total_cap]
    if policy.industry_cap is not None and data.industry.shape[1]:
        cons.append(data.industry[:n].T @ w <= policy.industry_cap)
    if policy.stock_cap is not None and data.stock.shape[1]:
        cons.append(data.stock[:n].T @ w <= policy.stock_cap)
    cp.Problem(objective, cons).solve(solver=solver, **(CLARABEL_SETTINGS if solver == "CLARABEL" else {}))
    return np.asarray(w.value, dtype=float)
