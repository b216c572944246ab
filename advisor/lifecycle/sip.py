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
from a model portfolio (`plan_from_model`) has the model's class weights as its targets. A leg that would get
less than its minimum SIP gets nothing: its money goes to the largest leg of its class, else of its
substitute class (`enforce_minimums`).

**Target profit** (目标止盈): when the plan's holding return (value / cost − 1, fees in the cost) reaches
`target_return` at a day's close, the plan either stops debiting (`stop`) or redeems everything at the next
trading day's NAV, paying each lot's redemption fee, and starts a new cycle (`take_profit`).

`simulate_plan` runs a plan through the walk-forward simulator (`advisor.simulation`, as a customer on a plan
of its own: `advisor.simulation.plans`) — its book, lots, cost model and fills — and reports annual return,
volatility, maximum drawdown, money-weighted return, paid in vs final value, fees and the span, labelled out
of sample for a plan on a model (each debit buys the model's funds as chosen on that date).
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
from products.errors import BadInputError
from products.taxonomy import ASSET_CLASSES
from products.universe import Universe

CLASS_INDEX: dict[str, int] = {c.value: k for k, c in enumerate(ASSET_CLASSES)}  # LegFacts.asset_class numbering

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
    model: tuple[int, float, bool] | None = None  # (level, horizon years, lowest category) of a plan on a model

    @classmethod
    def build(cls, *, amount: object, frequency: object = "monthly", day: object = 1,
              legs: Sequence[Mapping[str, Any]] | Mapping[str, float] | None = None, mode: object = "fixed",
              target_return: object = None, on_target: object = "stop", name: str = "",
              model: tuple[int, float, bool] | None = None) -> SipPlan:
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
        return cls(amount_v, str(frequency), day_v, built, str(mode), target, str(on_target), name, model)

    def to_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "frequency": self.frequency, "day": self.day, "mode": self.mode,
                "legs": [{"code": leg.code, "weight": round(leg.weight, 6)} for leg in self.legs],
                "target_return": self.target_return, "on_target": self.on_target, "name": self.name,
                "model": None if self.model is None else {"level": f"C{self.model[0]}",
                                                          "horizon_years": self.model[1],
                                                          "lowest_category": self.model[2]}}


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
    """The plan's legs looked up in the universe; an unknown code is a 4xx naming `legs[i].code`."""
    fund = np.array([universe.code_index.get(leg.code, -1) for leg in plan.legs], dtype=np.int64)
    for i, leg in enumerate(plan.legs):
        if fund[i] < 0:
            raise BadInputError(f"legs[{i}]: unknown fund code {leg.code}", code="unknown_fund",
                                details={"field": f"legs[{i}].code", "code": leg.code})
    return facts_of(universe, fund, np.array([leg.weight for leg in plan.legs], dtype=float))


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
    """A plan whose legs are the model's funds (`advisor.proposal.target_fund_weights`); a fund whose share of
    the debit is below its minimum SIP joins the largest fund of its class, and a class too small for any fund
    joins its substitute class (`enforce_minimums`), so the plan keeps the model's class mix where the amount
    allows."""
    from advisor.proposal import target_fund_weights

    weights = target_fund_weights(universe, level, horizon_years, lowest_category=lowest_category)
    weights = weights[weights > 0].sort_values(ascending=False)
    fund = np.array([universe.code_index[str(c)] for c in weights.index], dtype=np.int64)
    facts = facts_of(universe, fund, weights.to_numpy(dtype=float) / float(weights.sum()))
    split = enforce_minimums(amount * facts.weight, facts.min_sip, amount, facts.asset_class)
    weights = pd.Series(split, index=weights.index)
    weights = weights[weights > 1e-9]
    legs = [{"code": str(code), "weight": float(w)} for code, w in (weights / weights.sum()).items()]
    return SipPlan.build(amount=amount, legs=legs, model=(int(level), float(horizon_years), bool(lowest_category)),
                         **options)


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
    return enforce_minimums(legs, facts.min_sip, amount, facts.asset_class)


