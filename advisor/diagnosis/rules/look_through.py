"""Look-through (基金持仓透视): industry concentration, stocks held through several funds, holdings overlap
between funds, near-duplicate funds (share classes of one fund, or returns correlated above a threshold).

Industry and stock exposures come from `products.research.fund_look_through` (top-10 holdings scaled to
each fund's equity share; the undisclosed rest is not attributed to any industry), overlap from
`holdings_overlap`. Share classes of one fund count as one fund for overlap and shared stocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from advisor.diagnosis.book import Book, segment_reduce
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, fund_entry, grade, names_en, names_zh, pct


@dataclass(frozen=True)
class TopIndustry(Rule):
    """The largest SW level-1 industry as a share of fund value (look-through)."""

    id = "industry"
    family = "look_through"
    title_zh = "行业过度集中"
    title_en = "Concentrated in one industry"
    action = "diversify"
    warning: float = 0.25
    critical: float = 0.40

    def evaluate(self, book: Book) -> Outcome:
        if not book.ctx.has_look_through:
            return Outcome(np.full(book.n, np.nan), np.zeros(book.n, np.int8))
        top = book.industry_exposure.max(axis=1)
        top = np.where(book.fund_value > 0, top, np.nan)
        return Outcome(top, grade(top, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        k = int(np.argmax(book.industry_exposure[i]))
        industry = str(book.ctx.industry_names[k])
        entries = book.entries_of(i)
        funds = book.entry_fund[entries]
        contribution = book.entry_weight[entries] * book.ctx.industry[funds, k]
        order = np.argsort(-contribution)
        main = funds[order][contribution[order] > 0.01 * value]
        return Explanation(
            f"穿透底层持仓后,{pct(value)}的基金资产集中在申万一级行业「{industry}」,主要来自{names_zh(book, main)}。",
            f"Looking through the holdings, {pct(value)} of fund assets are in the SW industry {industry}, "
            f"mainly through {names_en(book, main)}.",
            [fund_entry(book, int(f), industry_share=float(book.ctx.industry[f, k])) for f in main],
            {"industry": industry})


def _family_stock_matrix(book: Book) -> sp.csr_array:
    """Fund family × stock, 1 where any share class of the family holds the stock."""
    ctx = book.ctx

    def build() -> sp.csr_array:
        held = (ctx.stock_exposure > 0).astype(np.float64).tocoo()
        matrix = sp.csr_array((np.ones(held.nnz), (ctx.family[held.row], held.col)),
                              shape=(ctx.n_funds, ctx.stock_exposure.shape[1]))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

    return book.memo("family_stock", build)


def _families_held(book: Book) -> sp.csr_array:
    ctx = book.ctx
    mask = ~ctx.money_market[book.entry_fund]
    matrix = sp.csr_array((mask.astype(float), (book.entry_customer, ctx.family[book.entry_fund])),
                          shape=(book.n, ctx.n_funds))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.data[:] = 1.0
    return matrix


@dataclass(frozen=True)
class SharedStocks(Rule):
    """Number of stocks held through at least `min_funds` different funds (top-10 holdings)."""

    id = "shared_stocks"
    family = "look_through"
    title_zh = "多只基金重仓同一股票"
    title_en = "Same stocks held through several funds"
    action = "consolidate_duplicates"
    min_funds: int = 3
    info: float = 3
    warning: float = 6

    def counts(self, book: Book) -> sp.csr_array:
        return book.memo("stock_counts", lambda: _families_held(book) @ _family_stock_matrix(book))

    def evaluate(self, book: Book) -> Outcome:
        if not book.ctx.has_look_through or book.ctx.stock_exposure.shape[1] == 0:
            return Outcome(np.full(book.n, np.nan), np.zeros(book.n, np.int8))
        counts = self.counts(book)
        rows = np.repeat(np.arange(book.n), np.diff(counts.indptr))
        n_shared = np.bincount(rows, weights=counts.data >= self.min_funds, minlength=book.n)
        value = np.where(book.fund_value > 0, n_shared, np.nan)
        return Outcome(value, grade(value, info=self.info, warning=self.warning))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        counts = self.counts(book)
        lo, hi = counts.indptr[i], counts.indptr[i + 1]
        stocks = counts.indices[lo:hi][counts.data[lo:hi] >= self.min_funds]
        entries = book.entries_of(i)
        funds = book.entry_fund[entries]
        exposure = book.ctx.stock_exposure[funds][:, stocks].toarray()
        holders = funds[(exposure > 0).any(axis=1)]
        names = [str(book.ctx.stock_names[s]) for s in stocks]
        shown = "、".join(names[:5])
        return Explanation(
            f"{int(value)}只股票同时出现在{self.min_funds}只以上所持基金的前十大重仓中(如{shown}),"
            f"涉及{names_zh(book, holders)};看似分散,实际押注相同。",
            f"{int(value)} stocks are top-10 holdings of {self.min_funds} or more of your funds (e.g. "
            f"{', '.join(names[:5])}), through {names_en(book, holders)}: diversified in name only.",
            [fund_entry(book, int(f)) for f in holders], {"stocks": names})


def _pair_funds(book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    first, second = book.pairs
    return book.entry_fund[first], book.entry_fund[second], book.pair_customer


@dataclass(frozen=True)
class HoldingsOverlap(Rule):
    """The largest weighted holdings overlap between two different funds held together (0–1)."""

    id = "overlap"
    family = "look_through"
    title_zh = "基金之间持仓高度重叠"
    title_en = "Funds with overlapping holdings"
    action = "consolidate_duplicates"
    info: float = 0.50
    warning: float = 0.70
    critical: float = 0.90

    def pair_overlap(self, book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        f, g, customer = _pair_funds(book)
        ctx = book.ctx
        valid = (ctx.family[f] != ctx.family[g]) & ~ctx.money_market[f] & ~ctx.money_market[g]
        return np.where(valid, ctx.overlap[f, g], 0.0), f, g, customer

    def evaluate(self, book: Book) -> Outcome:
        if not book.ctx.has_look_through:
            return Outcome(np.full(book.n, np.nan), np.zeros(book.n, np.int8))
        overlap, _, _, customer = self.pair_overlap(book)
        top = segment_reduce(overlap, customer, book.n, np.maximum, 0.0)
        top = np.where(book.fund_value > 0, top, np.nan)
        return Outcome(top, grade(top, info=self.info, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        overlap, f, g, customer = self.pair_overlap(book)
        mine = np.flatnonzero((customer == i) & (overlap >= self.info))
        mine = mine[np.argsort(-overlap[mine])]
        pairs_zh = "、".join(f"{book.fund_label(f[k])}与{book.fund_label(g[k])}({pct(overlap[k])})" for k in mine[:3])
        pairs_en = "; ".join(f"{book.ctx.names[f[k]]} ({book.ctx.codes[f[k]]}) and {book.ctx.names[g[k]]} "
                             f"({book.ctx.codes[g[k]]}): {pct(overlap[k])}" for k in mine[:3])
        involved = list(dict.fromkeys([int(x) for k in mine for x in (f[k], g[k])]))
        return Explanation(f"以下基金的重仓股高度重叠:{pairs_zh}。持有它们并不能分散风险。",
                           f"These funds hold largely the same stocks: {pairs_en}. Holding both adds little "
                           "diversification.", [fund_entry(book, x) for x in involved])


@dataclass(frozen=True)
class NearDuplicates(Rule):
    """Pairs of funds that are practically the same: two share classes of one fund (A and C), or two
    different funds whose daily returns correlate at `correlation` or more (money-market funds aside)."""

    id = "duplicates"
    family = "look_through"
    title_zh = "重复或高度相似的基金"
    title_en = "Near-duplicate funds"
    action = "consolidate_duplicates"
    correlation: float = 0.97
    warning: float = 1

    def duplicate_pairs(self, book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        f, g, _ = _pair_funds(book)
        ctx = book.ctx
        same_family = ctx.family[f] == ctx.family[g]
        with np.errstate(invalid="ignore"):
            correlated = (ctx.correlation[f, g] >= self.correlation) & ~ctx.money_market[f] & ~ctx.money_market[g]
        return same_family | correlated, same_family, f, g

    def evaluate(self, book: Book) -> Outcome:
        duplicate, _, _, _ = self.duplicate_pairs(book)
        count = np.bincount(book.pair_customer, weights=duplicate, minlength=book.n)
        value = np.where(book.fund_value > 0, count, np.nan)
        return Outcome(value, grade(value, warning=self.warning))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        duplicate, same_family, f, g = self.duplicate_pairs(book)
        mine = np.flatnonzero(duplicate & (book.pair_customer == i))
        parts_zh, parts_en, involved = [], [], []
        for k in mine:
            a, b = int(f[k]), int(g[k])
            involved += [a, b]
            if same_family[k]:
                parts_zh.append(f"{book.fund_label(a)}与{book.fund_label(b)}是同一基金的不同份额类别")
                parts_en.append(f"{book.ctx.names[a]} ({book.ctx.codes[a]}) and {book.ctx.names[b]} "
                                f"({book.ctx.codes[b]}) are share classes of the same fund")
            else:
                corr = float(book.ctx.correlation[a, b])
                parts_zh.append(f"{book.fund_label(a)}与{book.fund_label(b)}走势几乎一致(相关系数{corr:.2f})")
                parts_en.append(f"{book.ctx.names[a]} ({book.ctx.codes[a]}) and {book.ctx.names[b]} "
                                f"({book.ctx.codes[b]}) move almost identically (correlation {corr:.2f})")
        return Explanation("；".join(parts_zh) + "。建议合并为一只(长期持有选A类,短期持有选C类)。",
                           "; ".join(parts_en) + ". Keep one of each pair (A class for long holding, C for "
                           "short).", [fund_entry(book, x) for x in dict.fromkeys(involved)])


RULES = (TopIndustry, SharedStocks, HoldingsOverlap, NearDuplicates)
