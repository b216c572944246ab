"""Fund selection per asset class: which funds a model portfolio is built from, for one R-level limit.

Rules (docs/portfolio-methodology.md):

* Candidates are open (or purchase-limited) funds with at least `min_history_days` of returns (the
  advisory rules need more than a year of past performance) and a product risk level at or below the
  customer's limit — never above (suitability).
* Funds with a minimum holding period or periodic opening (名称含 持有 / 定开 / 定期开放 / 封闭) are left
  out: a one-click portfolio must stay redeemable, for the customer and for rebalancing.
* Share classes of one fund (A / C siblings) form a *family*; a family is chosen once, and the share
  class is decided per request by holding cost over the customer's horizon (`choose_share_classes`).
* Families are ranked by the research leaderboard's composite score (`products.research.leaderboard`),
  best first, and picked greedily per class up to `max_funds[class]`, skipping a family when its company
  already has `max_per_company` funds in the selection, or (equity classes) when its look-through
  holdings overlap with an already selected fund exceeds `max_overlap`.

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
from advisor.fallback import Note
from advisor.model_portfolios import EQUITY_CLASSES, TRADABLE_STATUS
from products.fees import FeeTable
from products.research import holdings_overlap as research_overlap
from products.research import leaderboard
from products.research.lookthrough import NO_HOLDINGS_NOTE
from products.universe import Universe

DEFAULT_MAX_FUNDS: Mapping[str, int] = MappingProxyType(
    {"cash": 1, "bond": 3, "cn_equity": 4, "global_equity": 2, "gold": 1})
LOCKUP_PATTERN = r"持有|定开|定期开放|封闭"  # minimum holding period / periodic opening in the short name
# classes are filled in this order, so the company cap favours the classes with most choice at stake
FILL_ORDER: tuple[str, ...] = ("cn_equity", "bond", "global_equity", "gold", "cash")


@dataclass(frozen=True)
class SelectionPolicy:
    max_funds: Mapping[str, int] = field(default_factory=lambda: DEFAULT_MAX_FUNDS)
    max_per_company: int = 2
    max_overlap: float = 0.5
    min_history_days: int = 300  # ≈ 14 months of trading days: shown past performance must exceed a year
    exclude_lockups: bool = True

    @property
    def slots(self) -> int:
        return int(sum(self.max_funds.get(c, 0) for c in CLASSES))

    def key(self) -> tuple:
        return (tuple(sorted(self.max_funds.items())), self.max_per_company, self.max_overlap,
                self.min_history_days, self.exclude_lockups)


@dataclass(frozen=True, eq=False)
class Selection:
    """Chosen fund families for one R-level limit, in class order (`CLASSES`), best first in a class.

    `members[i]` lists the universe positions of family i's eligible share classes; `representative[i]`
    is the member with the longest history (used for covariance and look-through).
    """

    max_level: int
    asset_class: np.ndarray  # (n,) str
    representative: np.ndarray  # (n,) universe positions
    members: tuple[tuple[int, ...], ...]
    score: np.ndarray  # (n,) composite score 0–100 (NaN → 0)
    company: np.ndarray  # (n,) str
    notes: tuple[Note, ...] = ()

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


def _select(universe: Universe, max_level: int, policy: SelectionPolicy) -> Selection:
    funds = universe.funds
    history = universe.returns.notna().sum(axis=0).to_numpy()
    eligible = (funds["status"].astype(str).isin(TRADABLE_STATUS).to_numpy()
                & (funds["risk_level"].to_numpy(dtype=float) <= max_level)
                & (history >= policy.min_history_days))
    if policy.exclude_lockups:
        eligible &= ~funds["name"].astype(str).str.contains(LOCKUP_PATTERN, regex=True).to_numpy()
    family = _families(universe)
    scores = fund_scores(universe).to_numpy(dtype=float)
    frame = pd.DataFrame({"pos": np.arange(len(funds)), "family": family, "score": scores,
                          "history": history, "asset_class": funds["asset_class"].astype(str).to_numpy(),
                          "company": funds["company"].fillna("").astype(str).to_numpy(),
                          "code": funds.index.astype(str)})[eligible]
    # one row per family: best member score, the longest-history member represents it
    frame = frame.sort_values(["family", "history", "code"], ascending=[True, False, True], kind="stable")
    fam = frame.groupby("family", sort=True).agg(
        representative=("pos", "first"), score=("score", "max"), asset_class=("asset_class", "first"),
        company=("company", "first"), members=("pos", lambda s: tuple(sorted(int(x) for x in s))))
    fam = fam.sort_values(["score"], ascending=False, kind="stable")  # ties keep family (code) order
    chosen: dict[str, list] = {c: [] for c in CLASSES}
    per_company: dict[str, int] = {}
    notes: list[Note] = []
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
        for row_i, (family_id, row) in enumerate(candidates.iterrows()):
            if len(picked_rows) >= limit:
                break
            if row["company"] and per_company.get(row["company"], 0) >= policy.max_per_company:
                continue
            if overlap is not None and any(overlap[row_i, j] > policy.max_overlap for j in picked_rows):
                continue
            picked_rows.append(row_i)
            per_company[row["company"]] = per_company.get(row["company"], 0) + 1
            chosen[cls].append((family_id, row))
    rows = [row for cls in CLASSES for _, row in chosen[cls]]
    return Selection(
        max_level=max_level,
        asset_class=np.array([r["asset_class"] for r in rows], dtype=object),
        representative=np.array([int(r["representative"]) for r in rows], dtype=np.intp),
        members=tuple(r["members"] for r in rows),
        score=np.array([float(r["score"]) for r in rows]),
        company=np.array([r["company"] for r in rows], dtype=object),
        notes=tuple(notes),
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
