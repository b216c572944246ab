"""Risk mismatch: funds above the customer's level, the whole portfolio above it, an expired assessment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.diagnosis.book import Book, segment_reduce
from advisor.diagnosis.rules.base import (
    Explanation,
    Outcome,
    Rule,
    Severity,
    fund_entry,
    grade,
    names_en,
    names_zh,
    pct,
)
from risk.config import DEFAULT_CONFIG
from risk.levels import CUSTOMER_LEVEL_NAMES_ZH


def _who(book: Book, i: int) -> tuple[str, str]:
    level = int(book.level[i])
    lowest = bool(book.lowest_category[i])
    zh = f"{CUSTOMER_LEVEL_NAMES_ZH[level]}（C{level}{'，属于风险承受能力最低类别' if lowest else ''}）"
    en = f"C{level}{' (lowest category)' if lowest else ''}"
    return zh, en


@dataclass(frozen=True)
class AboveLevelHoldings(Rule):
    """Share of fund value in funds rated above what the customer may hold (R1 only for the lowest
    category). Any such fund is a warning; above `critical` of the fund value, critical."""

    id = "above_level"
    family = "risk"
    title_zh = "持有高于风险等级的产品"
    title_en = "Funds above the customer's risk level"
    action = "reduce_above_level"
    critical: float = 0.20

    def evaluate(self, book: Book) -> Outcome:
        above = book.ctx.risk_level[book.entry_fund] > book.allowed_level[book.entry_customer]
        share = np.bincount(book.entry_customer, weights=book.entry_weight * above, minlength=book.n)
        severity = np.where(share > 1e-9, np.where(share >= self.critical, Severity.CRITICAL, Severity.WARNING),
                            Severity.OK).astype(np.int8)
        return Outcome(np.where(book.fund_value > 0, share, np.nan), severity)

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        entries = book.entries_of(i)
        funds = book.entry_fund[entries]
        weights = book.entry_weight[entries]
        allowed = int(book.allowed_level[i])
        bad = [(int(f), float(w)) for f, w in zip(funds, weights, strict=True) if book.ctx.risk_level[f] > allowed]
        who_zh, who_en = _who(book, i)
        listed_zh = "、".join(f"{book.fund_label(f)}(R{book.ctx.risk_level[f]},占{pct(w)})" for f, w in bad)
        listed_en = ", ".join(f"{book.ctx.names[f]} ({book.ctx.codes[f]}, R{book.ctx.risk_level[f]}, {pct(w)})"
                              for f, w in bad)
        return Explanation(
            f"{who_zh}客户最高可持有R{allowed}产品,但持有{listed_zh},合计占基金资产{pct(value)}。"
            "这些产品不会再被推荐,建议逐步调出;如系客户坚持购买,需有风险不匹配警示及确认记录。",
            f"A {who_en} customer may hold products up to R{allowed} but holds {listed_en}, together "
            f"{pct(value)} of fund assets. They will not be recommended again; reduce them, or keep the "
            "signed mismatch warning on file if the customer insisted.",
            [fund_entry(book, f, risk_level=f"R{book.ctx.risk_level[f]}", weight=w) for f, w in bad],
            {"allowed_max_product_level": f"R{allowed}"})


@dataclass(frozen=True)
class PortfolioRiskAboveLevel(Rule):
    """The portfolio rated as a whole (`risk.suitability.portfolio_risk_levels`: weighted mean level
    rounded up, at least the level of any fund weighing 20%+) against the customer's level.
    Value = levels above (1 = warning, `critical` or more = critical)."""

    id = "portfolio_risk"
    family = "risk"
    title_zh = "组合整体风险高于客户等级"
    title_en = "Portfolio risk above the customer's level"
    action = "reduce_above_level"
    critical: int = 2

    def portfolio_levels(self, book: Book) -> np.ndarray:
        """`risk.suitability.portfolio_risk_levels` over the sparse positions (same rule, no dense
        customer × fund matrix; tests check both agree)."""
        levels = book.ctx.risk_level.astype(float)[book.entry_fund]
        mean = np.bincount(book.entry_customer, weights=book.entry_weight * levels, minlength=book.n)
        rounded_up = np.ceil(mean - 1e-9)
        dominant_levels = np.where(book.entry_weight >= DEFAULT_CONFIG.dominant_weight - 1e-12, levels, 0.0)
        dominant = segment_reduce(dominant_levels, book.entry_customer, book.n, np.maximum, 0.0)
        return np.maximum(rounded_up, dominant).astype(np.int64)

    def evaluate(self, book: Book) -> Outcome:
        gap = (self.portfolio_levels(book) - book.allowed_level).astype(float)
        gap = np.where(book.fund_value > 0, gap, np.nan)
        return Outcome(gap, grade(gap, warning=1, critical=self.critical))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        allowed = int(book.allowed_level[i])
        rated = allowed + int(value)
        entries = book.entries_of(i)
        order = np.argsort(-book.ctx.risk_level[book.entry_fund[entries]], kind="stable")
        top = [int(f) for f in book.entry_fund[entries][order] if book.ctx.risk_level[f] > allowed]
        who_zh, who_en = _who(book, i)
        return Explanation(
            f"按整体评级规则(加权平均风险等级向上取整,且不低于占比20%以上单只产品的等级),组合整体为R{rated},"
            f"高于{who_zh}客户可承受的R{allowed};主要来自{names_zh(book, top)}。",
            f"Rated as a whole (weighted mean level rounded up, at least the level of any fund of 20%+), the "
            f"portfolio is R{rated}, above the R{allowed} a {who_en} customer may hold; driven by "
            f"{names_en(book, top)}.",
            [fund_entry(book, f, risk_level=f"R{book.ctx.risk_level[f]}") for f in top],
            {"portfolio_risk_level": f"R{rated}", "allowed_max_product_level": f"R{allowed}"})


@dataclass(frozen=True)
class AssessmentExpired(Rule):
    """Days until the risk assessment expires (zero or negative = expired: `risk.validity` keeps an
    assessment valid strictly before its expiry day; never assessed counts as expired).
    Expired = critical (no advice may be given before re-assessment); within `warn_days`, info."""

    id = "assessment_expired"
    family = "risk"
    title_zh = "风险测评已过期"
    title_en = "Risk assessment expired"
    action = "reassess"
    warn_days: int = 30
    never_assessed_days: float = -99_999.0

    def evaluate(self, book: Book) -> Outcome:
        days = (book.expires_on - np.datetime64(book.as_of, "D")).astype(float)
        days = np.where(np.isnat(book.expires_on), self.never_assessed_days, days)
        severity = np.where(days <= 0, Severity.CRITICAL, np.where(days <= self.warn_days, Severity.INFO, Severity.OK))
        return Outcome(days, severity.astype(np.int8))

    def explain(self, book: Book, i: int, value: float) -> Explanation:
        if np.isnat(book.expires_on[i]):
            return Explanation("客户没有有效的风险测评记录。在重新测评前，不能提供任何投资建议或组合推荐。",
                               "The customer has no risk assessment on file. No advice or proposal may be given "
                               "before one is completed.", details={"expires_on": None})
        when = str(book.expires_on[i])
        if value == 0:
            return Explanation(f"风险测评今天（{when}）到期，已不再有效。"
                               "重新测评前，不能提供投资建议，新的购买也需先测评。",
                               f"The risk assessment expires today ({when}) and is no longer valid. No advice may "
                               "be given and purchases need a new assessment first.", details={"expires_on": when})
        if value < 0:
            return Explanation(f"风险测评已于{when}过期（{int(-value)}天前）。"
                               "重新测评前，不能提供投资建议，新的购买也需先测评。",
                               f"The risk assessment expired on {when} ({int(-value)} days ago). No advice may be "
                               "given and purchases need a new assessment first.", details={"expires_on": when})
        return Explanation(f"风险测评将于{when}到期（还有{int(value)}天），请提醒客户及时重新测评。",
                           f"The risk assessment expires on {when} (in {int(value)} days); remind the customer "
                           "to renew it.", details={"expires_on": when})


RULES = (AboveLevelHoldings, PortfolioRiskAboveLevel, AssessmentExpired)
