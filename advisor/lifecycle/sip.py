"""SIP plans (基金定投): validation, the debit calendar, the smart split, target-profit rules, and a
simulation on real NAV.

A plan debits `amount` yuan every week, fortnight or month on a given day and buys its legs (funds with
weights). Rules a plan must meet (`validate_plan`, every error names its field):

* each fund known, open for subscription, and not above the customer's level (a plan is advice: never
  above the level, the lowest category R1 only — `risk.suitability.check_recommendation`);
* each leg's share of the debit at least the fund's minimum SIP amount (`funds.min_sip`); in smart mode
  the debit must be able to fund any single leg on its own;
* day 1–28 for monthly plans (every month has it), 1–5 (Monday–Friday) for weekly and fortnightly plans.

**Smart mode** buys the model's underweight asset classes first (cash-flow rebalancing, as Betterment and
Wealthfront invest deposits): the debit goes to the classes below their target share of the plan after the
debit, in proportion to the gaps; what is left after closing every gap follows the targets. A plan built
from a model portfolio (`plan_from_model`) has the model's class weights as its targets. Legs that would
get less than their minimum SIP get nothing and their money goes to the others.

**Target profit** (目标止盈): when the plan's holding return (value / cost − 1, fees in the cost) reaches
`target_return` at a day's close, the plan either stops debiting (`stop`) or redeems everything at the next
trading day's NAV, paying each lot's redemption fee, and starts a new cycle (`take_profit`).

`simulate_plan` runs a plan over history on the universe's NAV (dividends reinvested: the adjusted price),
with subscription fees (bank discount) and FIFO redemption fees, and reports the result with volatility and
maximum drawdown; its ledger goes through the same returns engine as a customer's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from advisor import limits
from advisor.lifecycle.ledger import Events
from advisor.lifecycle.prices import TOTAL, PriceTable, date_of, day_of, price_table
from advisor.lifecycle.returns import Window, annualized, compute_returns
from products.errors import BadInputError
from products.taxonomy import ASSET_CLASSES
from products.universe import Universe

FREQUENCIES = ("weekly", "fortnightly", "monthly")
MODES = ("fixed", "smart")
ON_TARGET = ("stop", "take_profit")
TRADABLE_STATUS = ("open", "limited")
FREQUENCY_ZH = {"weekly": "每周", "fortnightly": "每两周", "monthly": "每月"}
WEEKDAY_ZH = ("一", "二", "三", "四", "五")
WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass(frozen=True)
class SipLeg:
    code: str
    weight: float


@dataclass(frozen=True)
class SipPlan:
    amount: float
    frequency: str
    day: int
    legs: tuple[SipLeg, ...]
    mode: str = "fixed"
    target_return: float | None = None
    on_target: str = "stop"
    name: str = ""

    @classmethod
    def build(cls, *, amount: object, frequency: object = "monthly", day: object = 1,
              legs: Sequence[Mapping[str, Any]] | Mapping[str, float] | None = None, mode: object = "fixed",
              target_return: object = None, on_target: object = "stop", name: str = "") -> SipPlan:
        """From JSON-like input; legs as [{code, weight}] or {code: weight} (weights are normalized)."""
        amount_v = limits.money(amount, "amount")
        if frequency not in FREQUENCIES:
            raise BadInputError(f"frequency must be one of {', '.join(FREQUENCIES)}", details={"field": "frequency"})
        try:
            day_v = int(day)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise BadInputError("day must be a whole number", details={"field": "day"}) from None
        high = 28 if frequency == "monthly" else 5
        if not 1 <= day_v <= high or (isinstance(day, float) and day != day_v):
            what = "1–28 (day of the month)" if frequency == "monthly" else "1–5 (Monday–Friday)"
            raise BadInputError(f"day must be {what}", details={"field": "day", "value": str(day)})
        if mode not in MODES:
            raise BadInputError(f"mode must be one of {', '.join(MODES)}", details={"field": "mode"})
        if on_target not in ON_TARGET:
            raise BadInputError(f"on_target must be one of {', '.join(ON_TARGET)}", details={"field": "on_target"})
        target = None if target_return is None else _positive(target_return, "target_return", high=1.0)
        raw = list(legs.items()) if isinstance(legs, Mapping) else [
            (leg.get("code") if isinstance(leg, Mapping) else None,
             leg.get("weight", 1.0) if isinstance(leg, Mapping) else None) for leg in (legs or [])]
        if not raw:
            raise BadInputError("a plan needs at least one fund", details={"field": "legs"})
        if len({str(c) for c, _ in raw}) != len(raw):
            raise BadInputError("a fund appears twice in the plan", details={"field": "legs"})
        weights = [_positive(w, f"legs[{i}].weight") for i, (_, w) in enumerate(raw)]
        total = sum(weights)
        built = tuple(SipLeg(str(code), w / total) for (code, _), w in zip(raw, weights, strict=True))
        for i, leg in enumerate(built):
            if not leg.code or leg.code == "None":
                raise BadInputError(f"legs[{i}] needs a fund code", details={"field": f"legs[{i}].code"})
        return cls(amount_v, str(frequency), day_v, built, str(mode), target, str(on_target), name)

    def to_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "frequency": self.frequency, "day": self.day, "mode": self.mode,
                "legs": [{"code": leg.code, "weight": round(leg.weight, 6)} for leg in self.legs],
                "target_return": self.target_return, "on_target": self.on_target, "name": self.name}


def _positive(value: object, field: str, high: float = 1e9) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadInputError(f"{field} must be a number", details={"field": field}) from None
    if not math.isfinite(number) or not 0 < number <= high:
        raise BadInputError(f"{field} must be above 0 and at most {high:g}", details={"field": field})
    return number


@dataclass(frozen=True)
class LegFacts:
    """Per-leg arrays looked up once: universe position, asset class index, minimum SIP, risk level."""

    fund: np.ndarray
    asset_class: np.ndarray
    min_sip: np.ndarray
    risk_level: np.ndarray
    weight: np.ndarray
    names: tuple[str, ...]


def leg_facts(universe: Universe, plan: SipPlan) -> LegFacts:
    funds = universe.funds
    fund = np.array([universe.code_index.get(leg.code, -1) for leg in plan.legs], dtype=np.int64)
    for i, leg in enumerate(plan.legs):
        if fund[i] < 0:
            raise BadInputError(f"legs[{i}]: unknown fund code {leg.code}", code="unknown_fund",
                                details={"field": f"legs[{i}].code", "code": leg.code})
    classes = {c.value: k for k, c in enumerate(ASSET_CLASSES)}
    min_sip = pd.to_numeric(funds["min_sip"], errors="coerce").fillna(100.0).to_numpy(dtype=float)[fund] \
        if "min_sip" in funds.columns else np.full(len(fund), 100.0)
    return LegFacts(fund=fund, asset_class=np.array([classes[str(c)] for c in funds["asset_class"].iloc[fund]]),
                    min_sip=min_sip, risk_level=funds["risk_level"].to_numpy(dtype=np.int64)[fund],
                    weight=np.array([leg.weight for leg in plan.legs]),
                    names=tuple(str(n) for n in funds["name"].iloc[fund]))


def validate_plan(universe: Universe, plan: SipPlan, customer_level: int | None = None,
                  lowest_category: bool = False) -> LegFacts:
    """The rules of the module docstring; returns the legs' facts."""
    facts = leg_facts(universe, plan)
    status = universe.funds["status"].astype("str").to_numpy()[facts.fund]
    for i, leg in enumerate(plan.legs):
        if status[i] not in TRADABLE_STATUS:
            raise BadInputError(f"legs[{i}]: fund {leg.code} is {status[i]} and takes no subscriptions",
                                code="fund_not_open", details={"field": f"legs[{i}].code", "status": status[i]})
    if customer_level is not None:
        from risk.suitability import check_recommendation

        check_recommendation(customer_level, facts.risk_level, lowest_category, codes=[leg.code for leg in plan.legs])
    if plan.mode == "fixed":
        legs_amount = plan.amount * facts.weight
        short = np.flatnonzero(legs_amount < facts.min_sip - 1e-9)
        if len(short):
            i = int(short[0])
            raise BadInputError(f"legs[{i}]: ¥{legs_amount[i]:,.2f} a debit is below the minimum SIP of "
                                f"{plan.legs[i].code} (¥{facts.min_sip[i]:,.0f})", code="below_min_sip",
                                details={"field": f"legs[{i}].weight", "min_sip": float(facts.min_sip[i]),
                                         "leg_amount": round(float(legs_amount[i]), 2)})
    elif plan.amount < facts.min_sip.max() - 1e-9:
        i = int(np.argmax(facts.min_sip))
        raise BadInputError(f"amount: a smart plan's debit must cover any single fund's minimum SIP; "
                            f"{plan.legs[i].code} needs ¥{facts.min_sip[i]:,.0f}", code="below_min_sip",
                            details={"field": "amount", "min_sip": float(facts.min_sip[i])})
    return facts


