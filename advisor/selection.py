"""Fund selection per asset class: which funds a model portfolio is built from, for one R-level limit.

Rules (docs/portfolio-methodology.md):

* Candidates are the eligible funds (`advisor.eligibility`): suitable (never above the customer's
  limit), redeemable (no lock-up), with more than a year of history, not weak by the one quality rule
  (`products.research.quality`, the rule the health check uses) and not market-neutral.
* Share classes of one fund (A / C siblings) form a *family*; a family is chosen once, and the share
  class is decided per request by holding cost over the customer's horizon (`choose_share_classes`).
* Families are ranked by the research leaderboard's composite score (`products.research.leaderboard`),
  best first, and picked greedily per class up to `max_funds[class]`, skipping a family when
  - its company already has `max_per_company` funds in the selection;
  - (equity classes) its look-through holdings overlap with an already selected fund exceeds
    `max_overlap`;
  - it would make as many stocks top-10 holdings of three or more selected funds as the health check's
    shared-stocks rule warns about (`advisor.diagnosis.rules.look_through.SharedStocks`: "diversified in
    name only") — unless no fund of the class passes, in which case the best one is taken anyway;
  - its mandate is one sector or theme (`products.research.mandate`) and the selection already holds as
    many such funds as the caps allow (`focused_total_cap` / `focused_fund_cap`).
  Sector and theme funds are capped per fund and in total in the construction step.

A selection depends only on the universe and the R-level limit, so it is built once per universe and
limit and shared by every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from advisor.assumptions import CLASSES
from advisor.eligibility import LOCKUP_PATTERN, EligibilityPolicy, eligible_funds
from advisor.fallback import Note
from advisor.model_portfolios import EQUITY_CLASSES
from products.fees import FeeTable
from products.research import holdings_overlap as research_overlap
from products.research import leaderboard
from products.research.lookthrough import NO_HOLDINGS_NOTE
from products.research.mandate import DEFAULT_MANDATE_RULE, MandateRule, focused_mask, fund_mandates
from products.universe import Universe

__all__ = ["LOCKUP_PATTERN", "Selection", "SelectionPolicy", "choose_share_classes", "holding_cost", "select_funds"]

DEFAULT_MAX_FUNDS: Mapping[str, int] = MappingProxyType(
    {"cash": 1, "bond": 3, "cn_equity": 4, "global_equity": 2, "gold": 1})
# classes are filled in this order, so the company cap favours the classes with most choice at stake
FILL_ORDER: tuple[str, ...] = ("cn_equity", "bond", "global_equity", "gold", "cash")


@dataclass(frozen=True)
class SelectionPolicy:
    max_funds: Mapping[str, int] = field(default_factory=lambda: DEFAULT_MAX_FUNDS)
    max_per_company: int = 2
    max_overlap: float = 0.5
    max_shared_stocks: int | None = None  # None: below the health check's shared-stocks warning level
    focused_fund_cap: float = 0.10  # a sector or theme fund's share of the portfolio, at most
    focused_total_cap: float = 0.20  # all sector and theme funds together, at most
    eligibility: EligibilityPolicy = field(default_factory=EligibilityPolicy)
    mandate: MandateRule = field(default_factory=lambda: DEFAULT_MANDATE_RULE)

    def __post_init__(self) -> None:
        from products.errors import BadInputError

        if not 0.0 <= self.focused_fund_cap <= 1.0 or not 0.0 <= self.focused_total_cap <= 1.0:
            raise BadInputError("sector and theme caps must be fractions in [0, 1]",
                                details={"field": "focused_fund_cap"})

    @property
    def slots(self) -> int:
        return int(sum(self.max_funds.get(c, 0) for c in CLASSES))

    @property
    def max_focused(self) -> int:
        """How many sector or theme funds the caps leave room for."""
        if self.focused_fund_cap <= 0 or self.focused_total_cap <= 0:
            return 0
        return int(np.floor(self.focused_total_cap / self.focused_fund_cap + 1e-9))

    @property
    def min_history_days(self) -> int:
        return self.eligibility.min_history_days

    def key(self) -> tuple:
        return (tuple(sorted(self.max_funds.items())), self.max_per_company, self.max_overlap,
                self.max_shared_stocks, self.focused_fund_cap, self.focused_total_cap, self.eligibility.key(),
                self.mandate.key())


@dataclass(frozen=True, eq=False)
class Selection:
    """Chosen fund families for one R-level limit, in class order (`CLASSES`), best first in a class.

    `members[i]` lists the universe positions of family i's eligible share classes; `representative[i]`
    is the member with the longest history (used for covariance and look-through); `focused[i]` says
    whether its mandate is one sector or theme (capped in construction), `focus_label[i]` which.
    """

    max_level: int
    asset_class: np.ndarray  # (n,) str
    representative: np.ndarray  # (n,) universe positions
    members: tuple[tuple[int, ...], ...]
    score: np.ndarray  # (n,) composite score 0–100 (NaN → 0)
    company: np.ndarray  # (n,) str
    notes: tuple[Note, ...] = ()
    focused: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (n,) bool
    focus_label: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # (n,) str
    focused_fund_cap: float = 1.0
    focused_total_cap: float = 1.0

    def __len__(self) -> int:
        return len(self.representative)

    def class_counts(self) -> dict[str, int]:
        return {c: int(np.sum(self.asset_class == c)) for c in CLASSES}


def fund_scores(universe: Universe) -> pd.Series:
    """Composite leaderboard score (0–100) per fund code (`products.research.leaderboard`); 0 if unscored."""
    board = leaderboard(universe)
    return board["score"].reindex(universe.funds.index).astype(float).fillna(0.0)


def holdings_overlap(universe: Universe, codes: list[str]) -> pd.DataFrame:
    """Pairwise look-through overlap 0–1 (`products.research.holdings_overlap`); 0 where undisclosed."""
    if not codes:
        return pd.DataFrame(dtype=float)
    # pass the share-class siblings too: research's look-through adds them and expects them in the list
    siblings = universe.funds["sibling_codes"].reindex(codes).fillna("").astype(str)
    known = universe.code_index
    full = list(dict.fromkeys([*codes, *[s for text in siblings for s in text.split() if s in known]]))
    matrix = research_overlap(universe, full)
    out = matrix.reindex(index=codes, columns=codes).fillna(0.0)
    out.attrs["notes"] = list(matrix.attrs.get("notes", []))
    return out


def _families(universe: Universe) -> np.ndarray:
    """Family id per fund: the smallest code among the fund and its listed siblings in the universe."""
    codes = universe.funds.index.astype(str)
    known = set(codes)
    sib = universe.funds["sibling_codes"].fillna("").astype(str)
    return np.array([min([c, *[s for s in sibs.split() if s in known]]) for c, sibs in zip(codes, sib, strict=True)])


def select_funds(universe: Universe, max_level: int, policy: SelectionPolicy | None = None) -> Selection:
    """The families for customers whose products may go up to R`max_level` (cached per universe)."""
    policy = policy or SelectionPolicy()
    key = (universe.version, id(universe), int(max_level), policy.key())
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) > 64:
            _CACHE.clear()
        found = _CACHE[key] = _select(universe, int(max_level), policy)
    return found


_CACHE: dict[tuple, Selection] = {}


def _top10_sets(universe: Universe, codes: list[str]) -> dict[str, frozenset[str]]:
    """Each fund's latest disclosed top-10 stock codes (its sibling's when it has none of its own)."""
    from products.research import fund_look_through

    if not codes or universe.holdings is None or len(universe.holdings) == 0:
        return {c: frozenset() for c in codes}
    _, top = fund_look_through(universe, codes)
    sets = top.groupby("code")["stock_code"].agg(lambda s: frozenset(map(str, s))) if len(top) else pd.Series()
    return {c: sets.get(c, frozenset()) for c in codes}


def _shared_limits(policy: SelectionPolicy) -> tuple[int, int]:
    """(how many selected funds make a stock "shared", how many shared stocks are too many): the health
    check's shared-stocks rule, so that a model portfolio never draws that warning."""
    from advisor.diagnosis.rules.look_through import SharedStocks

    rule = SharedStocks()
    limit = int(rule.warning) if policy.max_shared_stocks is None else int(policy.max_shared_stocks)
    return int(rule.min_funds), limit


