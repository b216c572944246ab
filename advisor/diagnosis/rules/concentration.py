"""Concentration: the largest fund, the HHI of fund weights, one fund company, one manager.

Measured over funds other than money-market funds, with the share classes of one fund (A / C ...)
counted as one fund. Company and manager checks need at least two distinct funds: with one fund the
top-fund check already says it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.diagnosis.book import Book
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, fund_entry, grade, names_en, names_zh, pct


def family_shares(book: Book):
    """Customer × fund-family share of the non-money-market fund value."""
    ctx = book.ctx
    return book.memo("family_shares", lambda: book.group_shares(
        ctx.family, ctx.n_funds, ~ctx.money_market[book.entry_fund], book.risky_value))


def distinct_families(book: Book) -> np.ndarray:
    """Number of distinct non-money-market funds (share classes of one fund count once)."""
    shares = family_shares(book)
    return np.diff(shares.indptr)


def _risky_entries(book: Book, i: int) -> tuple[np.ndarray, np.ndarray]:
    entries = book.entries_of(i)
    funds = book.entry_fund[entries]
    values = book.entry_value[entries]
    keep = ~book.ctx.money_market[funds]
    total = values[keep].sum()
    return funds[keep], values[keep] / total if total > 0 else values[keep]


@dataclass(frozen=True)
class TopFund(Rule):
    id = "top_fund"
    family = "concentration"
    title_zh = "单只基金占比过高"
    title_en = "One fund dominates"
    action = "diversify"
    warning: float = 0.40
    critical: float = 0.70

    def evaluate(self, book: Book) -> Outcome:
        top = Book.row_max(family_shares(book))
        top = np.where(book.risky_value > 0, top, np.nan)
        return Outcome(top, grade(top, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        funds, weights = _risky_entries(book, i)
        family = book.ctx.family[funds]
        totals = {int(f): float(weights[family == f].sum()) for f in np.unique(family)}
        top_family = max(totals, key=totals.get)
        members = funds[family == top_family]
        return Explanation(
            f"{names_zh(book, members)}占非货币基金资产的{pct(value)},单只基金过于集中,一旦其表现不佳对整体影响很大。",
            f"{names_en(book, members)} is {pct(value)} of non-money-market fund assets; one fund's setback "
            "would hit the whole portfolio.",
            [fund_entry(book, int(f), weight=float(weights[funds == f].sum())) for f in members])


@dataclass(frozen=True)
class Herfindahl(Rule):
    """HHI = Σ w² over fund families (1 / HHI = effective number of funds); two or more funds only."""

    id = "hhi"
    family = "concentration"
    title_zh = "持仓分散度不足"
    title_en = "Holdings not diversified (HHI)"
    action = "diversify"
    warning: float = 0.35
    critical: float = 0.60

    def evaluate(self, book: Book) -> Outcome:
        shares = family_shares(book)
        hhi = np.asarray(shares.multiply(shares).sum(axis=1)).ravel()
        hhi = np.where((book.risky_value > 0) & (distinct_families(book) >= 2), hhi, np.nan)
        return Outcome(hhi, grade(hhi, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        funds, weights = _risky_entries(book, i)
        order = np.argsort(-weights)
        return Explanation(
            f"持仓集中度指数HHI为{value:.2f},相当于只持有{1 / value:.1f}只基金;"
            f"最大几只为{names_zh(book, funds[order], 3)}。",
            f"The HHI of fund weights is {value:.2f}, like holding only {1 / value:.1f} funds; the largest are "
            f"{names_en(book, funds[order], 3)}.",
            [fund_entry(book, int(f), weight=float(w)) for f, w in zip(funds[order], weights[order], strict=True)],
            {"effective_funds": 1 / value})


@dataclass(frozen=True)
class _GroupConcentration(Rule):
    """Largest share of non-money-market fund value in one group (company / manager) holding at least
    two different funds of the customer; a group of one fund is the top-fund check's business."""

    warning: float = 0.60
    critical: float = 0.90

    def groups(self, book: Book) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def evaluate(self, book: Book) -> Outcome:
        group, names = self.groups(book)
        families = family_shares(book).tocoo()  # customer × family (family id = a fund position)
        key = families.row.astype(np.int64) * len(names) + group[families.col]
        unique, inverse, n_families = np.unique(key, return_inverse=True, return_counts=True)
        share = np.bincount(inverse, weights=families.data, minlength=len(unique))
        customer = unique // max(len(names), 1)
        share = np.where(n_families >= 2, share, 0.0)
        top = np.zeros(book.n)
        np.maximum.at(top, customer, share)
        top = np.where(book.risky_value > 0, top, np.nan)
        return Outcome(top, grade(top, warning=self.warning, critical=self.critical))

    def top_group(self, book: Book, i: int) -> tuple[str, np.ndarray]:
        group, names = self.groups(book)
        funds, weights = _risky_entries(book, i)
        ids = group[funds]
        totals = {int(g): float(weights[ids == g].sum()) for g in np.unique(ids)}
        best = max(totals, key=totals.get)
        return str(names[best]), funds[ids == best]


@dataclass(frozen=True)
class OneCompany(_GroupConcentration):
    id = "company"
    family = "concentration"
    title_zh = "过度集中于一家基金公司"
    title_en = "Concentrated in one fund company"
    action = "diversify"
    warning: float = 0.60
    critical: float = 0.90

    def groups(self, book: Book) -> tuple[np.ndarray, np.ndarray]:
        return book.ctx.company, book.ctx.company_names

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        name, funds = self.top_group(book, i)
        return Explanation(f"{pct(value)}的基金资产来自{name}:{names_zh(book, funds)}。",
                           f"{pct(value)} of fund assets sit with {name}: {names_en(book, funds)}.",
                           [fund_entry(book, int(f)) for f in funds], {"company": name})


@dataclass(frozen=True)
class OneManager(_GroupConcentration):
    id = "manager"
    family = "concentration"
    title_zh = "过度集中于一位基金经理"
    title_en = "Concentrated with one fund manager"
    action = "diversify"
    warning: float = 0.50
    critical: float = 0.80

    def groups(self, book: Book) -> tuple[np.ndarray, np.ndarray]:
        return book.ctx.manager, book.ctx.manager_names

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        name, funds = self.top_group(book, i)
        return Explanation(f"{pct(value)}的基金资产由基金经理{name}管理:{names_zh(book, funds)}。",
                           f"{pct(value)} of fund assets are run by manager {name}: {names_en(book, funds)}.",
                           [fund_entry(book, int(f)) for f in funds], {"manager": name})


RULES = (TopFund, Herfindahl, OneCompany, OneManager)
