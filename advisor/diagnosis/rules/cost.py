"""Cost: fee drag, C classes held long where the A class is cheaper, lots held under 7 days.

Costs come from the universe's `FeeTable` (tiered subscription at the bank's discount, redemption by
holding period with the 1.5% floor under 7 days, yearly management + custody + sales-service fees).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.diagnosis.book import Book
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, fund_entry, grade, names_en, names_zh, pct
from advisor.rebalancing.costs import share_class_saving
from products.fees import SHORT_HOLD_DAYS, SHORT_HOLD_MIN_RATE


@dataclass(frozen=True)
class FeeDrag(Rule):
    """Yearly running cost of the funds held (weighted) minus the model portfolio's, in fractions."""

    id = "fee_drag"
    family = "cost"
    title_zh = "持有成本偏高"
    title_en = "High running costs"
    action = "replace_weak_funds"
    info: float = 0.003
    warning: float = 0.006

    def drag(self, book: Book) -> np.ndarray:
        return np.where(book.fund_value > 0, book.weighted(book.ctx.running_cost), np.nan)

    def evaluate(self, book: Book) -> Outcome:
        excess = self.drag(book) - book.ctx.model_fee[book.allowed_level - 1, book.bucket]
        return Outcome(excess, grade(excess, info=self.info, warning=self.warning))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        entries = book.entries_of(i)
        funds = book.entry_fund[entries]
        cost = book.ctx.running_cost[funds]
        order = np.argsort(-cost)[:3]
        drag = float(self.drag(book)[i])
        yuan = drag * book.fund_value[i]
        return Explanation(
            f"所持基金每年管理费、托管费和销售服务费合计约{pct(drag)}(约{yuan:,.0f}元/年),比模型组合高{pct(value)};"
            f"费率最高的是{names_zh(book, funds[order])}。",
            f"The funds cost about {pct(drag)} a year in management, custody and sales-service fees (about "
            f"¥{yuan:,.0f} a year), {pct(value)} more than the model; the most expensive are "
            f"{names_en(book, funds[order])}.",
            [fund_entry(book, int(f), running_cost=float(book.ctx.running_cost[f])) for f in funds[order]],
            {"fee_drag": drag, "fee_drag_yuan": yuan})


@dataclass(frozen=True)
class CClassHeldLong(Rule):
    """Share of fund value in C-class lots held at least `min_days` whose A class would cost less over
    the customer's horizon (at least `min_years`): A = discounted subscription + running costs +
    redemption at the horizon; C = running costs incl. the sales-service fee."""

    id = "c_class_long"
    family = "cost"
    title_zh = "长期持有C类份额"
    title_en = "C class held long where A is cheaper"
    action = "switch_share_class"
    min_days: int = 365
    min_years: float = 1.0
    info: float = 1e-9
    warning: float = 0.20

    def lot_savings(self, book: Book) -> np.ndarray:
        """Yearly saving rate (fraction) per lot of switching to the A class; 0 where not applicable."""
        ctx = book.ctx
        fees = ctx.universe.fees
        sibling = ctx.a_sibling[book.lot_fund]
        eligible = ctx.is_c_class[book.lot_fund] & (sibling >= 0) & (book.lot_days >= self.min_days)
        out = np.zeros(len(book.lot_fund))
        lots = np.flatnonzero(eligible)
        if len(lots) == 0:
            return out
        a = sibling[lots]
        value = book.lot_value[lots]
        years = np.maximum(np.nan_to_num(book.horizon_years[book.lot_customer[lots]], nan=3.0), self.min_years)
        held = book.lot_fund[lots]
        saving = share_class_saving(fees, held, a, value, years, ctx.universe.fee_discount,
                                    fees.redemption_rate(held, book.lot_days[lots]))
        out[lots] = np.maximum(saving, 0.0)
        return out

    def evaluate(self, book: Book) -> Outcome:
        saving = self.lot_savings(book)
        value = np.bincount(book.lot_customer, weights=book.lot_value * (saving > 0), minlength=book.n)
        share = np.divide(value, book.fund_value, out=np.full(book.n, np.nan), where=book.fund_value > 0)
        return Outcome(share, grade(share, info=self.info, warning=self.warning))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        lots = book.lots_of(i)
        saving = self.lot_savings(book)[lots]
        funds = book.lot_fund[lots][saving > 0]
        days = book.lot_days[lots][saving > 0]
        yuan = float((saving[saving > 0] * book.lot_value[lots][saving > 0]).sum())
        unique = list(dict.fromkeys(int(f) for f in funds))
        a_names = [book.fund_label(int(book.ctx.a_sibling[f])) for f in unique]
        return Explanation(
            f"{names_zh(book, unique)}已持有{int(days.max())}天,按{max(book.horizon_years[i], self.min_years):g}年期限,"
            f"换成A类份额({'、'.join(a_names)})每年约可省{yuan:,.0f}元;同一公司内转换只收费率差。",
            f"{names_en(book, unique)} has been held for up to {int(days.max())} days; over a "
            f"{max(book.horizon_years[i], self.min_years):g}-year horizon its A class saves about ¥{yuan:,.0f} a "
            "year. Switching within one company costs only the fee difference.",
            [fund_entry(book, f, a_class=str(book.ctx.codes[book.ctx.a_sibling[f]])) for f in unique],
            {"yearly_saving_yuan": yuan})


@dataclass(frozen=True)
class ShortHolding(Rule):
    """Number of lots (not money-market) bought less than 7 days ago: redeeming them costs ≥ 1.5%."""

    id = "short_hold"
    family = "cost"
    title_zh = "持有不足7天"
    title_en = "Lots held under 7 days"
    action = None
    info: float = 1

    def short(self, book: Book) -> np.ndarray:
        return (book.lot_days < SHORT_HOLD_DAYS) & ~book.ctx.money_market[book.lot_fund]

    def evaluate(self, book: Book) -> Outcome:
        count = np.bincount(book.lot_customer, weights=self.short(book), minlength=book.n).astype(float)
        return Outcome(count, grade(count, info=self.info))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        lots = book.lots_of(i)
        short = self.short(book)[lots]
        funds = list(dict.fromkeys(int(f) for f in book.lot_fund[lots][short]))
        return Explanation(
            f"{names_zh(book, funds)}买入不足7天,此时赎回将收取不低于{pct(SHORT_HOLD_MIN_RATE)}的赎回费,"
            "建议至少持有满7天。",
            f"{names_en(book, funds)} was bought less than 7 days ago; redeeming now costs at least "
            f"{pct(SHORT_HOLD_MIN_RATE)}. Hold at least 7 days.", [fund_entry(book, f) for f in funds])


RULES = (FeeDrag, CClassHeldLong, ShortHolding)