def plan_from_model(universe: Universe, level: int, amount: float, horizon_years: float = 5.0, *,
                    lowest_category: bool = False, **options: Any) -> SipPlan:
    """A plan whose legs are the model's funds (`advisor.proposal.target_fund_weights`); the smallest legs
    are dropped (their weight spread over the rest) until every leg meets its minimum SIP."""
    from advisor.proposal import target_fund_weights

    weights = target_fund_weights(universe, level, horizon_years, lowest_category=lowest_category)
    weights = weights[weights > 0].sort_values(ascending=False)
    min_sip = pd.to_numeric(universe.funds["min_sip"], errors="coerce").fillna(100.0)
    while len(weights) > 1:
        share = weights / weights.sum() * amount
        short = share < min_sip.reindex(share.index).to_numpy() - 1e-9
        if not short.any():
            break
        weights = weights.drop(share[short].idxmin())
    legs = [{"code": str(code), "weight": float(w)} for code, w in (weights / weights.sum()).items()]
    return SipPlan.build(amount=amount, legs=legs, **options)


# ---------------------------------------------------------------------------------------------
# calendar and split
# ---------------------------------------------------------------------------------------------

def debit_dates(plan: SipPlan, start: date, end: date) -> list[date]:
    """Scheduled debit dates from `start` to `end` (calendar dates; a non-trading day buys at the next
    trading day's NAV, see `trading_rows`)."""
    out: list[date] = []
    if plan.frequency == "monthly":
        year, month = start.year, start.month
        while True:
            d = date(year, month, plan.day)
            if d > end:
                break
            if d >= start:
                out.append(d)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        step = 7 if plan.frequency == "weekly" else 14
        first = start + timedelta(days=(plan.day - 1 - start.weekday()) % 7)
        d = first
        while d <= end:
            out.append(d)
            d += timedelta(days=step)
    return out


