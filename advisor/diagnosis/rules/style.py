"""Style: funds whose style drifts, and a portfolio style far from what the level's model holds.

Style weights and drift per fund come from `products.research.style_analysis` (returns-based, rolling
windows over the style basis). The model's style is the model portfolio's fund weights times the same
per-fund style weights, so both sides are measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.diagnosis.book import Book
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, fund_entry, grade, names_en, names_zh, pct
from products.research.style import style_label


@dataclass(frozen=True)
class StyleDrift(Rule):
    """Value-weighted style drift of the funds held (the research module's drift measure, 0–1)."""

    id = "style_drift"
    family = "style"
    title_zh = "基金风格漂移"
    title_en = "Funds drifting in style"
    action = "replace_weak_funds"
    fund_threshold: float = 0.25  # a fund counts as drifting from this drift
    warning: float = 0.30  # share of fund value in drifting funds

    def evaluate(self, book: Book) -> Outcome:
        if not book.ctx.has_style:
            return Outcome(np.full(book.n, np.nan), np.zeros(book.n, np.int8))
        with np.errstate(invalid="ignore"):
            drifting = np.nan_to_num(book.ctx.style_drift) >= self.fund_threshold
        share = np.where(book.risky_value > 0, book.share_where(drifting & ~book.ctx.money_market), np.nan)
        return Outcome(share, grade(share, warning=self.warning))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        funds = book.entry_fund[book.entries_of(i)]
        drifting = [int(f) for f in funds if np.nan_to_num(book.ctx.style_drift[f]) >= self.fund_threshold]
        return Explanation(f"{names_zh(book, drifting)}的投资风格近期明显漂移,合计占基金资产{pct(value)},"
                           "实际风险可能与买入时不同。",
                           f"{names_en(book, drifting)} changed style markedly ({pct(value)} of fund assets); "
                           "their risk may no longer be what was bought.",
                           [fund_entry(book, f, drift=float(book.ctx.style_drift[f])) for f in drifting])


@dataclass(frozen=True)
class StyleGap(Rule):
    """Σ|portfolio style − model style| / 2 over the style basis (0 = same style, 1 = disjoint)."""

    id = "style_gap"
    family = "style"
    title_zh = "整体风格偏离模型"
    title_en = "Style far from the level's model"
    action = "rebalance_to_model"
    warning: float = 0.35
    critical: float = 0.60

    def gap(self, book: Book) -> np.ndarray:
        model = book.ctx.model_style[book.allowed_level - 1, book.bucket]
        return np.abs(book.style_exposure - model).sum(axis=1) / 2

    def evaluate(self, book: Book) -> Outcome:
        if not book.ctx.has_style:
            return Outcome(np.full(book.n, np.nan), np.zeros(book.n, np.int8))
        gap = self.gap(book)
        return Outcome(gap, grade(gap, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        names = book.ctx.style_names
        actual = book.style_exposure[i]
        model = book.ctx.model_style[book.allowed_level[i] - 1, book.bucket[i]]
        order = np.argsort(-np.abs(actual - model))[:3]
        zh = "、".join(f"{style_label(names[k], 'zh')}{pct(actual[k])}(模型组合{pct(model[k])})" for k in order)
        en = ", ".join(f"{style_label(names[k], 'en')} {pct(actual[k])} (model {pct(model[k])})" for k in order)
        entries = book.entries_of(i)
        return Explanation(f"组合的收益风格与同等级模型组合相差{pct(value)}:{zh}。",
                           f"The portfolio's return style is {pct(value)} away from the model for this level: {en}.",
                           [fund_entry(book, int(f)) for f in book.entry_fund[entries]],
                           {"style": {str(names[k]): float(actual[k]) for k in range(len(names))},
                            "model_style": {str(names[k]): float(model[k]) for k in range(len(names))}})


RULES = (StyleDrift, StyleGap)
