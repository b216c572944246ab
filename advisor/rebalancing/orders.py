"""Order instructions from a plan's trades: redemptions, switches inside one company, subscriptions.

A plan's trades (`report.customer_json`'s `trades`) are per fund and action. Trading needs orders: each
sale is a redemption (赎回); a sale whose proceeds go into another fund of the same company is a switch
(转换) — one order from the fund switched out to the fund switched in; each purchase is a subscription
(申购). Switch-outs and switch-ins of one company are paired first come, first served (both sides in the
plan's order), so every yuan switched out lands in exactly one switch-in. Orders come in the order they
must be placed: redemptions and switches first (their cash pays for the subscriptions).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

SIDES = ("redeem", "switch", "subscribe")


def order_instructions(trades: Sequence[Mapping[str, Any]], companies: Mapping[str, str],
                       prefix: str, customer_id: str) -> list[dict[str, Any]]:
    """Orders for one customer's plan; `companies` maps fund code → company (switches pair inside one).

    Each order: `order_id` (`{prefix}-NN`), `customer_id`, `side`, `fund_code`, `fund_name`,
    `to_fund_code` / `to_fund_name` (switches), `amount` (yuan redeemed, switched out or paid), `fee`, `shares`
    (redemptions: estimated at the latest NAV), `reason`, `currency`.
    """
    redeem, subscribe = [], []
    outs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ins: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in trades:
        action, code = str(t["action"]), str(t["code"])
        if action == "sell":
            redeem.append(_order("redeem", t, float(t["amount"]), float(t["fee"]), shares=t.get("shares")))
        elif action == "buy":
            subscribe.append(_order("subscribe", t, float(t["amount"]), float(t["fee"])))
        elif action == "switch_out":
            outs[companies.get(code, code)].append(dict(t, left=float(t["amount"]), fee_left=float(t["fee"])))
        elif action == "switch_in":
            ins[companies.get(code, code)].append(dict(t, left=float(t["amount"]), fee_left=float(t["fee"])))
    switches = []
    for company, sources in outs.items():
        targets = ins[company]
        for source in sources:
            while source["left"] > 0.005 and targets:
                target = targets[0]
                # proceeds of the part switched out (after its redemption fee) go into the target
                rate = source["fee_left"] / source["left"] if source["left"] > 0 else 0.0
                proceeds = source["left"] - source["fee_left"]
                moved = min(proceeds, target["left"])
                gross = moved / (1.0 - rate) if rate < 1.0 else moved
                share_in = moved / target["left"] if target["left"] > 0 else 1.0
                fee = gross * rate + target["fee_left"] * share_in
                switches.append({**_order("switch", source, round(gross, 2), round(fee, 2)),
                                 "to_fund_code": str(target["code"]), "to_fund_name": target.get("name"),
                                 "reason": target.get("reason") or source.get("reason")})
                source["left"] -= gross
                source["fee_left"] -= gross * rate
                target["fee_left"] -= target["fee_left"] * share_in
                target["left"] -= moved
                if target["left"] <= 0.005:
                    targets.pop(0)
            if source["left"] > 0.005:  # nothing left to switch into: a plain redemption
                redeem.append(_order("redeem", source, round(source["left"], 2), round(source["fee_left"], 2)))
    for targets in ins.values():  # switch-ins without a source left: plain subscriptions
        for target in targets:
            if target["left"] > 0.005:
                subscribe.append(_order("subscribe", target, round(target["left"], 2), round(target["fee_left"], 2)))
    orders = [*redeem, *switches, *subscribe]
    for i, order in enumerate(orders, start=1):
        order["order_id"] = f"{prefix}-{i:02d}"
        order["customer_id"] = customer_id
    return orders


def _order(side: str, trade: Mapping[str, Any], amount: float, fee: float, shares: object = None) -> dict[str, Any]:
    return {"order_id": "", "customer_id": "", "side": side, "fund_code": str(trade["code"]),
            "fund_name": trade.get("name"), "to_fund_code": None, "to_fund_name": None, "amount": round(amount, 2),
            "fee": round(fee, 2), "shares": None if shares is None else float(shares),
            "reason": trade.get("reason"), "currency": "CNY"}
