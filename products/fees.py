"""Fund trading costs: tiered subscription, holding-period redemption, yearly running fees.

Conventions (domain brief, "Funds: what trading them costs"):

* Subscription (申购费) is tiered by the gross amount paid. A tier is either a rate or a flat fee
  (`1000元`). Rates are charged the Chinese way (外扣法): ``net = amount / (1 + rate)``,
  ``fee = amount - net``. The bank's discount (一折 = 0.1) scales rates, never flat fees.
* Redemption (赎回费) is tiered by holding days; below 7 days it is at least 1.5% (regulation), except
  for money-market funds, which charge nothing.
* C share classes have no subscription fee and a yearly sales-service fee instead.

`FeeSchedule` is one fund's schedule (readable, validated); `FeeTable` packs the schedules of a whole
universe into padded numpy arrays so that fees for millions of trades are computed without a loop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from products.errors import BadInputError

SHORT_HOLD_DAYS = 7
SHORT_HOLD_MIN_RATE = 0.015
DEFAULT_DISCOUNT = 0.1  # banks and apps usually charge 10% of the list subscription rate (一折)


@dataclass(frozen=True)
class SubscriptionTier:
    """Amounts below `upper` (yuan, exclusive; `inf` for the last tier) pay `rate`, or `flat` yuan."""

    upper: float
    rate: float = 0.0
    flat: float | None = None


@dataclass(frozen=True)
class RedemptionTier:
    """Holdings of fewer than `upper_days` days (`inf` for the last tier) pay `rate` of the value."""

    upper_days: float
    rate: float


@dataclass(frozen=True)
class FeeSchedule:
    subscription: tuple[SubscriptionTier, ...] = (SubscriptionTier(math.inf, 0.0),)
    redemption: tuple[RedemptionTier, ...] = (RedemptionTier(math.inf, 0.0),)
    management_fee: float = 0.0  # yearly, fraction of NAV
    custody_fee: float = 0.0  # yearly
    sales_service_fee: float = 0.0  # yearly (C classes)
    money_market: bool = False  # no fees and no short-holding floor

    def __post_init__(self) -> None:
        _check_ascending([t.upper for t in self.subscription], "subscription")
        _check_ascending([t.upper_days for t in self.redemption], "redemption")
        for t in self.subscription:
            if not 0 <= t.rate < 1 or (t.flat is not None and t.flat < 0):
                raise BadInputError("subscription tier rate must be in [0, 1) and flat fee ≥ 0",
                                    details={"tier": repr(t)})
        for t in self.redemption:
            if not 0 <= t.rate < 1:
                raise BadInputError("redemption tier rate must be in [0, 1)", details={"tier": repr(t)})
        for name in ("management_fee", "custody_fee", "sales_service_fee"):
            value = getattr(self, name)
            if not 0 <= value < 0.2:
                raise BadInputError(f"{name} must be a yearly fraction in [0, 0.2)", details={name: value})

    @property
    def running_cost(self) -> float:
        """Yearly cost of holding: management + custody + sales service."""
        return self.management_fee + self.custody_fee + self.sales_service_fee

    def subscription_fee(self, amount: float, discount: float = DEFAULT_DISCOUNT) -> float:
        return float(FeeTable.from_schedules([self]).subscription_fee(np.zeros(1, int), np.array([amount]),
                                                                       discount)[0])

    def redemption_fee(self, value: float, holding_days: float) -> float:
        return float(FeeTable.from_schedules([self]).redemption_fee(np.zeros(1, int), np.array([value]),
                                                                     np.array([holding_days]))[0])


def _check_ascending(uppers: Sequence[float], what: str) -> None:
    if not uppers:
        raise BadInputError(f"{what} schedule has no tier")
    if any(b <= a for a, b in pairwise(uppers)) or uppers[-1] != math.inf:
        raise BadInputError(f"{what} tiers must have ascending bounds ending with infinity",
                            details={"bounds": [str(u) for u in uppers]})


@dataclass(frozen=True)
class FeeTable:
    """Fee schedules of many funds as padded arrays (row i = fund i of the universe)."""

    sub_upper: np.ndarray  # (n, K) ascending, padded with inf
    sub_rate: np.ndarray  # (n, K)
    sub_flat: np.ndarray  # (n, K) NaN where the tier is a rate
    red_upper: np.ndarray  # (n, M) days, padded with inf
    red_rate: np.ndarray  # (n, M)
    running_cost: np.ndarray  # (n,) yearly management + custody + sales service
    sales_service_fee: np.ndarray  # (n,)
    money_market: np.ndarray  # (n,) bool
    schedules: tuple[FeeSchedule, ...] = field(repr=False, default=())

    @classmethod
    def from_schedules(cls, schedules: Sequence[FeeSchedule]) -> FeeTable:
        n = len(schedules)
        k = max((len(s.subscription) for s in schedules), default=1)
        m = max((len(s.redemption) for s in schedules), default=1)
        sub_upper = np.full((n, k), np.inf)
        sub_rate = np.zeros((n, k))
        sub_flat = np.full((n, k), np.nan)
        red_upper = np.full((n, m), np.inf)
        red_rate = np.zeros((n, m))
        for i, s in enumerate(schedules):
            for j, t in enumerate(s.subscription):
                sub_upper[i, j], sub_rate[i, j] = t.upper, t.rate
                sub_flat[i, j] = np.nan if t.flat is None else t.flat
            # pad by repeating the last tier so a lookup past the real tiers stays on it
            sub_rate[i, len(s.subscription):] = sub_rate[i, len(s.subscription) - 1]
            sub_flat[i, len(s.subscription):] = sub_flat[i, len(s.subscription) - 1]
            for j, t in enumerate(s.redemption):
                red_upper[i, j], red_rate[i, j] = t.upper_days, t.rate
            red_rate[i, len(s.redemption):] = red_rate[i, len(s.redemption) - 1]
        return cls(
            sub_upper=sub_upper, sub_rate=sub_rate, sub_flat=sub_flat, red_upper=red_upper, red_rate=red_rate,
            running_cost=np.array([s.running_cost for s in schedules], dtype=float),
            sales_service_fee=np.array([s.sales_service_fee for s in schedules], dtype=float),
            money_market=np.array([s.money_market for s in schedules], dtype=bool),
            schedules=tuple(schedules),
        )

    def __len__(self) -> int:
        return len(self.running_cost)

    def subscription_rate(self, fund_idx: np.ndarray, amount: np.ndarray,
                          discount: float = DEFAULT_DISCOUNT) -> tuple[np.ndarray, np.ndarray]:
        """(discounted rate, flat fee or NaN) of the tier each gross `amount` falls in."""
        fund_idx = np.asarray(fund_idx, dtype=np.intp)
        amount = np.asarray(amount, dtype=float)
        tier = (amount[:, None] >= self.sub_upper[fund_idx]).sum(axis=1)
        tier = np.minimum(tier, self.sub_upper.shape[1] - 1)
        return self.sub_rate[fund_idx, tier] * discount, self.sub_flat[fund_idx, tier]

    def subscription_fee(self, fund_idx: np.ndarray, amount: np.ndarray,
                         discount: float = DEFAULT_DISCOUNT) -> np.ndarray:
        """Fee (yuan) included in each gross purchase `amount` (外扣法; flat tiers charge the flat fee)."""
        amount = np.asarray(amount, dtype=float)
        rate, flat = self.subscription_rate(fund_idx, amount, discount)
        by_rate = amount - amount / (1.0 + rate)
        fee = np.where(np.isnan(flat), by_rate, np.minimum(np.nan_to_num(flat), amount))
        return np.where(amount > 0, fee, 0.0)

    def redemption_rate(self, fund_idx: np.ndarray, holding_days: np.ndarray) -> np.ndarray:
        fund_idx = np.asarray(fund_idx, dtype=np.intp)
        days = np.asarray(holding_days, dtype=float)
        tier = (days[:, None] >= self.red_upper[fund_idx]).sum(axis=1)
        tier = np.minimum(tier, self.red_upper.shape[1] - 1)
        rate = self.red_rate[fund_idx, tier]
        short = (days < SHORT_HOLD_DAYS) & ~self.money_market[fund_idx]
        return np.where(short, np.maximum(rate, SHORT_HOLD_MIN_RATE), rate)

    def redemption_fee(self, fund_idx: np.ndarray, value: np.ndarray, holding_days: np.ndarray) -> np.ndarray:
        """Fee (yuan) on redeeming `value` yuan held `holding_days` days (1.5% floor under 7 days)."""
        value = np.asarray(value, dtype=float)
        return value * self.redemption_rate(fund_idx, holding_days)


# ---------------------------------------------------------------------------------------------
# Default schedules by fund type, for universes whose source has no fee data (the real NAV set).
# Levels follow typical 2024 prospectuses after the fee reform; the shelf table overrides them.
# ---------------------------------------------------------------------------------------------

_INF = math.inf
_EQUITY_SUB = (SubscriptionTier(500_000, 0.015), SubscriptionTier(5_000_000, 0.012),
               SubscriptionTier(10_000_000, 0.006), SubscriptionTier(_INF, flat=1000.0))
_INDEX_SUB = (SubscriptionTier(500_000, 0.012), SubscriptionTier(5_000_000, 0.008),
              SubscriptionTier(_INF, flat=1000.0))
_BOND_SUB = (SubscriptionTier(1_000_000, 0.008), SubscriptionTier(3_000_000, 0.005),
             SubscriptionTier(5_000_000, 0.003), SubscriptionTier(_INF, flat=1000.0))
_EQUITY_RED = (RedemptionTier(7, 0.015), RedemptionTier(365, 0.005), RedemptionTier(730, 0.0025),
               RedemptionTier(_INF, 0.0))
_BOND_RED = (RedemptionTier(7, 0.015), RedemptionTier(365, 0.001), RedemptionTier(730, 0.0005),
             RedemptionTier(_INF, 0.0))
_C_CLASS_RED = (RedemptionTier(7, 0.015), RedemptionTier(30, 0.005), RedemptionTier(_INF, 0.0))


def default_schedule(fund_type: str, share_class: str = "") -> FeeSchedule:
    """A realistic schedule for a fund type and share class when the data has none."""
    from products.taxonomy import FundType

    ftype = FundType(fund_type)
    if ftype is FundType.MONEY_MARKET:
        return FeeSchedule(management_fee=0.0015, custody_fee=0.0005, sales_service_fee=0.0025,
                           money_market=True)
    bondish = ftype in (FundType.BOND, FundType.BOND_INDEX, FundType.FOF)
    indexish = ftype in (FundType.INDEX, FundType.GOLD, FundType.BOND_INDEX)
    mgmt = {FundType.BOND: 0.003, FundType.BOND_INDEX: 0.0015, FundType.CONVERTIBLE: 0.006,
            FundType.MIXED_BOND: 0.006, FundType.INDEX: 0.005, FundType.ENHANCED_INDEX: 0.008,
            FundType.QDII_EQUITY: 0.008, FundType.QDII_OTHER: 0.01, FundType.GOLD: 0.005,
            FundType.COMMODITY: 0.006, FundType.FOF: 0.005}.get(ftype, 0.012)
    custody = 0.001 if (bondish or indexish) else 0.002
    if share_class == "C":
        return FeeSchedule(redemption=_C_CLASS_RED, management_fee=mgmt, custody_fee=custody,
                           sales_service_fee=0.003 if bondish else 0.004)
    sub = _BOND_SUB if bondish or ftype in (FundType.CONVERTIBLE, FundType.MIXED_BOND) else (
        _INDEX_SUB if indexish else _EQUITY_SUB)
    red = _BOND_RED if bondish else _EQUITY_RED
    return FeeSchedule(subscription=sub, redemption=red, management_fee=mgmt, custody_fee=custody)


def default_minimum_purchase(fund_type: str) -> float:
    """Typical minimum purchase (起购金额) by type: ¥10 for index and cash, ¥100 most, ¥1,000 QDII."""
    from products.taxonomy import FundType

    ftype = FundType(fund_type)
    if ftype in (FundType.MONEY_MARKET, FundType.INDEX, FundType.ENHANCED_INDEX, FundType.GOLD,
                 FundType.BOND_INDEX):
        return 10.0
    if ftype in (FundType.QDII_EQUITY, FundType.QDII_OTHER, FundType.COMMODITY):
        return 1000.0
    return 100.0
