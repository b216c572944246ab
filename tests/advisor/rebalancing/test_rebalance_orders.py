"""Order instructions from a plan: redemptions, switches paired inside one company, subscriptions."""

from __future__ import annotations

import pytest

from advisor.rebalancing.orders import order_instructions


def test_switches_pair_inside_a_company_and_orders_come_sales_first() -> None:
    trades = [
        {"code": "A1", "action": "sell", "amount": 1000.0, "fee": 5.0, "shares": 400.0, "reason": "class_drift"},
        {"code": "A2", "action": "switch_out", "amount": 3000.0, "fee": 15.0, "reason": "fund_quality"},
        {"code": "A3", "action": "switch_in", "amount": 2000.0, "fee": 1.0, "reason": "fund_quality"},
        {"code": "A4", "action": "switch_in", "amount": 985.0, "fee": 0.5, "reason": "class_drift"},
        {"code": "B1", "action": "buy", "amount": 500.0, "fee": 0.6, "reason": "idle_cash"},
    ]
    companies = {"A1": "x", "A2": "y", "A3": "y", "A4": "y", "B1": "z"}
    orders = order_instructions(trades, companies, "conf", "c1")
    assert [o["side"] for o in orders] == ["redeem", "switch", "switch", "subscribe"]
    assert [o["order_id"] for o in orders] == ["conf-01", "conf-02", "conf-03", "conf-04"]
    switches = [o for o in orders if o["side"] == "switch"]
    assert [(o["fund_code"], o["to_fund_code"]) for o in switches] == [("A2", "A3"), ("A2", "A4")]
    # everything switched out is accounted for, and its proceeds cover what is switched in
    assert sum(o["amount"] for o in switches) == pytest.approx(3000.0, abs=0.02)
    assert sum(o["fee"] for o in switches) == pytest.approx(15.0 + 1.0 + 0.5, abs=0.02)
    assert orders[0]["shares"] == 400.0 and orders[-1]["amount"] == 500.0
    assert all(o["customer_id"] == "c1" and o["currency"] == "CNY" for o in orders)


def test_unpaired_switch_sides_fall_back_to_plain_orders() -> None:
    trades = [{"code": "A2", "action": "switch_out", "amount": 3000.0, "fee": 0.0},
              {"code": "C1", "action": "switch_in", "amount": 800.0, "fee": 0.0}]
    orders = order_instructions(trades, {"A2": "y", "C1": "w"}, "p", "c")
    assert [(o["side"], o["fund_code"], o["amount"]) for o in orders] == [("redeem", "A2", 3000.0),
                                                                          ("subscribe", "C1", 800.0)]
