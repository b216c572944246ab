"""Synthetic after-purchase data for demos, tests and benchmarks, on top of `advisor.demo_customers`.

From the customers and lots of `advisor.demo_customers.generate` (vectorized, 1M customers in seconds):

- **ledger** — each lot becomes the subscription that bought it (at that day's unit NAV, with the fee
  table's fee and the bank discount; money-market lots at 1.00), every distribution of the fund while it
  was held becomes a reinvested dividend (a tenth of customers take cash dividends instead), about 8% of
  customers redeemed part of a lot (with the holding-period fee), and SIP debits are monthly subscriptions
  carrying their plan's id;
- **sip_plans** — a quarter of customers run a monthly plan (¥100–¥3,000) into one or two of their funds,
  started 3–24 months ago; half have a target-profit rule;
- **sip_debits** — the last two scheduled debits of every plan, about 3% failed (mostly insufficient
  balance), some twice in a row;
- **goals** — 40% of customers have a goal (¥50k–¥3M in 2–20 years), a fifth a liquidity reserve of six
  months of expenses; half carry the probability of an earlier run;
- **alert_preferences** — 5% opted out of NAV-swing messages, 1% of drift messages;
- **fund_events** — a manager change and a downgrade of two popular funds, a large-subscription limit.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from advisor.lifecycle.ledger import KINDS
from advisor.lifecycle.prices import EPOCH, TOTAL, UNIT, day_of, distributions, price_table
from products.universe import Universe


def _days(values: pa.Array | pd.Series) -> np.ndarray:
    array = values.to_numpy(zero_copy_only=False) if isinstance(values, pa.Array | pa.ChunkedArray) else values
    return (np.asarray(array, dtype="datetime64[D]") - EPOCH).astype(np.int64)


def _dates(days: np.ndarray) -> np.ndarray:
    return (EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")).astype("datetime64[D]")


def generate_lifecycle(universe: Universe, customers: pa.Table, holdings: pa.Table, *, seed: int = 0,
                       as_of: date | None = None) -> dict[str, pd.DataFrame]:
    """The tables of the module docstring, as frames in the batch formats of `advisor.lifecycle`."""
    rng = np.random.default_rng(seed + 1_000_003)
    as_of = as_of or universe.as_of
    prices = price_table(universe)
    last_day = min(day_of(as_of), prices.last_day)
    funds = universe.funds
    codes = funds.index.to_numpy(dtype=object)
    fund = universe.index_of(holdings["code"].to_numpy(zero_copy_only=False))
    cids = customers["customer_id"].to_numpy(zero_copy_only=False).astype(object)
    cust = pd.Index(cids).get_indexer(holdings["customer_id"].to_numpy(zero_copy_only=False))
    n, m = len(cids), len(fund)
    money = prices.money_market[fund]
    mode = np.where(money | ~prices.has_unit[fund], TOTAL, UNIT)
    buy_day = np.clip(np.maximum(_days(holdings["purchase_date"]), prices.first_day[fund]), None, last_day)
    shares_now = holdings["shares"].to_numpy(zero_copy_only=False).astype(float)
    amount_now = holdings["amount"].to_numpy(zero_copy_only=False).astype(float)
    last_price = prices.price(TOTAL, np.full(m, last_day), fund)
    value_now = np.where(np.isfinite(shares_now), shares_now * last_price, amount_now)
    net = value_now * prices.price(TOTAL, buy_day, fund) / last_price  # what the lot cost, net of the fee
    nav0 = np.where(money, 1.0, prices.price(UNIT, buy_day, fund))
    shares0 = net / nav0
    rate, flat = universe.fees.subscription_rate(fund, net, universe.fee_discount)
    fee = np.round(np.where(np.isnan(flat), net * rate, np.nan_to_num(flat)), 2)
    parts = [pd.DataFrame({"cust": cust, "date": buy_day, "fund": fund, "kind": 0, "amount": np.round(net, 2),
                           "shares": shares0,
                           "fee": fee, "nav": nav0, "plan_id": None})]

    # dividends of the funds while held (unit-priced funds only; money funds pay in the price)
    cash_dividends = rng.random(n) < 0.1
    dist = distributions(universe)
    if len(dist):
        dist = dist.assign(fund=universe.index_of(dist["code"].to_numpy()), day=_days(dist["date"].to_numpy()))
        lots = pd.DataFrame({"lot": np.arange(m), "fund": fund, "buy": buy_day, "shares0": shares0, "cust": cust})
        lots = lots[mode == UNIT]
        paid = lots.merge(dist[["fund", "day", "per_share", "nav"]], on="fund")
        paid = paid[(paid["day"] > paid["buy"]) & (paid["day"] <= last_day)].sort_values(["lot", "day"])
        reinvest = ~cash_dividends[paid["cust"].to_numpy()]
        growth = np.where(reinvest, 1.0 + paid["per_share"] / paid["nav"], 1.0)
        held = paid["shares0"] * pd.Series(growth, index=paid.index).groupby(paid["lot"]).cumprod() / growth
        cash = np.round(held * paid["per_share"], 2)
        parts.append(pd.DataFrame({"cust": paid["cust"], "date": paid["day"], "fund": paid["fund"],
                                   "kind": np.where(reinvest, KINDS.index("dividend_reinvest"),
                                                    KINDS.index("dividend_cash")),
                                   "amount": cash, "shares": np.where(reinvest, cash / paid["nav"], np.nan),
                                   "fee": 0.0, "nav": paid["nav"], "plan_id": None}))

    # partial redemptions
    first_lot = np.r_[0, np.flatnonzero(np.diff(cust)) + 1] if m else np.zeros(0, dtype=np.int64)
    sellers = first_lot[rng.random(len(first_lot)) < 0.08]
    sellers = sellers[buy_day[sellers] < last_day - 10]
    if len(sellers):
        sell_day = buy_day[sellers] + (rng.random(len(sellers)) * (last_day - buy_day[sellers])).astype(np.int64)
        sell_day = np.clip(sell_day, buy_day[sellers] + 1, last_day)
        sold = shares0[sellers] * rng.uniform(0.3, 1.0, len(sellers))
        px = np.where(money[sellers], 1.0, prices.price(UNIT, sell_day, fund[sellers]))
        gross_value = sold * px
        red_fee = np.round(gross_value * universe.fees.redemption_rate(fund[sellers], sell_day - buy_day[sellers]), 2)
        parts.append(pd.DataFrame({"cust": cust[sellers], "date": sell_day, "fund": fund[sellers],
                                   "kind": KINDS.index("redemption"), "amount": np.round(gross_value, 2),
                                   "shares": sold, "fee": red_fee, "nav": px, "plan_id": None}))

    # SIP plans and their debits
    plans, debits, sip_rows = _plans(rng, universe, prices, cids, cust, fund, last_day)
    if len(sip_rows):
        parts.append(sip_rows)
    ledger = pd.concat(parts, ignore_index=True).sort_values(["cust", "date", "kind"], kind="stable",
                                                             ignore_index=True)
    ledger = pd.DataFrame({
        "customer_id": cids[ledger["cust"].to_numpy()], "txn_id": [f"T{i:010d}" for i in range(len(ledger))],
        "date": _dates(ledger["date"].to_numpy()), "code": codes[ledger["fund"].to_numpy()],
        "kind": np.asarray(KINDS, dtype=object)[ledger["kind"].to_numpy()],
        "amount": ledger["amount"].to_numpy(dtype=float), "shares": ledger["shares"].to_numpy(dtype=float),
        "fee": ledger["fee"].to_numpy(dtype=float), "nav": ledger["nav"].to_numpy(dtype=float),
        "plan_id": ledger["plan_id"].to_numpy(dtype=object)})
    value_by_customer = np.bincount(cust, weights=value_now, minlength=n)
    return {"ledger": ledger, "sip_plans": plans, "sip_debits": debits,
            "goals": _goals(rng, customers, cids, value_by_customer, as_of),
            "alert_preferences": _preferences(rng, cids), "fund_events": _fund_events(universe, fund, as_of)}


def _plans(rng: np.random.Generator, universe: Universe, prices, cids: np.ndarray, cust: np.ndarray,
           fund: np.ndarray, last_day: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    min_sip = pd.to_numeric(universe.funds["min_sip"], errors="coerce").fillna(100.0).to_numpy(dtype=float)
    open_fund = universe.funds["status"].astype("str").isin(["open", "limited"]).to_numpy()
    first_lot = np.r_[0, np.flatnonzero(np.diff(cust)) + 1] if len(cust) else np.zeros(0, dtype=np.int64)
    owners = cust[first_lot]
    has = (rng.random(len(first_lot)) < 0.25) & open_fund[fund[first_lot]]
    lot = first_lot[has]
    k = len(lot)
    if k == 0:
        empty = pd.DataFrame(columns=["customer_id", "plan_id"])
        return empty, pd.DataFrame(columns=["customer_id", "plan_id", "date", "status"]), pd.DataFrame()
    plan_fund = fund[lot]
    amount = np.maximum(np.round(np.exp(rng.uniform(np.log(100), np.log(3000), k)), -1), min_sip[plan_fund])
    day = rng.integers(1, 29, k)
    months = rng.integers(3, 25, k)
    as_of = (EPOCH + np.timedelta64(last_day, "D")).astype("datetime64[M]")
    start_month = as_of - months.astype("timedelta64[M]")
    plan_ids = np.array([f"P{i:09d}" for i in range(k)], dtype=object)
    target = np.where(rng.random(k) < 0.5, np.round(rng.uniform(0.08, 0.3, k), 2), np.nan)
    on_target = np.where(rng.random(k) < 0.5, "stop", "take_profit")
    # monthly debits from the start month to now
    count = months + 1
    which = np.repeat(np.arange(k), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    debit_day = ((start_month[which] + step.astype("timedelta64[M]")).astype("datetime64[D]")
                 + (day[which] - 1).astype("timedelta64[D]") - EPOCH).astype(np.int64)
    ok = debit_day <= last_day
    which, debit_day = which[ok], debit_day[ok]
    row = np.searchsorted(prices.days, debit_day, side="left")
    trade_day = prices.days[np.minimum(row, len(prices.days) - 1)]
    inside = (row < len(prices.days)) & (trade_day <= last_day) & (trade_day >= prices.first_day[plan_fund[which]])
    which, debit_day, trade_day = which[inside], debit_day[inside], trade_day[inside]
    failed = rng.random(len(which)) < 0.03
    f = plan_fund[which]
    gross = amount[which]
    money = prices.money_market[f]
    nav = np.where(money, 1.0, prices.price(UNIT, trade_day, f))
    rate, flat = universe.fees.subscription_rate(f, gross, universe.fee_discount)
    fee = np.round(np.where(np.isnan(flat), gross - gross / (1.0 + rate), np.nan_to_num(flat)), 2)
    sip = pd.DataFrame({"cust": owners[has][which], "date": trade_day, "fund": f, "kind": 0,
                        "amount": np.round(gross - fee, 2), "shares": (gross - fee) / nav, "fee": fee, "nav": nav,
                        "plan_id": plan_ids[which]})[~failed]
    plans = pd.DataFrame({"customer_id": cids[owners[has]], "plan_id": plan_ids,
                          "name": np.where(rng.random(k) < 0.5, "养老定投", "月月存"), "amount": amount,
                          "target_return": target, "on_target": on_target, "status": "active",
                          "cycle_start": (start_month.astype("datetime64[D]")).astype("datetime64[D]")})
    last_two = pd.DataFrame({"w": which, "day": debit_day, "failed": failed}).groupby("w").tail(2)
    recent_fail = rng.random(k) < 0.03  # the latest debit of a few plans failed just now
    last = last_two.groupby("w").tail(1).index
    last_two.loc[last, "failed"] |= recent_fail[last_two.loc[last, "w"].to_numpy()]
    debits = pd.DataFrame({"customer_id": cids[owners[has]][last_two["w"].to_numpy()],
                           "plan_id": plan_ids[last_two["w"].to_numpy()], "date": _dates(last_two["day"].to_numpy()),
                           "amount": amount[last_two["w"].to_numpy()],
                           "status": np.where(last_two["failed"], "failed", "ok"),
                           "reason": np.where(last_two["failed"], "insufficient_balance", None)})
    return plans, debits, sip


def _goals(rng: np.random.Generator, customers: pa.Table, cids: np.ndarray, fund_value: np.ndarray,
           as_of: date) -> pd.DataFrame:
    n = len(cids)
    has = rng.random(n) < 0.4
    k = int(has.sum())
    years = rng.integers(2, 21, k)
    target = np.round(np.exp(rng.uniform(np.log(50_000), np.log(3_000_000), k)), -3)
    current = np.round(np.minimum(fund_value[has], target) * rng.uniform(0.2, 1.0, k), 2)
    monthly = np.round(rng.uniform(0, 6_000, k), -2)
    target_date = (np.datetime64(as_of, "D") + (years * 365.25).astype("timedelta64[D]")).astype("datetime64[D]")
    previous = np.where(rng.random(k) < 0.5, rng.uniform(0.6, 0.99, k), np.nan)
    names = np.array(["子女教育", "养老", "购房首付", "换车", "旅行基金"], dtype=object)
    goals = pd.DataFrame({"customer_id": cids[has], "goal_id": [f"G{i:09d}" for i in range(k)],
                          "name": names[rng.integers(0, len(names), k)], "kind": "target", "target_amount": target,
                          "target_date": target_date, "current_amount": current, "monthly_contribution": monthly,
                          "previous_probability": previous})
    reserve = rng.random(n) < 0.2
    r = int(reserve.sum())
    expenses = customers["monthly_expenses"].to_numpy(zero_copy_only=False).astype(float)[reserve]
    cash = customers["cash"].to_numpy(zero_copy_only=False).astype(float)[reserve]
    reserves = pd.DataFrame({"customer_id": cids[reserve], "goal_id": [f"R{i:09d}" for i in range(r)],
                             "name": "活钱", "kind": "reserve", "target_amount": np.maximum(np.round(6 * expenses, -2),
                                                                                            100.0),
                             "target_date": np.datetime64(as_of, "D") + np.timedelta64(183, "D"),
                             "current_amount": cash, "monthly_contribution": 0.0,
                             "previous_probability": np.nan})
    return pd.concat([goals, reserves], ignore_index=True)


def _preferences(rng: np.random.Generator, cids: np.ndarray) -> pd.DataFrame:
    swing = cids[rng.random(len(cids)) < 0.05]
    drift = cids[rng.random(len(cids)) < 0.01]
    kinds = ["nav_swing"] * len(swing) + ["drift"] * len(drift)
    return pd.DataFrame({"customer_id": np.r_[swing, drift], "kind": kinds, "opted_out": True})


def _fund_events(universe: Universe, held: np.ndarray, as_of: date) -> pd.DataFrame:
    counts = np.bincount(held, minlength=len(universe.funds))
    popular = np.argsort(-counts)[:3]
    codes = universe.funds.index.to_numpy()[popular]
    return pd.DataFrame({"code": codes, "event": ["manager_change", "downgraded", "limited"][: len(codes)],
                         "date": str(as_of), "note": ""})
