"""Performance: return, volatility and max drawdown over 1 and 3 years against the model portfolio;
drawdown beyond what the level tolerates; funds rated 1–2 stars or in their peer group's bottom quartile.

The customer's portfolio is the funds held at today's weights (rebalanced monthly) over the universe's
last 3 years of monthly total returns (compounded from daily, as Morningstar's risk statistics); days
before a fund existed count as cash
(return 0). The model is
measured the same way from its fund weights (`DiagnosisContext.model_metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.diagnosis.book import Book
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, fund_entry, grade, names_en, names_zh, pct
from risk.levels import DRAWDOWN_TOLERANCE

# Largest drawdown each level is taken to tolerate (C1 … C5), a configurable reading of the level names.


def _model(book: Book, key: str) -> np.ndarray:
    return book.ctx.model_metrics[key][book.allowed_level - 1, book.bucket]


def _numbers(book: Book, i: int) -> dict[str, float]:
    out = {}
    for key in ("return_1y", "return_3y", "volatility_1y", "volatility_3y", "max_drawdown_1y", "max_drawdown_3y"):
        out[key] = float(book.performance[key][i])
        out[f"model_{key}"] = float(book.ctx.model_metrics[key][book.allowed_level[i] - 1, book.bucket[i]])
    return out


@dataclass(frozen=True)
class ReturnGap(Rule):
    """3-year annualized return minus the model's (the 1-year gap is reported alongside)."""

    id = "return_gap"
    family = "performance"
    title_zh = "收益落后于模型组合"
    title_en = "Return behind the model portfolio"
    action = "replace_weak_funds"
    warning: float = -0.04
    critical: float = -0.08

    def evaluate(self, book: Book) -> Outcome:
        gap = book.performance["return_3y"] - _model(book, "return_3y")
        return Outcome(gap, grade(gap, warning=self.warning, critical=self.critical, higher_is_worse=False))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        m = _numbers(book, i)
        return Explanation(
            f"近3年年化收益{pct(m['return_3y'])},同等级模型组合{pct(m['model_return_3y'])},每年落后{pct(-value)};"
            f"近1年{pct(m['return_1y'])}(模型{pct(m['model_return_1y'])})。",
            f"3-year annualized return {pct(m['return_3y'])} against the model's {pct(m['model_return_3y'])}, "
            f"{pct(-value)} a year behind; last year {pct(m['return_1y'])} (model {pct(m['model_return_1y'])}).",
            details=m)


@dataclass(frozen=True)
class VolatilityGap(Rule):
    """3-year annualized volatility minus the model's."""

    id = "volatility_gap"
    family = "performance"
    title_zh = "波动高于模型组合"
    title_en = "More volatile than the model portfolio"
    action = "rebalance_to_model"
    warning: float = 0.05
    critical: float = 0.12

    def evaluate(self, book: Book) -> Outcome:
        gap = book.performance["volatility_3y"] - _model(book, "volatility_3y")
        return Outcome(gap, grade(gap, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        m = _numbers(book, i)
        return Explanation(
            f"近3年年化波动{pct(m['volatility_3y'])},同等级模型组合{pct(m['model_volatility_3y'])},高出{pct(value)}。",
            f"3-year volatility {pct(m['volatility_3y'])} against the model's {pct(m['model_volatility_3y'])} "
            f"({pct(value)} higher).", details=m)


@dataclass(frozen=True)
class DrawdownBeyondTolerance(Rule):
    """3-year max drawdown as a multiple of what the level tolerates (≥ 1 warning, ≥ `critical`)."""

    id = "drawdown"
    family = "performance"
    title_zh = "回撤超出风险承受能力"
    title_en = "Drawdown beyond the level's tolerance"
    action = "rebalance_to_model"
    tolerance: tuple[float, float, float, float, float] = DRAWDOWN_TOLERANCE
    critical: float = 1.5

    def evaluate(self, book: Book) -> Outcome:
        tolerance = np.asarray(self.tolerance)[book.allowed_level - 1]
        ratio = -book.performance["max_drawdown_3y"] / tolerance
        return Outcome(ratio, grade(ratio, warning=1.0, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        m = _numbers(book, i)
        tolerance = self.tolerance[book.allowed_level[i] - 1]
        entries = book.entries_of(i)
        funds = book.entry_fund[entries]
        deepest = funds[np.argsort(book.ctx.risk_level[funds])[::-1]][:3]
        return Explanation(
            f"按当前持仓,近3年最大回撤{pct(-m['max_drawdown_3y'])},超过C{book.allowed_level[i]}客户可承受的约"
            f"{pct(tolerance)}(模型组合{pct(-m['model_max_drawdown_3y'])});波动主要来自{names_zh(book, deepest)}。",
            f"Held as today, the portfolio fell {pct(-m['max_drawdown_3y'])} at worst over 3 years, beyond the "
            f"~{pct(tolerance)} a C{book.allowed_level[i]} customer tolerates "
            f"(model {pct(-m['model_max_drawdown_3y'])}); "
            f"mostly from {names_en(book, deepest)}.",
            [fund_entry(book, int(f)) for f in deepest], {**m, "tolerance": tolerance})


@dataclass(frozen=True)
class WeakFunds(Rule):
    """Share of fund value in funds rated 1–2 stars or in the bottom quartile of their peer group."""

    id = "weak_funds"
    family = "performance"
    title_zh = "持有评级较差的基金"
    title_en = "Funds rated 1–2 stars or bottom quartile"
    action = "replace_weak_funds"
    info: float = 1e-9
    warning: float = 0.20
    critical: float = 0.50

    def weak(self, book: Book) -> np.ndarray:
        return book.ctx.weak  # the one quality rule (`products.research.quality`), shared with selection

    def evaluate(self, book: Book) -> Outcome:
        if not book.ctx.has_stars:
            return Outcome(np.full(book.n, np.nan), np.zeros(book.n, np.int8))
        share = np.where(book.fund_value > 0, book.share_where(self.weak(book)), np.nan)
        return Outcome(share, grade(share, info=self.info, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        weak = self.weak(book)
        entries = book.entries_of(i)
        funds = [int(f) for f in book.entry_fund[entries] if weak[f]]

        def label(f: int) -> str:
            stars = book.ctx.stars[f]
            return f"{int(stars)}★" if np.isfinite(stars) else "bottom quartile"

        zh = "、".join(f"{book.fund_label(f)}({label(f).replace('bottom quartile', '同类后25%')})" for f in funds)
        return Explanation(f"{zh}在同类中排名靠后,合计占基金资产{pct(value)},可考虑换成同类更优的基金。",
                           f"{names_en(book, funds)} rank low in their peer groups ({pct(value)} of fund "
                           "assets); consider better funds of the same kind.",
                           [fund_entry(book, f,
                                       stars=None if not np.isfinite(book.ctx.stars[f]) else int(book.ctx.stars[f]),
                                       bottom_quartile=bool(book.ctx.bottom_quartile[f])) for f in funds])


RULES = (ReturnGap, VolatilityGap, DrawdownBeyondTolerance, WeakFunds)
