"""The one fund-quality rule: which funds are weak.

Fund selection (never selects a weak fund), the health check (flags weak holdings) and rebalancing
(a weak holding may be replaced) all call this module, so a fund selected today is never called weak by
the health check on the same data. A fund is weak when it is rated and either has at most
`QualityRule.max_stars` stars or sits in the bottom `QualityRule.bottom_share` of its rated peer group by
composite score. Money-market funds and unrated funds (under three years of history) are never weak:
the rule judges only what the leaderboard can judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from products.universe import Universe

MONEY_MARKET = "money_market"


@dataclass(frozen=True)
class QualityRule:
    """Thresholds of the weak-fund rule (configurable; the defaults are the house view)."""

    max_stars: int = 2
    bottom_share: float = 0.25

    def key(self) -> tuple:
        return (self.max_stars, self.bottom_share)


DEFAULT_RULE = QualityRule()


def quality_from_leaderboard(board: pd.DataFrame, codes: pd.Index | list[str],
                             rule: QualityRule = DEFAULT_RULE) -> pd.DataFrame:
    """Stars, peer-group percentile, bottom-share flag and `weak` for `codes`, from a leaderboard table.

    `board` is `products.research.leaderboard(...)` or any frame indexed by code with `stars`, `score`
    (or `rating_score`, preferred), `rated`, `category` and `fund_type` (missing columns mean "not known":
    nothing is weak then).
    Returns a frame indexed like `codes` with columns `stars` (float, NaN unrated), `peer_percentile`
    (0–1, NaN unrated), `bottom` (bool), `weak` (bool) and `reason` ("stars", "bottom_share" or "").
    """
    index = pd.Index([str(c) for c in codes], name="code")
    if board is None or board.empty:
        aligned = pd.DataFrame(index=index)
    else:
        frame = board.set_index("code") if "code" in board.columns and board.index.name != "code" else board
        aligned = frame.reindex(index)
    stars = aligned["stars"].astype(float) if "stars" in aligned.columns else pd.Series(np.nan, index=index)
    if "score" in aligned.columns:
        rated = (aligned["rated"].fillna(False).astype(bool) if "rated" in aligned.columns
                 else aligned["score"].notna())
        # near-identical index trackers share one rating (`rating_score`), so they share stars and percentile
        column = "rating_score" if "rating_score" in aligned.columns else "score"
        score = aligned[column].astype(float).where(rated)
        group = aligned["category"].fillna("").astype(str) if "category" in aligned.columns else pd.Series(
            "", index=index)
        percentile = score.groupby(group).rank(pct=True)
    else:
        percentile = pd.Series(np.nan, index=index)
    money = (aligned["fund_type"].astype(str) == MONEY_MARKET) if "fund_type" in aligned.columns else pd.Series(
        False, index=index)
    by_stars = (stars <= rule.max_stars).fillna(False) & ~money
    bottom = (percentile <= rule.bottom_share).fillna(False) & ~money
    weak = by_stars | bottom
    reason = np.where(by_stars, "stars", np.where(bottom, "bottom_share", ""))
    return pd.DataFrame({"stars": stars.to_numpy(dtype=float), "peer_percentile": percentile.to_numpy(dtype=float),
                         "bottom": bottom.to_numpy(dtype=bool), "weak": weak.to_numpy(dtype=bool),
                         "reason": reason}, index=index)


def fund_quality(universe: Universe, as_of: date | str | pd.Timestamp | None = None,
                 rule: QualityRule = DEFAULT_RULE) -> pd.DataFrame:
    """`quality_from_leaderboard` for every fund of the universe (aligned on `universe.codes`)."""
    from products.research.leaderboard import leaderboard

    return quality_from_leaderboard(leaderboard(universe, as_of), universe.funds.index, rule)


def weak_mask(universe: Universe, as_of: date | str | pd.Timestamp | None = None,
              rule: QualityRule = DEFAULT_RULE) -> np.ndarray:
    """Boolean array aligned on `universe.codes`: True where the fund is weak."""
    return fund_quality(universe, as_of, rule)["weak"].to_numpy(dtype=bool)