def enforce_minimums(legs: np.ndarray, min_sip: np.ndarray, amount: float,
                     asset_class: np.ndarray | None = None) -> np.ndarray:
    """Yuan per leg with every leg at least its fund's minimum SIP, keeping the class mix where the amount
    allows. The smallest leg below its minimum is closed, smallest first: with `asset_class`, its money goes
    to the largest other leg of its class; a class whose last leg is below closes into its substitute class
    (`advisor.construction.SUBSTITUTES`: equity → global / bonds / cash, gold → bonds; less risk, never
    more), else over the remaining legs in proportion. When no leg meets its minimum, the largest takes the
    whole debit."""
    legs = np.asarray(legs, dtype=float).copy()
    active = legs > 1e-9
    cls = None if asset_class is None else np.asarray(asset_class, dtype=np.int64)
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
        money, legs[drop] = legs[drop], 0.0
        active[drop] = False
        receiver = _receiver(legs, active, cls, drop) if cls is not None else None
        if receiver is not None:
            legs[receiver] += money
        else:
            legs = np.where(active, legs, 0.0)
            legs *= amount / legs.sum()
    return legs


def _receiver(legs: np.ndarray, active: np.ndarray, cls: np.ndarray, drop: int) -> int | None:
    """The leg that takes a closed leg's money: the largest active leg of its class, else of the first
    substitute class that has one; None when neither has."""
    from advisor.construction import SUBSTITUTES

    own = ASSET_CLASSES[int(cls[drop])].value
    for name in (own, *SUBSTITUTES.get(own, ())):
        members = active & (cls == CLASS_INDEX[name])
        if members.any():
            return int(np.argmax(np.where(members, legs, -np.inf)))
    return None


# ---------------------------------------------------------------------------------------------
# simulation through the walk-forward simulator
# ---------------------------------------------------------------------------------------------

PLAN_ID = "plan"
LABELS = {
    "model": ("样本外模拟：逐期回溯，每个扣款日只用当时已知的数据、当时的模型和当时选出的基金",
              "Simulated out of sample: walk-forward, each debit uses only the data, the model and the funds "
              "known on its date"),
    "legs": ("模拟：按计划中的基金回放其历史净值（基金是今天选定的，并非样本外）",
             "Simulated on the plan's own funds over their past NAV (the funds are today's choice, so this is "
             "not out of sample)"),
}


def debit_schedule(plan: SipPlan, dates: pd.DatetimeIndex, start: date, last_row: int) -> tuple[np.ndarray, np.ndarray]:
    """(trading rows, debits on each): every scheduled date from `start`, moved to the next trading day when
    the market is closed, as a bank debits a standing order (a long holiday can put two debits on one day)."""
    end = dates[last_row].date()
    scheduled = debit_dates(plan, start, end)
    rows = dates.searchsorted(pd.DatetimeIndex(pd.to_datetime(scheduled)), side="left") if scheduled else np.zeros(0)
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[rows <= last_row]
    unique, counts = np.unique(rows, return_counts=True)
    return unique.astype(np.int64), counts.astype(np.int64)


def facts_of(universe: Universe, fund: np.ndarray, weight: np.ndarray) -> LegFacts:
    """Leg facts for funds given by universe position (a model's funds on one evening)."""
    funds = universe.funds
    min_sip = (pd.to_numeric(funds["min_sip"], errors="coerce").fillna(100.0).to_numpy(dtype=float)[fund]
               if "min_sip" in funds.columns else np.full(len(fund), 100.0))
    return LegFacts(fund=fund, asset_class=np.array([CLASS_INDEX[str(c)] for c in funds["asset_class"].iloc[fund]],
                                                    dtype=np.int64),
                    min_sip=min_sip, risk_level=funds["risk_level"].to_numpy(dtype=np.int64)[fund],
                    weight=np.asarray(weight, dtype=float), names=tuple(str(n) for n in funds["name"].iloc[fund]))


