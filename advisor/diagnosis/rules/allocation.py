"""Allocation drift against the customer's model portfolio (level × horizon), total and per class.

The portfolio measured is funds + cash at the bank, less an emergency reserve of `reserve_months` of
expenses kept in cash (the liquidity check judges that reserve; it is not "uninvested money" here).
Drift = Σ |actual − target| / 2 (Betterment's definition) over the five asset classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.cash_reserve import RESERVE_MONTHS, emergency_reserve
from advisor.diagnosis.book import CASH_CLASS, Book
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, grade, pct
from products.taxonomy import ASSET_CLASS_NAMES_ZH, ASSET_CLASSES


def actual_class_weights(book: Book, reserve_months: float = RESERVE_MONTHS) -> np.ndarray:
    """n × 5 weights of the investable portfolio (NaN rows when there is nothing to measure)."""
    values = book.class_values.copy()
    reserve = emergency_reserve(book.cash, book.monthly_expenses, reserve_months)
    values[:, CASH_CLASS] -= reserve
    total = values.sum(axis=1, keepdims=True)
    return np.divide(values, total, out=np.full_like(values, np.nan), where=total > 1e-6)


def _class_table(book: Book, i: int, reserve_months: float) -> tuple[np.ndarray, np.ndarray]:
    actual = actual_class_weights(book, reserve_months)[i]
    target = book.model_class_targets()[i]
    return actual, target


@dataclass(frozen=True)
class TotalDrift(Rule):
    """Σ|actual − target|/2 against the model portfolio of the customer's level and horizon."""

    id = "drift_total"
    family = "allocation"
    title_zh = "资产配置偏离模型组合"
    title_en = "Allocation drift from the model portfolio"
    action = "rebalance_to_model"
    info: float = 0.05
    warning: float = 0.15
    critical: float = 0.35
    reserve_months: float = RESERVE_MONTHS

    def evaluate(self, book: Book) -> Outcome:
        drift = np.abs(actual_class_weights(book, self.reserve_months) - book.model_class_targets()).sum(axis=1) / 2
        return Outcome(drift, grade(drift, info=self.info, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        actual, target = _class_table(book, i, self.reserve_months)
        rows = [(c, float(actual[k]), float(target[k])) for k, c in enumerate(ASSET_CLASSES)]
        zh = "、".join(f"{ASSET_CLASS_NAMES_ZH[c]} {pct(a)}(目标{pct(t)})" for c, a, t in rows if a > 0 or t > 0)
        en = ", ".join(f"{c.value} {pct(a)} (target {pct(t)})" for c, a, t in rows if a > 0 or t > 0)
        return Explanation(
            f"按C{book.allowed_level[i]}客户、{book.horizon_years[i]:g}年期限的模型组合,当前配置总偏离{pct(value)}:{zh}。",
            f"Against the model portfolio for C{book.allowed_level[i]} and a {book.horizon_years[i]:g}-year "
            f"horizon the allocation drifts {pct(value)}: {en}.",
            details={"actual": {c.value: a for c, a, _ in rows}, "target": {c.value: t for c, _, t in rows}})


@dataclass(frozen=True)
class ClassDrift(Rule):
    """The largest single-class deviation |actual − target|."""

    id = "drift_class"
    family = "allocation"
    title_zh = "单一资产类别偏离"
    title_en = "One asset class far from target"
    action = "rebalance_to_model"
    info: float = 0.05
    warning: float = 0.15
    critical: float = 0.30
    reserve_months: float = RESERVE_MONTHS

    def evaluate(self, book: Book) -> Outcome:
        gap = np.abs(actual_class_weights(book, self.reserve_months) - book.model_class_targets()).max(axis=1)
        return Outcome(gap, grade(gap, info=self.info, warning=self.warning, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        actual, target = _class_table(book, i, self.reserve_months)
        k = int(np.nanargmax(np.abs(actual - target)))
        c = ASSET_CLASSES[k]
        direction_zh = "超配" if actual[k] > target[k] else "低配"
        direction_en = "overweight" if actual[k] > target[k] else "underweight"
        return Explanation(
            f"{ASSET_CLASS_NAMES_ZH[c]}{direction_zh}:当前{pct(actual[k])},模型目标{pct(target[k])},相差{pct(value)}。",
            f"{c.value} is {direction_en}: {pct(actual[k])} against a target of {pct(target[k])} "
            f"({pct(value)} apart).",
            details={"asset_class": c.value, "actual": float(actual[k]), "target": float(target[k])})


RULES = (TotalDrift, ClassDrift)