def trading_rows(prices: PriceTable, days: Sequence[date]) -> np.ndarray:
    """Row of the first trading day on or after each date (-1 beyond the data)."""
    rows = np.searchsorted(prices.days, np.array([day_of(d) for d in days], dtype=np.int64), side="left")
    return np.where(rows < len(prices.days), rows, -1)


def smart_split(amount: float, facts: LegFacts, class_values: np.ndarray, fixed: bool = False) -> np.ndarray:
    """Yuan per leg for one debit (see the module docstring); legs below their minimum get nothing."""
    weight = facts.weight
    if fixed:
        return amount * weight
    k = len(ASSET_CLASSES)
    target = np.bincount(facts.asset_class, weights=weight, minlength=k)
    total = class_values.sum() + amount
    gap = np.maximum(target * total - class_values, 0.0) * (target > 0)
    to_class = amount * gap / gap.sum() if gap.sum() > amount else gap + (amount - gap.sum()) * target
    in_class = np.bincount(facts.asset_class, weights=weight, minlength=k)
    legs = to_class[facts.asset_class] * weight / in_class[facts.asset_class]
    return enforce_minimums(legs, facts.min_sip, amount)


def enforce_minimums(legs: np.ndarray, min_sip: np.ndarray, amount: float) -> np.ndarray:
    """Drop the smallest leg below its minimum and spread its money over the rest, until all meet theirs;
    when none would, the largest leg takes the whole debit."""
    legs = np.asarray(legs, dtype=float).copy()
    active = legs > 1e-9
    while active.any():
        short = active & (legs < min_sip - 1e-9)
        if not short.any():
            return legs
        if short.sum() == active.sum():
            best = int(np.argmax(np.where(active, legs, -np.inf)))
            legs[:] = 0.0
            legs[best] = amount
            return legs
        drop = int(np.argmin(np.where(short, legs, np.inf)))
        active[drop] = False
        legs = np.where(active, legs, 0.0)
        legs *= amount / legs.sum()
    return legs