def _shared_count(stock_sets: list[frozenset[str]], shared_by: int) -> int:
    """Stocks that are top-10 holdings of at least `shared_by` of the given funds."""
    counts: dict[str, int] = {}
    for stocks in stock_sets:
        for s in stocks:
            counts[s] = counts.get(s, 0) + 1
    return sum(1 for n in counts.values() if n >= shared_by)


def _select(universe: Universe, max_level: int, policy: SelectionPolicy) -> Selection:
    funds = universe.funds
    eligible = eligible_funds(universe, max_level, policy.eligibility)
    history = universe.returns.notna().sum(axis=0).reindex(funds.index).fillna(0).to_numpy()
    family = _families(universe)
    scores = fund_scores(universe).to_numpy(dtype=float) if eligible.any() else np.zeros(len(funds))
    mandates = fund_mandates(universe, rule=policy.mandate) if eligible.any() else None
    focused = focused_mask(mandates) if mandates is not None else np.zeros(len(funds), dtype=bool)
    labels = mandates["focus_label"].to_numpy(dtype=object) if mandates is not None else np.full(len(funds), "")
    frame = pd.DataFrame({"pos": np.arange(len(funds)), "family": family, "score": scores,
                          "history": history, "asset_class": funds["asset_class"].astype(str).to_numpy(),
                          "company": funds["company"].fillna("").astype(str).to_numpy(),
                          "code": funds.index.astype(str), "focused": focused, "label": labels})[eligible]
    # one row per family: best member score, the longest-history member represents it
    frame = frame.sort_values(["family", "history", "code"], ascending=[True, False, True], kind="stable")
    fam = frame.groupby("family", sort=True).agg(
        representative=("pos", "first"), score=("score", "max"), asset_class=("asset_class", "first"),
        company=("company", "first"), focused=("focused", "max"), label=("label", "first"),
        members=("pos", lambda s: tuple(sorted(int(x) for x in s))))
    fam = fam.sort_values(["score"], ascending=False, kind="stable")  # ties keep family (code) order
    chosen: dict[str, list] = {c: [] for c in CLASSES}
    per_company: dict[str, int] = {}
    notes: list[Note] = []
    n_focused = 0
    shared_by, shared_limit = _shared_limits(policy)
    rep_codes = [str(universe.funds.index[p]) for p in fam["representative"]]
    top10 = _top10_sets(universe, rep_codes)
    books = dict(zip(fam.index, (top10[c] for c in rep_codes), strict=True))
    held_books: list[frozenset[str]] = []
    for cls in FILL_ORDER:
        candidates = fam[fam["asset_class"] == cls]
        limit = int(policy.max_funds.get(cls, 0))
        if limit <= 0 or candidates.empty:
            continue
        overlap = None
        if cls in EQUITY_CLASSES:
            reps = [str(universe.funds.index[p]) for p in candidates["representative"]]
            overlap_frame = holdings_overlap(universe, reps)
            overlap = overlap_frame.to_numpy()
            if NO_HOLDINGS_NOTE in overlap_frame.attrs.get("notes", []) and not any(
                    n.code == "overlap_unavailable" for n in notes):
                notes.append(Note("overlap_unavailable", "数据未提供基金持仓披露，未能检查权益基金之间的持仓重合度。",
                                  "No fund holdings in the data: the overlap limit between equity funds was not "
                                  "checked."))
        picked_rows: list[int] = []
        fallback: int | None = None  # the best fund held back only by the shared-stocks limit
        for row_i, (family_id, row) in enumerate(candidates.iterrows()):
            if len(picked_rows) >= limit:
                break
            if row["company"] and per_company.get(row["company"], 0) >= policy.max_per_company:
                continue
            if row["focused"] and n_focused >= policy.max_focused:
                continue
            if overlap is not None and any(overlap[row_i, j] > policy.max_overlap for j in picked_rows):
                continue
            if _shared_count([*held_books, books[family_id]], shared_by) >= shared_limit:
                fallback = row_i if fallback is None else fallback
                continue
            picked_rows.append(row_i)
            held_books.append(books[family_id])
            per_company[row["company"]] = per_company.get(row["company"], 0) + 1
            n_focused += int(bool(row["focused"]))
        if not picked_rows and fallback is not None:  # never leave a class empty over shared stocks
            picked_rows.append(fallback)
            family_id = candidates.index[fallback]
            held_books.append(books[family_id])
            row = candidates.iloc[fallback]
            per_company[row["company"]] = per_company.get(row["company"], 0) + 1
            n_focused += int(bool(row["focused"]))
        chosen[cls].extend((candidates.index[i], candidates.iloc[i]) for i in picked_rows)
    rows = [row for cls in CLASSES for _, row in chosen[cls]]
    return Selection(
        max_level=max_level,
        asset_class=np.array([r["asset_class"] for r in rows], dtype=object),
        representative=np.array([int(r["representative"]) for r in rows], dtype=np.intp),
        members=tuple(r["members"] for r in rows),
        score=np.array([float(r["score"]) for r in rows]),
        company=np.array([r["company"] for r in rows], dtype=object),
        notes=tuple(notes),
        focused=np.array([bool(r["focused"]) for r in rows], dtype=bool),
        focus_label=np.array([str(r["label"]) for r in rows], dtype=object),
        focused_fund_cap=policy.focused_fund_cap, focused_total_cap=policy.focused_total_cap,
    )


