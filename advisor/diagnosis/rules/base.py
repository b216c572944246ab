"""The rule protocol: a small object with thresholds, a severity grade and a zh / en explanation.

A rule evaluates a whole `Book` at once and returns one value and one severity per customer
(`Outcome`); for a single customer it explains a fired finding in Chinese and English, naming the
funds involved (`Explanation`). Thresholds are dataclass fields, so a bank configures a rule by
constructing it with other numbers: ``TopFund(warning=0.5)``. Adding a rule touches one file: write
the class in the module of its family and list it in that module's ``RULES``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np

from advisor.diagnosis.book import Book


class Severity(IntEnum):
    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[int(self)]


SEVERITY_LABELS = ("ok", "info", "warning", "critical")
SEVERITY_ZH = ("正常", "提示", "关注", "严重")

FAMILIES: tuple[str, ...] = ("risk", "allocation", "concentration", "look_through", "style", "performance",
                             "cost", "liquidity", "protection")
FAMILY_NAMES_ZH = {"risk": "风险匹配", "allocation": "资产配置", "concentration": "集中度", "look_through": "持仓透视",
                   "style": "投资风格", "performance": "业绩表现", "cost": "费用成本", "liquidity": "流动性",
                   "protection": "保障与覆盖"}


@dataclass(frozen=True)
class Outcome:
    """Per-customer result of one rule: `value` (NaN = not evaluated) and `severity` (int8 0–3)."""

    value: np.ndarray
    severity: np.ndarray


@dataclass(frozen=True)
class Explanation:
    text_zh: str
    text_en: str
    funds: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def grade(value: np.ndarray, *, info: float | None = None, warning: float | None = None,
          critical: float | None = None, higher_is_worse: bool = True) -> np.ndarray:
    """Severity per value from ascending (or, with `higher_is_worse=False`, descending) thresholds;
    NaN grades OK (not evaluated). Values are compared at 1e-9 so that a ratio that is mathematically
    on a threshold (0.35 of a portfolio, however it is scaled) grades the same after float rounding."""
    v = np.round(np.asarray(value, dtype=float), 9)
    sign = 1.0 if higher_is_worse else -1.0
    out = np.zeros(v.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        for level, threshold in ((Severity.INFO, info), (Severity.WARNING, warning), (Severity.CRITICAL, critical)):
            if threshold is not None:
                out = np.where(sign * v >= sign * threshold, np.int8(level), out)
    return np.where(np.isnan(v), np.int8(0), out).astype(np.int8)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@dataclass(frozen=True)
class Rule(ABC):
    """Base class. Subclasses set the class attributes and implement `evaluate` and `explain`."""

    id: ClassVar[str]
    family: ClassVar[str]
    title_zh: ClassVar[str]
    title_en: ClassVar[str]
    action: ClassVar[str | None] = None  # id in advisor.diagnosis.actions.ACTIONS
    weight: float = 1.0  # multiplies the severity penalty in the score

    @abstractmethod
    def evaluate(self, book: Book) -> Outcome:
        """Value and severity for every customer of the book (vectorized; no per-customer loop)."""

    @abstractmethod
    def explain(self, book: Book, i: int, value: float) -> Explanation:
        """Why customer row `i` got this finding, naming the funds involved (called only when fired)."""

    def describe(self) -> dict[str, Any]:
        params = {k: v for k, v in self.__dict__.items()}
        return {"id": self.id, "family": self.family, "title_zh": self.title_zh, "title_en": self.title_en,
                "action": self.action, "parameters": params}


def fund_entry(book: Book, fund: int, **extra: Any) -> dict[str, Any]:
    """A fund named in a finding: code, name and whatever numbers the rule adds."""
    return {"code": str(book.ctx.codes[fund]), "name": str(book.ctx.names[fund]), **extra}


def names_zh(book: Book, funds: list[int] | np.ndarray, limit: int = 5) -> str:
    labels = [book.fund_label(int(f)) for f in list(funds)[:limit]]
    more = len(funds) - limit
    return "、".join(labels) + (f" 等{len(funds)}只" if more > 0 else "")


def names_en(book: Book, funds: list[int] | np.ndarray, limit: int = 5) -> str:
    labels = [f"{book.ctx.names[int(f)]} ({book.ctx.codes[int(f)]})" for f in list(funds)[:limit]]
    more = len(funds) - limit
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")