@dataclass
class _Investor:
    """The plan's rule for one evening's money (`advisor.simulation.plans.PlanRules.invest`): the legs (the
    plan's funds, or the model's funds as known that evening), the split (fixed weights, or smart: the
    underweight classes first) and each fund's minimum SIP."""

    universe: Universe
    plan: SipPlan
    facts: LegFacts | None  # fixed legs; None = the model's funds of each evening
    split_log: list[dict[str, Any]] = field(default_factory=list)

    def legs(self, evening: Any) -> LegFacts:
        if self.facts is not None:
            return self.facts
        level, years, lowest = self.plan.model  # type: ignore[misc]
        weights = evening.targets(level, years, lowest)
        codes = [c for c, w in weights.items() if w > 0]
        fund = np.array([self.universe.code_index[c] for c in codes], dtype=np.int64)
        w = np.array([weights[c] for c in codes], dtype=float)
        return facts_of(self.universe, fund, w / w.sum())

    def __call__(self, evening: Any) -> Any:
        from advisor.simulation.book import Orders
        from advisor.simulation.plans import buy_orders

        parts = []
        for k, cust in enumerate(evening.cust.tolist()):
            amount = math.floor(float(evening.cash[k]) * 100.0 + 1e-6) / 100.0
            if amount < 0.01:
                continue
            facts = self.legs(evening)
            held = evening.positions[k] * np.nan_to_num(evening.prices[k])
            class_values = np.bincount(evening.fund_class, weights=held, minlength=len(ASSET_CLASSES))
            split = smart_split(amount, facts, class_values, fixed=self.plan.mode == "fixed")
            if self.facts is None and self.plan.mode == "fixed":
                split = enforce_minimums(split, facts.min_sip, amount, facts.asset_class)
            buy = split > 0.0
            self.split_log.append({"row": int(evening.rows[k]), "amount": amount,
                                   "codes": [str(c) for c in self.universe.codes[facts.fund[buy]]]})
            parts.append(buy_orders(np.full(int(buy.sum()), cust), facts.fund[buy], split[buy],
                                    evening.prices[k, facts.fund[buy]], evening.fees, evening.discount))
        return Orders.concat(parts)


