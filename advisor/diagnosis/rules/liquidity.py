"""Liquidity: months of expenses covered by cash, declared deposits and money-market funds (3–6 months by
default). Deposits the customer declares (活期 and 定期 at the bank) count: a time deposit can be broken in
an emergency at the cost of some interest, which is cheaper than selling funds at a low."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.diagnosis.book import Book
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, Severity, fund_entry, names_zh


def liquid_assets(book: Book) -> np.ndarray:
    """Cash + declared deposits (NaN = not declared → 0) + money-market funds, per customer: the one
    definition the liquidity rule and the reserve action use."""
    return book.cash + np.nan_to_num(book.deposits) + book.money_market_value


def months_covered(book: Book) -> np.ndarray:
    """Liquid assets (`liquid_assets`) / monthly expenses; inf without expenses, NaN when unknown."""
    liquid = liquid_assets(book)
    expenses = book.monthly_expenses
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isnan(expenses), np.nan, np.where(expenses > 0, liquid / expenses, np.inf))


def _money_funds(book: Book, i: int) -> list[int]:
    funds = book.entry_fund[book.entries_of(i)]
    return [int(f) for f in funds if book.ctx.money_market[f]]


@dataclass(frozen=True)
class LiquidityReserve(Rule):
    """Fewer than `min_months` of expenses in cash and money-market funds (critical under `critical`)."""

    id = "liquidity"
    family = "liquidity"
    title_zh = "应急资金不足"
    title_en = "Emergency reserve too small"
    action = "build_cash_reserve"
    min_months: float = 3.0
    critical: float = 1.0

    def evaluate(self, book: Book) -> Outcome:
        months = months_covered(book)
        with np.errstate(invalid="ignore"):
            severity = np.where(months < self.critical, Severity.CRITICAL,
                                np.where(months < self.min_months, Severity.WARNING, Severity.OK))
        return Outcome(months, np.where(np.isnan(months), 0, severity).astype(np.int8))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        need = self.min_months * book.monthly_expenses[i]
        liquid = float(liquid_assets(book)[i])
        deposits = float(np.nan_to_num(book.deposits[i]))
        gap = max(need - liquid, 0.0)
        money = _money_funds(book, i)
        held_zh = f"(含货币基金{names_zh(book, money)})" if money else ""
        parts_zh = "现金、存款和货币基金" if deposits > 0 else "现金和货币基金"
        parts_en = "Cash, deposits and money-market funds" if deposits > 0 else "Cash and money-market funds"
        return Explanation(
            f"{parts_zh}{held_zh}共{liquid:,.0f}元,仅够{value:.1f}个月开支(月支出{book.monthly_expenses[i]:,.0f}元),"
            f"建议保留{self.min_months:g}–6个月,即至少再补充约{gap:,.0f}元到活期或货币基金,以免急用钱时被迫在低点赎回。",
            f"{parts_en} total ¥{liquid:,.0f}, {value:.1f} months of expenses "
            f"(¥{book.monthly_expenses[i]:,.0f} a month). Keep {self.min_months:g}–6 months: add about ¥{gap:,.0f} "
            "to cash or a money-market fund so an emergency never forces a sale at a low.",
            [fund_entry(book, f) for f in money], {"months": value, "shortfall": gap, "deposits": deposits})


@dataclass(frozen=True)
class IdleCash(Rule):
    """More than `max_months` of expenses idle in cash, and cash above `min_share` of visible assets."""

    id = "idle_cash"
    family = "liquidity"
    title_zh = "闲置现金过多"
    title_en = "Too much idle cash"
    action = "invest_idle_cash"
    max_months: float = 6.0
    min_share: float = 0.30

    def evaluate(self, book: Book) -> Outcome:
        months = months_covered(book)
        share = np.divide(book.cash, book.visible_assets, out=np.zeros(book.n), where=book.visible_assets > 0)
        with np.errstate(invalid="ignore"):
            fired = (months > self.max_months) & (share >= self.min_share) & np.isfinite(months)
        return Outcome(np.where(np.isfinite(months), months, np.nan),
                       np.where(fired, Severity.INFO, Severity.OK).astype(np.int8))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        excess = book.cash[i] - self.max_months * book.monthly_expenses[i]
        return Explanation(f"活期现金够{value:.0f}个月开支,超出6个月备用金约{excess:,.0f}元,"
                           "可按风险等级配置以免长期闲置。",
                           f"Cash covers {value:.0f} months of expenses; about ¥{excess:,.0f} above a 6-month "
                           "reserve could be invested for the customer's level.", details={"excess_cash": excess})


RULES = (LiquidityReserve, IdleCash)