# ---------------------------------------------------------------------------------------------
# simulation on history
# ---------------------------------------------------------------------------------------------

@dataclass
class _Lots:
    fund: list[int] = field(default_factory=list)
    row: list[int] = field(default_factory=list)
    units: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)


def simulate_plan(universe: Universe, plan: SipPlan, start: date, end: date | None = None, *,
                  customer_level: int | None = None, lowest_category: bool = False,
                  include_ledger: bool = False) -> dict[str, Any]:
    """Run the plan over [start, end] on the universe's NAV (see the module docstring)."""
    facts = validate_plan(universe, plan, customer_level, lowest_category)
    prices = price_table(universe)
    end = min(end or universe.as_of, date_of(prices.last_day))
    if start >= end:
        raise BadInputError("start must be before the end of the data", details={"field": "start"})
    first_priced = max(int(prices.first_day[f]) for f in facts.fund)
    if day_of(start) < first_priced:
        raise BadInputError(f"start: a fund of the plan has no NAV before {date_of(first_priced)}",
                            details={"field": "start", "first_date": str(date_of(first_priced))})
    schedule = debit_dates(plan, start, end)
    rows = trading_rows(prices, schedule)
    keep = (rows >= 0) & (rows <= int(np.searchsorted(prices.days, day_of(end), side="right")) - 1)
    schedule = [d for d, k in zip(schedule, keep, strict=True) if k]
    rows = rows[keep]
    if not len(rows):
        raise BadInputError("no debit falls between start and end", details={"field": "start"})
    p = prices.prices[TOTAL][:, facts.fund]  # (T, legs)
    fees = universe.fees
    first_row, last_row = int(rows[0]), int(np.searchsorted(prices.days, day_of(end), side="right")) - 1
    lots = _Lots()
    events: list[dict[str, Any]] = []
    profit_events: list[dict[str, Any]] = []
    debit_at = np.bincount(rows - first_row, minlength=1)  # a holiday can push two debits onto one day
    stopped: date | None = None
    executed = 0
    pending: tuple[date, float] | None = None  # target reached at a close: redeem at the next NAV
    units = np.zeros(len(facts.fund))
    cost_basis = 0.0
    for r in range(first_row, last_row + 1):
        if pending is not None:
            cash = _redeem_all(lots, fees, facts, p, r, prices, events)
            profit_events.append({"action": "take_profit", "reached": str(pending[0]), "return": round(pending[1], 6),
                                  "date": str(date_of(prices.days[r])), "cash": round(cash, 2)})
            units[:] = 0.0
            cost_basis = 0.0
            pending = None
        count = int(debit_at[r - first_row]) if r - first_row < len(debit_at) else 0
        if count and stopped is None:
            executed += count
            value_by_class = np.bincount(facts.asset_class, weights=units * p[r], minlength=len(ASSET_CLASSES))
            split = smart_split(plan.amount * count, facts, value_by_class, fixed=plan.mode == "fixed")
            for leg in np.flatnonzero(split > 0):
                gross = float(split[leg])
                fee = float(fees.subscription_fee(facts.fund[[leg]], np.array([gross]), universe.fee_discount)[0])
                bought = (gross - fee) / p[r, leg]
                units[leg] += bought
                cost_basis += gross
                lots.fund.append(int(leg))
                lots.row.append(r)
                lots.units.append(bought)
                lots.cost.append(gross)
                events.append({"date": date_of(prices.days[r]), "leg": int(leg), "kind": "subscription",
                               "amount": gross - fee, "fee": fee, "cash": gross, "shares": bought,
                               "nav": float(p[r, leg])})
        if plan.target_return is not None and cost_basis > 0 and stopped is None:
            gain = float(units @ p[r]) / cost_basis - 1.0
            if gain >= plan.target_return:
                if plan.on_target == "stop":
                    stopped = date_of(prices.days[r])
                    profit_events.append({"action": "stop", "date": str(stopped), "return": round(gain, 6)})
                elif r < last_row:
                    pending = (date_of(prices.days[r]), gain)
    return _simulation_result(universe, prices, plan, facts, events, profit_events, stopped, executed, start, end,
                              include_ledger)