def simulate_plan(universe: Universe, plan: SipPlan, start: date, end: date | None = None, *,
                  customer_level: int | None = None, lowest_category: bool = False,
                  include_ledger: bool = False, config: Any = None) -> dict[str, Any]:
    """Run the plan through the walk-forward simulator (`advisor.simulation`) from `start` to `end`.

    Each scheduled debit (moved to the next trading day when the market is closed) is paid into the account
    the evening before and invested by the plan's rule that evening, filling at the debit day's NAV — as a
    standing order placed before the cut-off. Lots, fees (subscription with the bank discount, each lot's
    redemption rate by holding period), fills and cash are the simulator's (`advisor.simulation.book`); the
    target-profit rule is checked at every close. A plan on a model (`plan_from_model`) buys, on each debit,
    the model's funds as the service would have chosen them on that date (point-in-time research); a plan of
    named funds buys those funds throughout."""
    from advisor.simulation.config import SimulationConfig
    from advisor.simulation.metrics import customer_table
    from advisor.simulation.plans import PlanRules
    from advisor.simulation.simulator import simulate

    facts = validate_plan(universe, plan, customer_level, lowest_category)
    dates = universe.returns.index
    end = min(end or universe.as_of, dates[-1].date())
    if start >= end:
        raise BadInputError("start must be before the end of the data", details={"field": "start"})
    last_row = int(dates.searchsorted(pd.Timestamp(end), side="right")) - 1
    rows, counts = debit_schedule(plan, dates, start, last_row)
    rows, counts = rows[rows >= 1], counts[rows >= 1]  # the first debit is paid in the evening before
    if not len(rows):
        raise BadInputError("no debit falls between start and end", details={"field": "start"})
    if plan.model is None:
        valid = universe.returns.iloc[:, facts.fund].notna().to_numpy()
        first_priced = int(np.where(valid.any(axis=0), valid.argmax(axis=0), len(dates) - 1).max())
        if rows[0] < first_priced:
            raise BadInputError(f"start: a fund of the plan has no NAV before {dates[first_priced].date()}",
                                details={"field": "start", "first_date": str(dates[first_priced].date())})
    level, years, lowest = plan.model if plan.model is not None else (customer_level or 1, 5.0, lowest_category)
    customers = pd.DataFrame([{"customer_id": PLAN_ID, "level": int(level), "horizon_years": float(years),
                               "start": dates[rows[0]], "amount": plan.amount * int(counts[0]),
                               "lowest_category": bool(lowest)}])
    flows = pd.DataFrame({"customer_id": PLAN_ID, "date": dates[rows[1:] - 1],
                          "amount": plan.amount * counts[1:].astype(float)})
    investor = _Investor(universe, plan, None if plan.model is not None else facts)
    rules = PlanRules(customer_ids=[PLAN_ID], invest=investor,
                      target_return=np.array([np.nan if plan.target_return is None else plan.target_return]),
                      take_profit=np.array([plan.on_target == "take_profit"]), needs_research=plan.model is not None)
    config = (config or SimulationConfig()).with_(buy_and_hold=False)
    if plan.model is not None and config.cache_dir is None:
        from advisor.simulation.record import cache_dir

        config = config.with_(cache_dir=cache_dir())
    result = simulate(universe, customers, flows=flows, config=config, end=pd.Timestamp(end), plans=rules)
    row = customer_table(result).iloc[0]
    return _simulation_result(universe, plan, result, row, investor, dates[rows[0]], include_ledger)


