"""Monthly and yearly statements (月度账单 / 年度账单): value, flows, gains, fees, allocation, health score.

A statement covers a calendar month (`2025-12`) or year (`2025`); a period that has not ended yet runs to
the valuation date and says so (`to_date`). Its numbers come from the returns engine over the ledger up to
the period's end (the period is a window starting after the close of the day before it), so a statement
agrees with `advisor plan returns` to the cent:

- value at the start and at the end, net money in, deposits (gross subscriptions), withdrawals (net
  redemptions), dividends paid in cash and reinvested, fees paid (yuan), the gain (end − start − net money
  in) and the time-weighted return of the period; the money-weighted return (XIRR) only for periods of a
  year or more (an annualized figure from a month is misleading);
- since the first transaction: money in, total gain, holding gain 持有收益;
- every fund held during the period with its value and gain, and every transaction of the period;
- the allocation at the end against the model of the customer's level and horizon (the health check's
  measure of the actual mix, `advisor.lifecycle.alerts.portfolio.class_mix`), and the health score when the
  caller asks for it (`advisor.diagnosis`, on the lots held at the end).

Texts are plain Chinese and English, with no code words.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from advisor.lifecycle.alerts import lifecycle_context
from advisor.lifecycle.alerts.portfolio import class_mix
from advisor.lifecycle.book import LifecycleBook
from advisor.lifecycle.ledger import KIND_NAMES_ZH, KINDS, open_lots
from advisor.lifecycle.prices import date_of, day_of
from advisor.lifecycle.returns import Window, compute_returns
from advisor.model_portfolios import LEVEL_NAMES_ZH
from products.errors import BadInputError
from products.taxonomy import ASSET_CLASS_NAMES_EN, ASSET_CLASS_NAMES_ZH, ASSET_CLASSES

KIND_NAMES_EN = ("subscription", "redemption", "switch out", "switch in", "cash dividend", "reinvested dividend")


@dataclass(frozen=True)
class Period:
    kind: str  # "month" or "year"
    start: date
    end: date

    @property
    def label(self) -> str:
        return self.start.isoformat()[:7] if self.kind == "month" else str(self.start.year)

    @property
    def label_zh(self) -> str:
        return f"{self.start.year}年{self.start.month}月" if self.kind == "month" else f"{self.start.year}年"

    @property
    def label_en(self) -> str:
        return self.start.strftime("%B %Y") if self.kind == "month" else str(self.start.year)


def parse_period(text: object) -> Period:
    """`YYYY-MM` (a month) or `YYYY` (a year); anything else is a BadInputError naming `period`."""
    value = str(text).strip()
    try:
        if len(value) == 7 and value[4] == "-":
            year, month = int(value[:4]), int(value[5:])
            start = date(year, month, 1)
            return Period("month", start, date(year, month, calendar.monthrange(year, month)[1]))
        if len(value) == 4 and value.isdigit():
            return Period("year", date(int(value), 1, 1), date(int(value), 12, 31))
    except ValueError:
        pass
    raise BadInputError(f"period must be a month YYYY-MM or a year YYYY, got {value!r}",
                        details={"field": "period", "value": value})


def _money(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 2)


def _rate(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def statement(book: LifecycleBook, period: Period, i: int = 0, *, health: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """Customer row `i`'s statement for `period` (see the module docstring)."""
    if period.start > book.as_of:
        raise BadInputError(f"period {period.label} has not started yet (valuation date {book.as_of})",
                            details={"field": "period"})
    end = min(period.end, book.as_of)
    end_day, boundary = day_of(end), day_of(period.start - timedelta(days=1))
    mine = np.flatnonzero((book.events.cust == i) & (book.events.day <= end_day))
    events = book.events.take(mine)
    events.cust = np.zeros(len(events), dtype=np.int64)
    result = compute_returns(events, 1, book.prices, end, windows=(Window("inception", None),
                                                                   Window("period", boundary)))
    c = {k: v[0] for k, v in result.customer.items()}
    in_period = events.day > boundary
    kind = events.kind
    flows = {
        "deposits": float(events.cash_in[in_period & (kind == KINDS.index("subscription"))].sum()),
        "withdrawals": float(events.cash_out[in_period & (kind == KINDS.index("redemption"))].sum()),
        "dividends_cash": float(events.cash_out[in_period & (kind == KINDS.index("dividend_cash"))].sum()),
        "dividends_reinvested": float(events.income[in_period & (kind == KINDS.index("dividend_reinvest"))].sum()),
        "fees": float((events.fee_in + events.fee_out)[in_period].sum()),
    }
    span = (end - period.start).days + 1
    summary = {
        "start_value": _money(c["start_value_period"]), "end_value": _money(c["market_value"]),
        "net_flow": _money(c["net_flow_period"]), **{k: _money(v) for k, v in flows.items()},
        "gain": _money(c["gain_period"]), "twr": _rate(c["twr_period"]),
        "xirr": _rate(c["xirr_period"]) if span >= 365 else None,
    }
    since = {"invested": _money(c["invested"]), "withdrawn": _money(c["withdrawn"]),
             "total_gain": _money(c["total_gain"]), "holding_gain": _money(c["holding_gain"]),
             "holding_return": _rate(c["holding_return"]), "twr": _rate(c["twr_inception"]),
             "xirr": _rate(c["xirr_inception"]), "first_date": None if np.isnat(c["first_date"]) else
             str(c["first_date"])[:10]}
    codes, names = book.prices.codes, book.prices.names
    pos = result.position
    funds = []
    for p in range(len(pos["fund"])):
        held = pos["market_value"][p] > 0.005 or abs(pos.get("gain_period", np.zeros(1))[p]) > 0.005
        if not held:
            continue
        f = int(pos["fund"][p])
        funds.append({"code": str(codes[f]), "name": str(names[f]), "end_value": _money(pos["market_value"][p]),
                      "gain": _money(pos["gain_period"][p]), "twr": _rate(pos["twr_period"][p]),
                      "holding_gain": _money(pos["holding_gain"][p])})
    funds.sort(key=lambda f: -(f["end_value"] or 0.0))
    total_value = sum(f["end_value"] or 0.0 for f in funds)
    for f in funds:
        f["weight"] = round((f["end_value"] or 0.0) / total_value, 4) if total_value > 0 else None
    # the money contract: amount at the NAV without fees; paid = amount + fee (buys), received = amount − fee
    is_reinvest = kind == KINDS.index("dividend_reinvest")
    paid = events.cash_in
    received = events.cash_out
    amount = np.where(paid > 0, paid - events.fee_in, np.where(is_reinvest, events.income, received + events.fee_out))
    transactions = [{"date": str(date_of(d)), "code": str(codes[f]), "name": str(names[f]), "kind": KINDS[k],
                     "kind_zh": KIND_NAMES_ZH[k], "amount": _money(a), "fee": _money(fe),
                     "paid": _money(pa_) if pa_ > 0 else None, "received": _money(re_) if re_ > 0 else None,
                     "estimated": bool(est)}
                    for d, f, k, a, fe, pa_, re_, est in zip(
                        events.day[in_period], events.fund[in_period], kind[in_period], amount[in_period],
                        (events.fee_in + events.fee_out)[in_period], paid[in_period], received[in_period],
                        events.estimated[in_period], strict=True)]
    allocation = _allocation(book, i, pos)
    out: dict[str, Any] = {
        "customer_id": str(book.customer_id[i]),
        "period": {"kind": period.kind, "label": period.label, "start": period.start.isoformat(),
                   "end": end.isoformat(), "to_date": end < period.end},
        "summary": summary, "since_inception": since, "funds": funds, "transactions": transactions,
        "allocation": allocation, "health": health,
        "cost_basis_estimated": bool(c["cost_basis_estimated"]),
        "universe_version": book.universe.version,
    }
    out.update(explain_statement(out, period))
    return out