def _redeem_all(lots: _Lots, fees: Any, facts: LegFacts, p: np.ndarray, r: int, prices: PriceTable,
                events: list[dict[str, Any]]) -> float:
    """Redeem every open lot at row r's price, each paying its own holding-period fee; returns the cash."""
    cash = 0.0
    lot_leg = np.array(lots.fund)
    lot_units = np.array(lots.units)
    days = (prices.days[r] - prices.days[np.array(lots.row)]).astype(float)
    rate = fees.redemption_rate(facts.fund[lot_leg], days)
    for leg in np.unique(lot_leg):
        mine = lot_leg == leg
        value = float(lot_units[mine].sum() * p[r, leg])
        fee = float((lot_units[mine] * p[r, leg] * rate[mine]).sum())
        cash += value - fee
        events.append({"date": date_of(prices.days[r]), "leg": int(leg), "kind": "redemption", "amount": value,
                       "fee": fee, "cash": value - fee, "shares": float(lot_units[mine].sum()),
                       "nav": float(p[r, leg])})
    lots.fund.clear()
    lots.row.clear()
    lots.units.clear()
    lots.cost.clear()
    return cash


def _simulation_result(universe: Universe, prices: PriceTable, plan: SipPlan, facts: LegFacts,
                       events: list[dict[str, Any]], profit_events: list[dict[str, Any]], stopped: date | None,
                       debits: int, start: date, end: date, include_ledger: bool) -> dict[str, Any]:
    frame = pd.DataFrame(events)
    kind = np.where(frame["kind"] == "subscription", 0, 1).astype(np.int8)
    buy = kind == 0
    cash = frame["cash"].to_numpy(dtype=float)  # paid on a buy (amount + fee), received on a sale (amount − fee)
    fee = frame["fee"].to_numpy(dtype=float)
    shares = frame["shares"].to_numpy(dtype=float)
    zero = np.zeros(len(frame))
    ev = Events(cust=np.zeros(len(frame), dtype=np.int64), fund=facts.fund[frame["leg"].to_numpy()],
                day=np.array([day_of(d) for d in frame["date"]], dtype=np.int64), kind=kind,
                units=np.where(buy, shares, -shares), cash_in=np.where(buy, cash, 0.0),
                cash_out=np.where(buy, 0.0, cash), fee_in=np.where(buy, fee, 0.0), fee_out=np.where(buy, 0.0, fee),
                income=zero, cost=np.where(buy, cash, 0.0), mode=np.full(len(frame), TOTAL, dtype=np.int8),
                estimated=np.zeros(len(frame), dtype=bool), row=np.arange(len(frame), dtype=np.int64),
                plan=np.full(len(frame), -1, dtype=np.int64)).sorted()
    result = compute_returns(ev, 1, prices, end, windows=(Window("inception", None),))
    c = {k: v[0] for k, v in result.customer.items()}
    daily = _daily_series(prices, facts, frame, start, end)
    twr_daily = float(np.prod(1.0 + daily["r"]) - 1.0) if len(daily) else float("nan")
    span = (end - start).days
    out: dict[str, Any] = {
        "plan": plan.to_dict(),
        "legs": [{"code": leg.code, "name": facts.names[i], "weight": round(leg.weight, 6),
                  "min_sip": float(facts.min_sip[i])} for i, leg in enumerate(plan.legs)],
        "start": str(start), "end": str(end), "debits": debits,
        "invested": round(float(cash[buy].sum()), 2), "fees": round(float(fee.sum()), 2),
        "redeemed": round(float(cash[~buy].sum()), 2), "final_value": round(float(c["market_value"]), 2),
        "total_gain": round(float(c["total_gain"]), 2), "holding_return": _r(c["holding_return"]),
        "twr": _r(c["twr_inception"]), "twr_annualized": _r(float(annualized(np.array([c["twr_inception"]]),
                                                                            np.array([span]))[0])),
        "xirr": _r(c["xirr_inception"]),
        "volatility": _r(float(daily["r"].std(ddof=1) * math.sqrt(252))) if len(daily) > 2 else None,
        "max_drawdown": _r(_max_drawdown(daily["r"].to_numpy())) if len(daily) else None,
        "profit_events": profit_events,
        "stopped_on": None if stopped is None else str(stopped),
        "monthly_values": _monthly_points(daily),
        "method": "debits fill at the NAV of the debit day (the next trading day when it is closed); dividends "
                  "reinvested (adjusted NAV); subscription fees with the bank discount; FIFO redemption fees by "
                  "holding period (the fee table every door uses); daily returns of the time-weighted index give "
                  "volatility and drawdown; the legs are fixed over the whole period (a plan built from a level "
                  "holds today's model funds, chosen with hindsight, not point in time)",
    }
    out["check"] = {"twr_daily_chain": _r(twr_daily)}
    if include_ledger:
        out["ledger"] = [{"date": str(e["date"]), "code": plan.legs[e["leg"]].code, "kind": e["kind"],
                          "amount": round(e["amount"], 2), "fee": round(e["fee"], 2),
                          ("paid" if e["kind"] == "subscription" else "received"): round(e["cash"], 2),
                          "shares": round(e["shares"], 4),
                          "nav": round(e["nav"], 4)} for e in events]
    out.update(explain_simulation(out))
    return out


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def _daily_series(prices: PriceTable, facts: LegFacts, frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Daily value, flows and the time-weighted daily return, the engine's sub-periods day by day:
    r_t = (units held before day t's flows × p_t − fees out_t) / (value after day t−1's flows + fees in_t−1) − 1."""
    lo = int(np.searchsorted(prices.days, day_of(start), side="left"))
    hi = int(np.searchsorted(prices.days, day_of(end), side="right"))
    p = prices.prices[TOTAL][lo:hi][:, facts.fund]
    n = hi - lo
    day_row = np.searchsorted(prices.days[lo:hi], np.array([day_of(d) for d in frame["date"]]))
    buy = (frame["kind"] == "subscription").to_numpy()
    delta = np.zeros_like(p)
    np.add.at(delta, (day_row, frame["leg"].to_numpy()), np.where(buy, 1.0, -1.0) * frame["shares"].to_numpy())
    held = np.cumsum(delta, axis=0)
    value = (held * p).sum(axis=1)
    before = ((held - delta) * p).sum(axis=1)
    fee = frame["fee"].to_numpy(dtype=float)
    fee_in = np.bincount(day_row, weights=np.where(buy, fee, 0.0), minlength=n)
    fee_out = np.bincount(day_row, weights=np.where(buy, 0.0, fee), minlength=n)
    flow_in = np.bincount(day_row, weights=np.where(buy, frame["cash"], 0.0), minlength=n)
    flow_out = np.bincount(day_row, weights=np.where(buy, 0.0, frame["cash"]), minlength=n)
    base = np.r_[0.0, (value + fee_in)[:-1]]
    r = np.divide(before - fee_out, base, out=np.ones_like(value), where=base > 1e-9) - 1.0
    index = pd.to_datetime(prices.days[lo:hi].astype("datetime64[D]"))
    started = np.cumsum(base > 1e-9) > 0
    return pd.DataFrame({"value": value, "in": flow_in, "out": flow_out, "r": r}, index=index)[started]


def _max_drawdown(r: np.ndarray) -> float:
    growth = np.cumprod(1.0 + r)
    peak = np.maximum(np.maximum.accumulate(growth), 1.0)
    return float(min((growth / peak - 1.0).min(), 0.0))


def _monthly_points(daily: pd.DataFrame) -> list[dict[str, Any]]:
    if not len(daily):
        return []
    invested = (daily["in"] - daily["out"]).cumsum()
    frame = pd.DataFrame({"value": daily["value"], "net_invested": invested})
    ends = frame.groupby(frame.index.to_period("M")).tail(1)
    return [{"date": str(i.date()), "value": round(float(v), 2), "net_invested": round(float(n), 2)}
            for i, v, n in zip(ends.index, ends["value"], ends["net_invested"], strict=True)]


def explain_simulation(s: dict[str, Any]) -> dict[str, str]:
    plan = s["plan"]
    freq_zh = FREQUENCY_ZH[plan["frequency"]]
    when_zh = f"{plan['day']}日" if plan["frequency"] == "monthly" else f"周{WEEKDAY_ZH[plan['day'] - 1]}"
    when_en = (f"on day {plan['day']}" if plan["frequency"] == "monthly" else f"on {WEEKDAY_EN[plan['day'] - 1]}s")

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{100 * x:.1f}%"

    zh = (f"{s['start']}至{s['end']}，{freq_zh}{when_zh}定投¥{plan['amount']:,.0f}，共扣款{s['debits']}次，投入"
          f"¥{s['invested']:,.0f}（含申购费¥{s['fees']:,.2f}），期末市值¥{s['final_value']:,.0f}，累计收益"
          f"¥{s['total_gain']:,.0f}；资金加权年化收益{pct(s['xirr'])}，年化波动{pct(s['volatility'])}，最大回撤"
          f"{pct(s['max_drawdown'])}。")
    en = (f"From {s['start']} to {s['end']}, ¥{plan['amount']:,.0f} {plan['frequency']} {when_en}: {s['debits']} "
          f"debits, ¥{s['invested']:,.0f} invested (¥{s['fees']:,.2f} subscription fees), worth "
          f"¥{s['final_value']:,.0f} at the end, a total gain of ¥{s['total_gain']:,.0f}; money-weighted "
          f"{pct(s['xirr'])} a year, volatility {pct(s['volatility'])}, maximum drawdown {pct(s['max_drawdown'])}.")
    for e in s["profit_events"]:
        if e.get("action") == "stop":
            zh += f"{e['date']}收益率达到{pct(e['return'])}，按目标止盈规则停止扣款。"
            en += f" On {e['date']} the return reached {pct(e['return'])} and the plan stopped debiting."
        else:
            zh += f"{e['date']}止盈赎回¥{e['cash']:,.0f}（收益率{pct(e['return'])}）。"
            en += f" On {e['date']} it took profit: ¥{e['cash']:,.0f} redeemed at a {pct(e['return'])} return."
    zh += "过往表现不代表未来收益。"
    en += " Past performance does not predict future results."
    return {"explanation_zh": zh, "explanation_en": en}


def with_mode(plan: SipPlan, **changes: Any) -> SipPlan:
    return replace(plan, **changes)