def holding_cost(fees: FeeTable, fund_idx: np.ndarray, horizon_years: float, amount: np.ndarray,
                 discount: float) -> np.ndarray:
    """Cost (fraction of the amount) of buying, holding `horizon_years` and redeeming, per fund:
    subscription fee + sales-service fee × years + redemption fee at the horizon. Management and
    custody fees are left out: share classes of one fund charge the same."""
    idx = np.asarray(fund_idx, dtype=np.intp)
    amount = np.maximum(np.asarray(amount, dtype=float), 0.01)
    sub = fees.subscription_fee(idx, amount, discount) / amount
    days = np.full(len(idx), max(horizon_years, 0.0) * 365.0)
    red = fees.redemption_rate(idx, days)
    return sub + fees.sales_service_fee[idx] * max(horizon_years, 0.0) + red


def choose_share_classes(universe: Universe, selection: Selection, horizon_years: float,
                         amounts: np.ndarray) -> np.ndarray:
    """Universe position of the cheapest share class of each family over the horizon (ties: lowest code).

    Short holding periods favour C classes (no subscription fee), long ones A classes (the yearly
    sales-service fee adds up); the break-even is computed from each fund's own fee schedule.
    """
    out = selection.representative.copy()
    multi = [i for i, m in enumerate(selection.members) if len(m) > 1]
    if not multi:
        return out
    idx = np.array([p for i in multi for p in selection.members[i]], dtype=np.intp)
    owner = np.array([i for i in multi for _ in selection.members[i]], dtype=np.intp)
    amt = np.asarray(amounts, dtype=float)[owner]
    cost = holding_cost(universe.fees, idx, horizon_years, amt, universe.fee_discount)
    order = np.lexsort((idx, cost, owner))  # per family: cheapest, then lowest position
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    out[owner[order][first]] = idx[order][first]
    return out
