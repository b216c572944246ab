"""Output tables and texts: trades, per-customer summary, positions and lots after, single-customer JSON.

Texts a customer or relationship manager reads come in Chinese and English; codes and keys in English.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from advisor.rebalancing.plan import TRADE_REASONS
from products.taxonomy import ASSET_CLASS_NAMES_ZH, AssetClass
from products.universe import Universe

ACTIONS = ("sell", "switch_out", "switch_in", "buy")  # the order orders are placed in (sales fund buys)
STATUSES = ("trade", "no_trade", "assessment_expired")
MODES = ("none", "flow", "full")

REASONS: dict[str, tuple[str, str]] = {
    "trade": ("建议调仓：资产配置偏离超过阈值或有资金进出，调仓缩小偏离，改善高于交易成本。",
              "Rebalance: drift passed the band or money moves in or out; the trades reduce the drift and are worth "
              "more than they cost."),
    "within_bands": ("无需调仓：各类资产偏离均在阈值内，且没有资金进出、基金事件或超风险等级持仓。",
                     "No trade: drift is inside the bands and there is no cash flow, fund event or "
                     "holding above the risk level."),
    "cost_exceeds_benefit": ("暂不调仓：交易费用（申购费、按持有期计的赎回费）高于调仓带来的改善。",
                             "No trade, because the trading cost (subscription and holding-period redemption "
                             "fees) would exceed the benefit."),
    "below_minimum": ("暂不调仓：所需交易低于最低交易金额或基金起购金额。",
                      "No trade, because the trades needed are below the minimum trade or purchase amount."),
    "empty": ("无需调仓：没有持仓，也没有可投资的现金或资金转入。",
              "No trade: nothing is held and there is no cash to invest."),
    "withdrawal_shortfall": ("全部卖出仍不足以支付取现金额，已卖出可卖出的全部持仓。",
                             "Selling everything does not cover the withdrawal; everything sellable is sold."),
    "trade_suitability": ("建议调仓：减持超出风险等级的持仓（适当性优先），"
                          "资产配置偏离可能暂时扩大，将在下次检视时修复。",
                          "Rebalance: holdings above the risk level are reduced (suitability comes first); the "
                          "allocation drift may widen for now and is repaired at the next review."),
    "trade_fund_event": ("建议调仓：持有基金发生事件（关闭、降级或移出模型），卖出并在同类资产中替换；"
                         "资产配置偏离可能略有变化。",
                         "Rebalance: a held fund was closed, downgraded or dropped and is sold and replaced within "
                         "its asset class; the allocation drift may change slightly."),
    "drift_not_reduced": ("暂不调仓：在换手上限、起购金额等约束下可执行的交易不会缩小资产配置偏离，"
                          "不值得支付交易费用。",
                          "No trade, because the trades possible within the turnover cap and other limits would "
                          "not reduce the allocation drift, so they are not worth their fees."),
    "deferred_short_hold": ("暂不卖出：需减持的份额持有不足7天，现在赎回至少收取1.5%赎回费；"
                            "请停止加仓，满7天后再减持（见备注）。",
                            "No sale now, because the units to reduce were held under 7 days and would pay at "
                            "least 1.5% to redeem; stop adding and reduce after day 7 (see the note)."),
    "assessment_expired": ("暂不调仓：风险测评已过期，须重新完成风险测评后才能给出调仓建议。",
                           "No trade: the risk assessment has expired; the customer must be re-assessed before any "
                           "rebalancing advice."),
    "assessment_missing": ("暂不调仓：尚未完成风险测评，须先完成风险测评才能给出调仓建议。",
                           "No trade: there is no risk assessment on file; the customer must be assessed before any "
                           "rebalancing advice."),
}

TRADE_REASON_TEXTS: dict[str, tuple[str, str]] = {
    "class_drift": ("资产配置偏离：卖出超配的资产类别、买入低配的资产类别",
                    "allocation drift: sell an overweight asset class, buy an underweight one"),
    "above_level": ("超出风险等级：减持", "above the risk level: reduce"),
    "fund_event": ("基金发生事件（关闭、降级或移出模型）：卖出并替换", "fund event (closed, downgraded, dropped): "
                   "sell and replace"),
    "fund_quality": ("基金表现较弱（评级低或同类排名靠后）：换成同类优选基金",
                     "weak fund (low rating or bottom of its peers): replace with the selected fund of its class"),
    "cost_saving": ("转换为同一基金费用更低的份额类别", "switch to the fund's cheaper share class"),
    "withdrawal": ("支付取现", "pay the withdrawal"),
    "idle_cash": ("投资闲置资金", "invest idle cash"),
}

TRIGGER_TEXTS: dict[str, tuple[str, str]] = {
    "drift": ("资产配置偏离目标超过阈值", "allocation drifted past the band"),
    "calendar": ("定期检视（季度/月度）到期", "the periodic (quarterly/monthly) review is due"),
    "deposit": ("有新资金转入：优先买入低配资产", "new money: underweight assets are bought first"),
    "withdrawal": ("需要取现：优先卖出超配资产", "a withdrawal: overweight assets are sold first"),
    "fund_event": ("持有基金被降级、关闭或移出模型：在同类资产中替换",
                   "a held fund was downgraded, closed or dropped: replaced within its asset class"),
    "lowered_level": ("风险等级下调：停止加仓超等级基金并建议减持",
                      "risk level lowered: no more buying above the level, reduce those holdings"),
    "above_level": ("持有超出风险等级的基金：建议减持", "holdings above the risk level: reduce them"),
    "drawdown": ("持仓回撤超过该风险等级可承受范围", "drawdown beyond what the level tolerates"),
}

NOTES: dict[str, tuple[str, str]] = {
    "turnover_cap": ("本次调仓换手已达上限，剩余偏离将在下次检视时处理。",
                     "The turnover cap was reached; the remaining drift is left for the next review."),
    "short_hold_fee": ("部分卖出份额持有不足7天，需支付不低于1.5%的赎回费（已计入费用）。",
                       "Some units sold were held under 7 days and pay at least 1.5% redemption fee "
                       "(included in the fee)."),
}

CLASS_NAMES = tuple(c.value for c in AssetClass)
REASON_CODES = {name: i for i, name in enumerate(REASONS)}
TRADE_CODES = (REASON_CODES["trade"], REASON_CODES["withdrawal_shortfall"], REASON_CODES["trade_suitability"],
               REASON_CODES["trade_fund_event"])
EXPIRED_CODES = (REASON_CODES["assessment_expired"], REASON_CODES["assessment_missing"])


def status_codes(reason: np.ndarray) -> np.ndarray:
    """Customer status (codes into STATUSES) from the reason code."""
    return np.where(np.isin(reason, TRADE_CODES), 0, np.where(np.isin(reason, EXPIRED_CODES), 2, 1)).astype(np.int8)


def _cat(codes: np.ndarray, categories: np.ndarray | list[str] | tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes).astype(np.int64),
                                     categories=pd.Index(list(categories)).astype("str"))


def build_outputs(*, universe: Universe, facts, as_of: date, ids: pd.Series, level: np.ndarray, lowest: np.ndarray,
                  flow: np.ndarray, cash: np.ndarray, cash_in: np.ndarray, expenses: np.ndarray,
                  reserve_months: float, held_total: np.ndarray, pairs,
                  pclass: np.ndarray, buy_gross: np.ndarray, sell_value: np.ndarray, pair_reason: np.ndarray,
                  priced, book, held_pos: np.ndarray, trig, reason: np.ndarray, capped: np.ndarray, mode: np.ndarray,
                  target_cls: np.ndarray, actual_cls: np.ndarray, drift_after: np.ndarray,
                  deferred: dict[str, np.ndarray], obj_before: np.ndarray, obj_after: np.ndarray,
                  portfolio: np.ndarray, rejects: list[pd.DataFrame], reject_columns: list[str]):
    from advisor.rebalancing.batch import BatchResult
    from advisor.rebalancing.inputs import rejects_frame
    from advisor.rebalancing.pricing import lot_dates_array, sum_by

    n = len(ids)
    pc, pf = pairs.cust, pairs.fund
    codes = universe.codes
    nav = facts.nav[pf]

    # ---- trades: split each pair into plain and switched parts
    sell_fee, short_fee = priced.sell_fee, priced.short_fee
    out_share = np.divide(priced.switch_out, sell_value, out=np.zeros(len(pc)), where=sell_value > 0)
    plain_buy = buy_gross * priced.plain_share
    parts = (
        (sell_value - priced.switch_out, sell_fee * (1 - out_share), short_fee * (1 - out_share)),
        (priced.switch_out, sell_fee * out_share, short_fee * out_share),
        (priced.switch_in, priced.switch_fee, np.zeros(len(pc))),
        (plain_buy, priced.buy_fee * priced.plain_share, np.zeros(len(pc))),
    )
    rows_pair, rows_action, rows_amount, rows_fee, rows_short = [], [], [], [], []
    for a, (amount, fee, short) in enumerate(parts):
        sel = np.flatnonzero(amount > 0.005)
        rows_pair.append(sel)
        rows_action.append(np.full(len(sel), a, dtype=np.int8))
        rows_amount.append(amount[sel])
        rows_fee.append(fee[sel])
        rows_short.append(short[sel])
    t_pair = np.concatenate(rows_pair)
    t_action = np.concatenate(rows_action)
    order = np.lexsort((t_pair, t_action, pc[t_pair]))  # per customer: sales first, then buys
    t_pair, t_action = t_pair[order], t_action[order]
    amount = np.concatenate(rows_amount)[order]
    fee = np.concatenate(rows_fee)[order]
    short = np.concatenate(rows_short)[order]
    is_sale = t_action <= 1
    shares = np.where(is_sale, amount, amount - fee) / nav[t_pair]
    lot_lists = lot_dates_array(book, held_pos, len(pc), priced.lot_sold)
    lot_dates = lot_lists.take(pa.array(np.where(is_sale, t_pair, 0)))
    empty = pa.ListArray.from_arrays(pa.array(np.zeros(len(t_pair) + 1, np.int32)), pa.array([], pa.date32()))
    lot_dates = pa.array([], pa.list_(pa.date32())) if len(t_pair) == 0 else pa.compute.if_else(
        pa.array(is_sale), lot_dates, empty)
    t_reason = np.maximum(pair_reason[t_pair].astype(np.int64), 1) - 1
    trades = pd.DataFrame({
        "customer_id": ids.take(pc[t_pair]).reset_index(drop=True),
        "code": _cat(pf[t_pair], codes),
        "asset_class": _cat(pclass[t_pair], CLASS_NAMES),
        "action": _cat(t_action, ACTIONS),
        "reason": _cat(t_reason, TRADE_REASONS[1:]),
        "amount": np.round(amount, 2),
        "shares": np.round(shares, 2),
        "fee": np.round(fee, 2),
        "short_hold_fee": np.round(short, 2),
        "min_holding_days": np.where(is_sale, priced.min_days[t_pair], np.nan),
        "fund_risk_level": facts.risk_level[pf[t_pair]].astype(np.int8),
        "lot_dates": pd.arrays.ArrowExtensionArray(pa.chunked_array([lot_dates], pa.list_(pa.date32()))),
    })

    # ---- positions and class weights after
    after = np.where(np.abs(priced.after) < 1e-6, 0.0, priced.after)
    k = len(CLASS_NAMES)
    from advisor.cash_reserve import investable_cash

    cash_after_in = investable_cash(cash + priced.cash, expenses, reserve_months)  # the reserve stays out
    after_cls = sum_by(pc * k + pclass, after, n * k).reshape(n, k)
    after_cls[:, 0] += cash_after_in
    after_total = after_cls.sum(axis=1)
    after_cls = np.divide(after_cls, after_total[:, None], out=np.zeros_like(after_cls),
                          where=after_total[:, None] > 0)
    positions = pd.DataFrame({
        "customer_id": ids.take(pc).reset_index(drop=True), "code": _cat(pf, codes),
        "asset_class": _cat(pclass, CLASS_NAMES),
        "risk_level": facts.risk_level[pf].astype(np.int8),
        "value_before": np.round(pairs.held, 2), "value_after": np.round(after, 2),
        "target_weight": pairs.target,
    })

    # ---- summary per customer
    per = {a: sum_by(pc[t_pair], np.where(t_action == i, amount, 0.0), n) for i, a in enumerate(ACTIONS)}
    n_trades = np.bincount(pc[t_pair], minlength=n)
    buys = per["buy"] + per["switch_in"]
    sells = per["sell"] + per["switch_out"]
    short_c = sum_by(pc[t_pair], short, n)
    scale = np.where(portfolio > 0, portfolio, 1.0)
    turnover = np.where(portfolio > 0, np.maximum(sells - np.maximum(-flow, 0.0), 0.0) / scale, 0.0)
    status = status_codes(reason)
    summary = pd.DataFrame({
        "customer_id": ids,
        "risk_level": level.astype(np.int8),
        "lowest_category": lowest.astype(bool),  # 最低风险承受能力类别: buys nothing above R1
        "status": _cat(status, STATUSES),
        "severity": pd.Categorical.from_codes(trig.severity, categories=["none", "suggest", "urge"]),
        "triggers": trig.names(),
        "trade_reasons": _trade_reason_labels(pc[t_pair], pair_reason[t_pair], n),
        "mode": _cat(mode, MODES),
        "fund_events": trig.fund_event_detail,
        "drift_before": trig.drift_total, "drift_class_max": trig.drift_class_max, "drift_after": drift_after,
        "drawdown": trig.drawdown,
        "value_before": held_total, "value_after": sum_by(pc, after, n), "cash_flow": flow,
        "cash_before": cash, "investable_cash": cash_in, "investable_cash_after": cash_after_in,
        "cash_remainder": np.round(np.where(np.abs(priced.cash) < 1e-6, 0.0, priced.cash), 2),
        # a withdrawal the sales cannot cover in full (fees included) pays what there is: the cash never goes
        # below zero and the rest is reported unpaid (status withdrawal_shortfall)
        "cash_after": np.round(np.maximum(cash + priced.cash, 0.0), 2),
        "withdrawal_unpaid": np.round(np.maximum(-(cash + priced.cash), 0.0), 2),
        "buy_amount": buys, "sell_amount": sells, "fee": priced.fees, "short_hold_fee": short_c,
        "cost_bps": np.where(portfolio > 0, priced.fees * 1e4 / scale, 0.0),
        "turnover": turnover, "turnover_capped": capped,
        "objective_before": obj_before, "objective_after": obj_after, "n_trades": n_trades,
        # above-level units held under 7 days: not sold now, reduce from `deferred_sell_after`
        "deferred_value": deferred["value"], "deferred_fee_now": deferred["fee_now"],
        "deferred_fee_then": deferred["fee_then"], "deferred_sell_after": deferred["sell_after"],
    })
    for j, name in enumerate(CLASS_NAMES):
        summary[f"before_{name}"] = actual_cls[:, j]
        summary[f"after_{name}"] = after_cls[:, j]
        summary[f"target_{name}"] = target_cls[:, j]
    summary["reason"] = _cat(reason, list(REASONS))
    summary["reason_zh"] = _cat(reason, [v[0] for v in REASONS.values()])
    summary["reason_en"] = _cat(reason, [v[1] for v in REASONS.values()])
    lots_after = _lots_after(universe, facts, as_of, ids, pairs, book, held_pos, buy_gross, priced)
    return BatchResult(trades=trades, summary=summary, positions=positions, rejects=rejects_frame(rejects),
                       as_of=as_of, universe_version=universe.version, lots_after=lots_after)


def _trade_reason_labels(cust: np.ndarray, reason: np.ndarray, n: int) -> pd.Categorical:
    """Per customer, the distinct trade reasons as a comma-separated label ('' without trades)."""
    bits = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(bits, cust, np.left_shift(1, reason.astype(np.int64)))
    combos, inverse = np.unique(bits, return_inverse=True)
    labels = [",".join(TRADE_REASONS[r] for r in range(1, len(TRADE_REASONS)) if int(m) >> r & 1) for m in combos]
    return pd.Categorical.from_codes(inverse.astype(np.int64), categories=pd.Index(labels, dtype="str"))


def _lots_after(universe: Universe, facts, as_of: date, ids: pd.Series, pairs, book, held_pos: np.ndarray,
                buy_gross: np.ndarray, priced) -> pd.DataFrame:
    """The lots after the plan in the holdings input format: sold lots reduced first in, first out, each
    purchase a new lot dated the trade date (amount = value invested, shares at the latest NAV)."""
    codes = universe.codes
    remaining = book.value - priced.lot_sold
    keep = remaining > 0.005
    net_in = buy_gross - priced.buy_fee * priced.plain_share - priced.switch_fee
    bought = np.flatnonzero(net_in > 0.005)
    cust = np.concatenate([book.cust[keep], pairs.cust[bought]])
    fund = np.concatenate([book.fund_idx[keep], pairs.fund[bought]])
    value = np.concatenate([remaining[keep], net_in[bought]])
    dates = np.concatenate([book.purchase_date[keep].astype("datetime64[D]"),
                            np.full(len(bought), np.datetime64(as_of, "D"))])
    order = np.lexsort((dates, fund, cust))
    cust, fund, value, dates = cust[order], fund[order], value[order], dates[order]
    return pd.DataFrame({
        "customer_id": ids.take(cust).reset_index(drop=True),
        "code": pd.Series(codes[fund], dtype="str"),
        "shares": np.round(value / facts.nav[fund], 4),
        "amount": np.round(value, 2),
        "purchase_date": pd.to_datetime(dates),
    })


def write_parquet(frame: pd.DataFrame, path: object) -> None:
    """Parquet without pandas' dtype metadata, so list columns (`lot_dates`) read back anywhere."""
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path)