def _allocation(book: LifecycleBook, i: int, pos: dict[str, np.ndarray]) -> dict[str, Any]:
    ctx = lifecycle_context(book.universe)
    customers = book.customers.iloc[[i]].reset_index(drop=True)
    held = pos["market_value"] > 0
    actual, target = class_mix(ctx, customers, np.zeros(int(held.sum()), dtype=np.int64), pos["fund"][held],
                               pos["market_value"][held])
    if not np.isfinite(actual).all():
        return {"actual": None, "target": None, "drift": None}
    level = int(1 if customers["lowest_category"].iloc[0] else customers["risk_level"].iloc[0])
    drift = float(np.abs(actual[0] - target[0]).sum() / 2)
    names = [c.value for c in ASSET_CLASSES]
    return {"level": f"C{level}", "horizon_years": float(customers["horizon_years"].iloc[0]),
            "actual": dict(zip(names, np.round(actual[0], 4).tolist(), strict=True)),
            "target": dict(zip(names, np.round(target[0], 4).tolist(), strict=True)), "drift": round(drift, 4)}


def health_of(book: LifecycleBook, i: int, end: date) -> dict[str, Any] | None:
    """The health score of the lots held at `end` (the health check on a batch of one)."""
    from advisor.diagnosis import diagnose_customer, diagnosis_context

    events = book.events.take(np.flatnonzero((book.events.cust == i) & (book.events.day <= day_of(end))))
    lots = open_lots(events)
    if not len(lots.fund):
        return None
    row = book.customers.iloc[i]
    payload = {"customer_id": str(row["customer_id"]), "risk_level": f"C{int(row['risk_level'])}",
               "lowest_category": bool(row["lowest_category"]),
               "holdings": [{"code": str(book.prices.codes[f]), "amount": float(u * book.prices.price(m, np.array(
                   [day_of(end)]), np.array([f]))[0]), "purchase_date": str(date_of(d))}
                   for f, u, m, d in zip(lots.fund, lots.units, lots.mode, lots.day, strict=True)]}
    for key in ("age", "horizon_years", "monthly_expenses", "cash", "deposits", "wealth_products", "insurance"):
        value = row.get(key)
        if value is not None and value == value:
            payload[key] = float(value)
    if row.get("assessment_expires_on") is not None and not np.isnat(np.datetime64(row["assessment_expires_on"])):
        payload["assessment_expires_on"] = str(row["assessment_expires_on"])[:10]
    report = diagnose_customer(diagnosis_context(book.universe), payload, as_of=end)
    return {"score": report["health_score"], "band": report["health_band"], "band_zh": report["health_band_zh"],
            "top_actions_zh": [a["title_zh"] for a in report.get("actions", [])][:3],
            "top_actions_en": [a.get("title_en", "") for a in report.get("actions", [])][:3]}


