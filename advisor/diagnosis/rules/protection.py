"""Protection and coverage: no insurance declared; the share of total assets the check could see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.diagnosis.book import Book
from advisor.diagnosis.rules.base import Explanation, Outcome, Rule, Severity, grade, pct


@dataclass(frozen=True)
class NoInsurance(Rule):
    """Insurance not declared (empty) or declared as zero."""

    id = "no_insurance"
    family = "protection"
    title_zh = "未配置保障类资产"
    title_en = "No insurance declared"
    action = "review_protection"

    def evaluate(self, book: Book) -> Outcome:
        missing = np.isnan(book.insurance) | (book.insurance <= 0)
        return Outcome(np.nan_to_num(book.insurance, nan=0.0),
                       np.where(missing, Severity.WARNING, Severity.OK).astype(np.int8))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        declared = not np.isnan(book.insurance[i])
        return Explanation(
            "客户" + ("申报没有" if declared else "未申报") + "任何保险保障。"
            "在投资之前,宜先用保险覆盖重大疾病、意外等风险,"
            "以免意外开支迫使赎回投资。",
            "The customer " + ("declared no" if declared else "did not declare any") + " insurance. Cover illness "
            "and accident risks before investing, so an unexpected bill never forces a sale.")


@dataclass(frozen=True)
class Coverage(Rule):
    """Share of the customer's declared assets this check could see (funds and cash at the bank)
    against funds + cash + held-away deposits and wealth products."""

    id = "coverage"
    family = "protection"
    title_zh = "体检覆盖的资产比例较低"
    title_en = "Check sees only part of the assets"
    action = None
    info: float = 0.50
    warning: float = 0.20

    def evaluate(self, book: Book) -> Outcome:
        total = book.visible_assets + book.held_away_assets
        share = np.divide(book.visible_assets, total, out=np.full(book.n, np.nan), where=total > 0)
        return Outcome(share, grade(share, info=self.info, warning=self.warning, higher_is_worse=False))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        away = float(book.held_away_assets[i])
        return Explanation(f"本次体检只覆盖了申报资产的{pct(value)};行外存款和理财约{away:,.0f}元未纳入分析,"
                           "结论可能不完整。",
                           f"This check covers {pct(value)} of the declared assets; about ¥{away:,.0f} in deposits "
                           "and wealth products held elsewhere was not analysed, so conclusions may be incomplete.",
                           details={"held_away": away})


RULES = (NoInsurance, Coverage)