def customer_json(result, customer_id: str, universe: Universe) -> dict[str, Any]:
    """The single-customer answer: triggers, trades with reasons, portfolio before/after, cost, why."""
    summary = result.summary
    row = summary.loc[summary["customer_id"] == str(customer_id)]
    if row.empty:
        return {"customer_id": customer_id, "status": "rejected",
                "rejects": result.rejects.to_dict(orient="records")}
    s = row.iloc[0]
    trades = result.trades.loc[result.trades["customer_id"] == str(customer_id)]
    positions = result.positions.loc[result.positions["customer_id"] == str(customer_id)]
    names = universe.funds["name"].astype("str")
    trade_rows = [{
        "code": str(t.code), "name": names.get(str(t.code), ""), "asset_class": str(t.asset_class),
        "action": str(t.action), "reason": str(t.reason),
        "reason_zh": TRADE_REASON_TEXTS[str(t.reason)][0], "reason_en": TRADE_REASON_TEXTS[str(t.reason)][1],
        "amount": float(t.amount), "shares": float(t.shares), "fee": float(t.fee),
        "short_hold_fee": float(t.short_hold_fee), "fund_risk_level": f"R{int(t.fund_risk_level)}",
        "lot_dates": [d.isoformat() for d in (t.lot_dates if t.lot_dates is not None else [])],
    } for t in trades.itertuples(index=False)]
    total_before = max(float(positions["value_before"].sum()), 0.0)
    total_after = max(float(positions["value_after"].sum()), 0.0)
    funds = [{
        "code": str(p.code), "name": names.get(str(p.code), ""), "asset_class": str(p.asset_class),
        "risk_level": f"R{int(p.risk_level)}", "value_before": float(p.value_before),
        "value_after": float(p.value_after),
        "weight_before": float(p.value_before) / total_before if total_before else 0.0,
        "weight_after": float(p.value_after) / total_after if total_after else 0.0,
        "target_weight": float(p.target_weight),
    } for p in positions.itertuples(index=False) if p.value_before > 0 or p.value_after > 0 or p.target_weight > 0]
    classes = [{"asset_class": c, "name_zh": ASSET_CLASS_NAMES_ZH[AssetClass(c)],
                "before": float(s[f"before_{c}"]), "after": float(s[f"after_{c}"]), "target": float(s[f"target_{c}"])}
               for c in CLASS_NAMES]
    fired = [t for t in str(s["triggers"]).split(",") if t]
    notes = []
    if bool(s["turnover_capped"]):
        notes.append(dict(zip(("zh", "en"), NOTES["turnover_cap"], strict=True)))
    if float(s["short_hold_fee"]) > 0:
        notes.append(dict(zip(("zh", "en"), NOTES["short_hold_fee"], strict=True)))
    if float(s["deferred_value"]) > 0:
        day = pd.Timestamp(s["deferred_sell_after"]).date().isoformat()
        value, now, then = float(s["deferred_value"]), float(s["deferred_fee_now"]), float(s["deferred_fee_then"])
        notes.append({
            "zh": f"超出风险等级的持仓中有¥{value:,.2f}持有不足7天：请停止加仓，{day}（满7天）后再减持，"
                  f"届时赎回费约¥{then:,.2f}，而现在卖出需¥{now:,.2f}。",
            "en": f"¥{value:,.2f} of the holdings above the risk level was bought under 7 days ago: stop adding, "
                  f"and reduce from {day} (day 7), when the redemption fee is about ¥{then:,.2f} instead of "
                  f"¥{now:,.2f} today.",
            "sell_after": day, "fee_now": round(now, 2), "fee_then": round(then, 2)})
    reason_zh, reason_en = REASONS[str(s["reason"])]
    if s["reason"] in ("cost_exceeds_benefit", "within_bands", "drift_not_reduced"):
        reason_en += f" Drift is {float(s['drift_before']):.1%}."
        reason_zh += f"当前偏离 {float(s['drift_before']):.1%}。"
    reasons = [r for r in str(s["trade_reasons"]).split(",") if r]
    return {
        "customer_id": str(customer_id), "as_of": result.as_of, "universe_version": result.universe_version,
        "risk_level": f"C{int(s['risk_level'])}", "lowest_category": bool(s["lowest_category"]),
        "status": str(s["status"]), "severity": str(s["severity"]), "mode": str(s["mode"]),
        "triggers": [{"name": t, "zh": TRIGGER_TEXTS[t][0], "en": TRIGGER_TEXTS[t][1],
                      **({"detail": str(s["fund_events"])} if t == "fund_event" else {})} for t in fired],
        "reason": {"code": str(s["reason"]), "zh": reason_zh, "en": reason_en},
        "trade_reasons": [{"code": r, "zh": TRADE_REASON_TEXTS[r][0], "en": TRADE_REASON_TEXTS[r][1]}
                          for r in reasons],
        "trades": trade_rows,
        "cost": {"fee": round(float(s["fee"]), 2), "cost_bps": round(float(s["cost_bps"]), 2),
                 "short_hold_fee": round(float(s["short_hold_fee"]), 2), "turnover": float(s["turnover"])},
        "cash": {"cash_flow": float(s["cash_flow"]), "remainder": float(s["cash_remainder"]),
                 "before": float(s["cash_before"]), "after": float(s["cash_after"]),
                 "investable": float(s["investable_cash"])},
        "drift": {"before": float(s["drift_before"]), "after": float(s["drift_after"]),
                  "largest_class_gap": float(s["drift_class_max"])},
        "drawdown": float(s["drawdown"]),
        "portfolio": {"before_value": total_before, "after_value": total_after, "funds": funds, "classes": classes},
        "notes": notes,
    }