def _simulation_result(universe: Universe, plan: SipPlan, result: Any, row: pd.Series, investor: _Investor,
                       first_debit: pd.Timestamp, include_ledger: bool) -> dict[str, Any]:
    from advisor.lifecycle.xirr import xirr

    dates = result.dates
    book = result.extras["book"]
    log = _ledger_frame(universe, book.log or [], result)
    flow_day, flow_amount = result.flow_day, result.flow_amount
    final = float(row["final_value"])
    day0 = dates[0]
    t = np.r_[(dates[flow_day] - day0).days.to_numpy(dtype=float), float((dates[-1] - day0).days)] / 365.0
    cf = np.r_[-flow_amount, final]
    mwr = float(xirr(np.zeros(len(cf), dtype=np.int64), t, cf, 1)[0]) if len(cf) > 1 else float("nan")
    led = result.ledger
    invested = float(led.deposits[0])
    paid_out = float(led.withdrawals[0])
    fees = float(led.buy_fees[0] + led.sell_fees[0] + led.first_fees[0])
    events = []
    for e in result.extras.get("plan_events", []):
        day = str(universe.returns.index[e["row"]].date())
        item: dict[str, Any] = {"action": e["action"], "reached": day, "return": _r(e["return"])}
        if e["action"] == "take_profit":
            sold = log[(log["kind"] == "redemption") & (log["date"] > day)]
            if len(sold):
                first = sold["date"].iloc[0]
                item.update(date=first, cash=round(float(sold.loc[sold["date"] == first, "received"].sum()), 2))
        else:
            item["date"] = day
        events.append(item)
    stopped = next((e["reached"] for e in events if e["action"] == "stop"), None)
    kind = "model" if plan.model is not None else "legs"
    values = pd.Series(result.values[0], index=dates)
    start, end = str(first_debit.date()), str(dates[-1].date())
    debits = round(invested / plan.amount)  # debits made (a stopped plan makes no more)
    legs = leg_facts(universe, plan)
    out: dict[str, Any] = {
        "plan": plan.to_dict(),
        "legs": [{"code": leg.code, "name": legs.names[i], "asset_class": ASSET_CLASSES[legs.asset_class[i]].value,
                  "weight": round(leg.weight, 6), "min_sip": float(legs.min_sip[i])}
                 for i, leg in enumerate(plan.legs)],
        "basis": kind, "label_zh": LABELS[kind][0], "label_en": LABELS[kind][1],
        "kind": "simulated_walk_forward" if kind == "model" else "simulated_plan_funds",
        "start": start, "end": end, "years": round((dates[-1] - first_debit).days / 365.25, 2), "debits": debits,
        "invested": round(invested, 2), "paid_out": round(paid_out, 2), "fees": round(fees, 2),
        "final_value": round(final, 2), "total_gain": round(final + paid_out - invested, 2),
        "total_return": _r(row["total_return"]), "annual_return": _r(row["annual_return"]),
        "volatility": _r(row["annual_volatility"]), "max_drawdown": _r(row["max_drawdown"]),
        "xirr": _r(mwr), "profit_events": events, "stopped_on": stopped,
        "monthly_values": _monthly_points(values, result),
        "funds_bought": sorted({c for s in investor.split_log for c in s["codes"]}),
        "cash_check": round(float(result.cash_check), 6),
        "method": "the walk-forward simulator (advisor.simulation): each debit is paid in the evening before its "
                  "day and bought at that day's NAV (a closed day moves to the next trading day); the one cost model "
                  "(subscription fee with the bank discount, FIFO redemption fee by each lot's holding period); "
                  "dividends reinvested; annual return, volatility and maximum drawdown of the time-weighted daily "
                  "returns (products.analytics); money-weighted return (XIRR) of the debits, payouts and the final "
                  "value",
    }
    if include_ledger:
        out["ledger"] = log.to_dict("records")
    out.update(explain_simulation(out))
    return out


def _ledger_frame(universe: Universe, log: list[dict[str, np.ndarray]], result: Any) -> pd.DataFrame:
    """The plan's transactions from the simulator's fills: amount at the NAV, fee, and paid / received."""
    columns = ["date", "code", "kind", "amount", "fee", "paid", "received"]
    if not log:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({key: np.concatenate([part[key] for part in log]) for key in ("row", "fund", "side",
                                                                                        "amount", "fee")})
    frame = frame[frame["amount"] > 0].sort_values(["row", "side"], kind="stable")
    sell = (frame["side"] == "sell").to_numpy()
    gross, fee = frame["amount"].to_numpy(dtype=float), frame["fee"].to_numpy(dtype=float)
    return pd.DataFrame({
        "date": [str(d.date()) for d in universe.returns.index[frame["row"].to_numpy()]],
        "code": universe.codes[frame["fund"].to_numpy()].astype(str),
        "kind": np.where(sell, "redemption", "subscription"),
        "amount": np.round(np.where(sell, gross, gross - fee), 2), "fee": np.round(fee, 2),
        "paid": np.where(sell, None, np.round(gross, 2)), "received": np.where(sell, np.round(gross - fee, 2), None),
    })[columns].reset_index(drop=True)


def _r(x: Any) -> float | None:
    try:
        number = float(x)
    except (TypeError, ValueError):
        return None
    return round(number, 6) if np.isfinite(number) else None


