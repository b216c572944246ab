"""Which funds a one-click portfolio may be built from: one rule for model portfolios and fund selection.

A fund is eligible for customers whose products may go up to R`max_level` when it is:

* open or purchase-limited, with a product risk level at or below the limit (suitability: never above);
* in the investor's currency (yuan): a US-dollar share class is never proposed to a yuan investor;
* at least `min_history_days` old (past performance shown must cover more than a year);
* redeemable at any time: no minimum holding period or periodic opening (short name contains 持有 / 定开 /
  定期开放 / 封闭), for the customer and for rebalancing;
* not weak by the one quality rule (`products.research.quality`), so that a fund selected today is never
  flagged as weak by the health check on the same data;
* not market-neutral (`products.research.mandate`): a hedged book is filed as a mixed fund but does not
  deliver the equity exposure its asset class stands for in a model portfolio;
* not a convertible-bond fund: it is filed in the bond class but moves with A-shares (the convertible
  index fell about 40% in the 2015 crash), so it cannot stand for the defensive part of a model portfolio.

The model portfolios give a class weight only when the class has an eligible fund (`available_classes`),
so a model never asks the fund layer for something it may not buy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from advisor.assumptions import CLASSES
from products.research.quality import DEFAULT_RULE, QualityRule
from products.taxonomy import INVESTOR_CURRENCY, FundType, currency_of_fund
from products.universe import Universe

TRADABLE_STATUS = ("open", "limited")
LOCKUP_PATTERN = r"持有|定开|定期开放|封闭"  # minimum holding period / periodic opening in the short name


@dataclass(frozen=True)
class EligibilityPolicy:
    min_history_days: int = 300  # ≈ 14 months of trading days: shown past performance must exceed a year
    exclude_lockups: bool = True
    exclude_weak: bool = True
    exclude_market_neutral: bool = True
    exclude_convertibles: bool = True
    quality: QualityRule = field(default_factory=lambda: DEFAULT_RULE)

    def key(self) -> tuple:
        return (self.min_history_days, self.exclude_lockups, self.exclude_weak, self.exclude_market_neutral,
                self.exclude_convertibles, self.quality.key())


def eligible_funds(universe: Universe, max_level: int, policy: EligibilityPolicy | None = None) -> np.ndarray:
    """Bool per fund (order of `universe.funds`): may go into a one-click portfolio up to R`max_level`."""
    policy = policy or EligibilityPolicy()
    funds = universe.funds
    history = universe.returns.notna().sum(axis=0).reindex(funds.index).fillna(0).to_numpy()
    ok = (funds["status"].astype(str).isin(TRADABLE_STATUS).to_numpy()
          & (funds["risk_level"].to_numpy(dtype=float) <= max_level)
          & (history >= policy.min_history_days))
    ok &= (currency_of_fund(funds) == INVESTOR_CURRENCY).to_numpy()  # never a US-dollar class to a yuan investor
    if policy.exclude_convertibles:
        ok &= funds["fund_type"].astype(str).to_numpy() != FundType.CONVERTIBLE.value
    if policy.exclude_lockups:
        ok &= ~funds["name"].astype(str).str.contains(LOCKUP_PATTERN, regex=True).to_numpy()
    if policy.exclude_weak and ok.any():
        from products.research.quality import weak_mask

        ok &= ~weak_mask(universe, rule=policy.quality)
    if policy.exclude_market_neutral and ok.any():
        from products.research.mandate import text_mandates

        ok &= ~text_mandates(universe)["market_neutral"].reindex(funds.index).fillna(False).to_numpy(dtype=bool)
    return ok


def available_classes(universe: Universe, max_level: int, policy: EligibilityPolicy | None = None) -> np.ndarray:
    """Bool per asset class (order `CLASSES`): the universe has an eligible fund of the class."""
    ok = eligible_funds(universe, max_level, policy)
    classes = set(universe.funds["asset_class"].astype(str).to_numpy()[ok])
    return np.array([c in classes for c in CLASSES])