def customer_rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """The per-customer summary of a batch as JSON rows: status and why (zh/en), drift before and after,
    cost, the trade reasons, orders and amounts — what an RM scans before opening one plan."""
    rows = []
    for s in summary.itertuples(index=False):
        code = str(s.reason)
        zh, en = REASONS[code]
        rows.append({
            "customer_id": str(s.customer_id), "risk_level": f"C{int(s.risk_level)}", "status": str(s.status),
            "reason": {"code": code, "zh": zh, "en": en},
            "drift": {"before": float(s.drift_before), "after": float(s.drift_after)},
            "cost": {"fee": round(float(s.fee), 2), "cost_bps": round(float(s.cost_bps), 2),
                     "short_hold_fee": round(float(s.short_hold_fee), 2)},
            "trade_reasons": [{"code": r, "zh": TRADE_REASON_TEXTS[r][0], "en": TRADE_REASON_TEXTS[r][1]}
                              for r in str(s.trade_reasons).split(",") if r],
            "orders": int(s.n_trades), "buy_amount": round(float(s.buy_amount), 2),
            "sell_amount": round(float(s.sell_amount), 2), "turnover": float(s.turnover),
            "turnover_capped": bool(s.turnover_capped),
        })
    return rows


def book_json(result) -> dict[str, Any]:
    """A batch as JSON: the batch summary (shares of customers by status, of traded value by trade reason,
    orders per trading customer, round trips, fees per yuan of drift removed) and one row per customer."""
    from advisor.rebalancing.metrics import run_summary

    return {"as_of": result.as_of, "universe_version": result.universe_version,
            "summary": run_summary(result.summary, result.trades), "customers": customer_rows(result.summary),
            "rejects": result.rejects.to_dict(orient="records")}