def _y(x: float | None) -> str:
    return "—" if x is None else f"{'-' if x < -0.005 else ''}¥{abs(x):,.2f}"


def _p(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def explain_statement(s: dict[str, Any], period: Period) -> dict[str, str]:
    m, since, alloc = s["summary"], s["since_inception"], s["allocation"]
    end = s["period"]["end"]
    name_zh = f"{period.label_zh}{'月度' if period.kind == 'month' else '年度'}账单"
    name_en = f"{'Monthly' if period.kind == 'month' else 'Yearly'} statement for {period.label_en}"
    to_date_zh = f"（截至{end}）" if s["period"]["to_date"] else ""
    to_date_en = f" (to {end})" if s["period"]["to_date"] else ""
    gain = m["gain"] or 0.0
    moves_zh, moves_en = [], []
    for key, zh_word, en_words in (("deposits", "投入", "put in {}"), ("withdrawals", "取出", "took out {}"),
                                   ("dividends_cash", "收到现金分红", "received {} in cash dividends"),
                                   ("dividends_reinvested", "红利再投资", "reinvested {} of dividends"),
                                   ("fees", "支付交易费用", "paid {} in fees")):
        if m[key]:
            moves_zh.append(f"{zh_word}{_y(m[key])}")
            moves_en.append(en_words.format(_y(m[key])))
    zh = [f"{period.label_zh}{to_date_zh}：期末资产{_y(m['end_value'])}，期初{_y(m['start_value'])}。"
          + (f"本期{'，'.join(moves_zh)}。" if moves_zh else "本期没有交易。")
          + f"本期{'收益' if gain >= 0 else '亏损'}{_y(abs(gain))}，时间加权收益率{_p(m['twr'])}"
          + (f"，资金加权年化收益率{_p(m['xirr'])}" if m["xirr"] is not None else "") + "。"]
    en = [f"{period.label_en}{to_date_en}: worth {_y(m['end_value'])} at the end, {_y(m['start_value'])} at the start. "
          + (f"You {', '.join(moves_en)}. " if moves_en else "No transactions this period. ")
          + f"The period {'gained' if gain >= 0 else 'lost'} {_y(abs(gain))}, a time-weighted return of "
          f"{_p(m['twr'])}" + (f" (money-weighted {_p(m['xirr'])} a year)" if m["xirr"] is not None else "") + "."]
    if since["first_date"]:
        total, held = since["total_gain"] or 0.0, since["holding_gain"] or 0.0
        zh.append(f"自{since['first_date']}首次投资至期末，累计{'收益' if total >= 0 else '亏损'}{_y(abs(total))}，"
                  f"期末持有{'收益' if held >= 0 else '亏损'}{_y(abs(held))}。")
        en.append(f"From your first investment on {since['first_date']} to the end of the period you "
                  f"{'gained' if total >= 0 else 'lost'} {_y(abs(total))} in all; what you held at the end was "
                  f"{_y(abs(held))} {'above' if held >= 0 else 'below'} its cost.")
    if alloc.get("drift") is not None:
        actual, target = alloc["actual"], alloc["target"]
        gaps = sorted(((abs(actual[c] - target[c]), c) for c in actual), reverse=True)
        worst = gaps[0][1]
        cls = next(a for a in ASSET_CLASSES if a.value == worst)
        level = int(alloc["level"][1])
        zh.append(f"资产配置与{alloc['level']}（{LEVEL_NAMES_ZH[level]}）模型组合的偏离度为{_p(alloc['drift'])}，"
                  f"偏离最大的是{ASSET_CLASS_NAMES_ZH[cls]}（当前{_p(actual[worst])}，目标{_p(target[worst])}）。")
        en.append(f"Your allocation is {_p(alloc['drift'])} away from the {alloc['level']} model; the largest gap is "
                  f"in {ASSET_CLASS_NAMES_EN[cls]} ({_p(actual[worst])} against a target of {_p(target[worst])}).")
    if s["health"]:
        h = s["health"]
        zh.append(f"持仓健康分{h['score']:.0f}分（{h['band_zh']}）。")
        en.append(f"Health score {h['score']:.0f} ({str(h['band']).replace('_', ' ')}).")
    if s["cost_basis_estimated"]:
        zh.append("部分持仓没有交易记录，其成本按买入日以来的基金收益估算。")
        en.append("Some holdings have no transaction record; their cost is estimated from the fund's return since "
                  "the purchase date.")
    zh.append("基金投资有风险，过往业绩不代表未来表现。")
    en.append("Funds carry risk; past performance does not predict future results.")
    return {"title_zh": name_zh, "title_en": name_en, "text_zh": "".join(zh), "text_en": " ".join(en)}


__all__ = ["KIND_NAMES_EN", "Period", "health_of", "parse_period", "statement"]