def _monthly_points(values: pd.Series, result: Any) -> list[dict[str, Any]]:
    flows = pd.Series(0.0, index=values.index)
    np.add.at(flows.to_numpy(), result.flow_day, result.flow_amount)
    frame = pd.DataFrame({"value": values, "net_invested": flows.cumsum()}).dropna()
    if frame.empty:
        return []
    ends = frame.groupby(frame.index.to_period("M")).tail(1)
    return [{"date": str(i.date()), "value": round(float(v), 2), "net_invested": round(float(n), 2)}
            for i, v, n in zip(ends.index, ends["value"], ends["net_invested"], strict=True)]


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def explain_simulation(s: dict[str, Any]) -> dict[str, str]:
    """The simulation in one paragraph each in Chinese and English (label, span, money, risk, profit events)."""
    plan = s["plan"]
    freq_zh = FREQUENCY_ZH[plan["frequency"]]
    when_zh = f"{plan['day']}日" if plan["frequency"] == "monthly" else f"周{WEEKDAY_ZH[plan['day'] - 1]}"
    freq_en = {"weekly": "a week", "fortnightly": "a fortnight", "monthly": "a month"}[plan["frequency"]]
    when_en = (f"on day {plan['day']}" if plan["frequency"] == "monthly" else f"on {WEEKDAY_EN[plan['day'] - 1]}s")
    mode_zh = "智能定投（先买低于目标比例的资产类别）" if plan["mode"] == "smart" else "定额定投"
    mode_en = "smart (underweight asset classes first)" if plan["mode"] == "smart" else "fixed split"
    zh = (f"{s['label_zh']}。{s['start']}至{s['end']}（{s['years']:.1f}年），{freq_zh}{when_zh}{mode_zh}"
          f"¥{plan['amount']:,.2f}，共扣款{s['debits']}次，投入¥{s['invested']:,.2f}（交易费用¥{s['fees']:,.2f}），"
          f"期末市值¥{s['final_value']:,.2f}")
    en = (f"{s['label_en']}. From {s['start']} to {s['end']} ({s['years']:.1f} years), ¥{plan['amount']:,.2f} "
          f"{freq_en} {when_en}, {mode_en}: {s['debits']} debits, ¥{s['invested']:,.2f} paid in "
          f"(¥{s['fees']:,.2f} trading fees), worth ¥{s['final_value']:,.2f} at the end")
    if s["paid_out"] > 0:
        zh += f"，止盈已赎回到账¥{s['paid_out']:,.2f}"
        en += f", ¥{s['paid_out']:,.2f} paid out by taking profit"
    sign = "-" if s["total_gain"] < 0 else ""
    zh += (f"，累计收益{sign}¥{abs(s['total_gain']):,.2f}；年化收益（时间加权）{_pct(s['annual_return'])}，"
           f"资金加权年化收益{_pct(s['xirr'])}，年化波动率{_pct(s['volatility'])}，最大回撤{_pct(s['max_drawdown'])}。")
    en += (f", a total gain of {sign}¥{abs(s['total_gain']):,.2f}; annual return (time-weighted) "
           f"{_pct(s['annual_return'])}, money-weighted {_pct(s['xirr'])} a year, volatility "
           f"{_pct(s['volatility'])}, maximum drawdown {_pct(s['max_drawdown'])}.")
    for e in s["profit_events"]:
        if e["action"] == "stop":
            zh += f"{e['reached']}收益率达到{_pct(e['return'])}，按目标止盈规则停止扣款（持仓保留）。"
            en += (f" On {e['reached']} the return reached {_pct(e['return'])} and the plan stopped debiting "
                   "(holdings kept).")
        elif "cash" in e:
            zh += (f"{e['reached']}收益率达到{_pct(e['return'])}，{e['date']}止盈全部赎回，到账¥{e['cash']:,.2f}，"
                   "随后重新开始定投。")
            en += (f" On {e['reached']} the return reached {_pct(e['return'])}; everything was redeemed on {e['date']} "
                   f"(¥{e['cash']:,.2f} paid out) and the plan started again.")
    zh += "模拟结果不代表未来收益。"
    en += " A simulation does not predict future results."
    return {"explanation_zh": zh, "explanation_en": en}


def with_mode(plan: SipPlan, **changes: Any) -> SipPlan:
    return replace(plan, **changes)
