"""The alert-rule protocol and what every rule reads (a book of customers at once).

An alert rule is a small frozen object with thresholds (like a health-check rule): `evaluate(book)` returns
the *candidates* it raises for the whole book — customer row, severity, the number it is about, the fund
(if any), a dedupe key and a few numbers for the message — and `render(book, candidates, rows)` writes the
zh / en message of the candidates that survive dedupe, opt-outs and caps (only those are formatted).
Adding a trigger touches one file: write the class in the module of its family and list it in ``RULES``.
"""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from advisor.diagnosis.rules.base import SEVERITY_LABELS, SEVERITY_ZH, Severity
from advisor.lifecycle.prices import TOTAL, PriceTable, date_of, day_of, price_table
from products.taxonomy import ASSET_CLASSES
from products.universe import Universe

__all__ = ["SEVERITY_LABELS", "SEVERITY_ZH", "AlertBook", "AlertRule", "Candidates", "LifecycleContext",
           "Message", "Severity", "lifecycle_context"]

DRAWDOWN_WINDOW = 252  # trading days of the drawdown look-back (one year)
BUCKET_HORIZONS = (0.5, 2.0, 5.0)  # the horizon each model bucket (short, medium, long) is asked for


@dataclass(frozen=True, eq=False)
class LifecycleContext:
    """Per-universe arrays the alert rules read, built once (`lifecycle_context`)."""

    universe: Universe
    prices: PriceTable
    codes: np.ndarray
    names: np.ndarray
    asset_class: np.ndarray  # int index into ASSET_CLASSES
    model_targets: np.ndarray  # (5 levels, 3 buckets, 5 classes)
    model_version: str

    def day_row(self, as_of: date) -> int:
        return int(np.searchsorted(self.prices.days, day_of(as_of), side="right")) - 1

    def last_returns(self, as_of: date) -> tuple[np.ndarray, date | None]:
        """Each fund's return on the last trading day on or before `as_of` (NaN where it had no price move
        data that day) and that day."""
        row = self.day_row(as_of)
        if row < 1:
            return np.full(len(self.codes), np.nan), None
        values = self.universe.returns.iloc[row].to_numpy(dtype=float)
        return values, date_of(self.prices.days[row])

    def growth_window(self, as_of: date, window: int = DRAWDOWN_WINDOW) -> tuple[np.ndarray, np.ndarray]:
        """(F × W adjusted price relative to the last day, the W epoch days): a position's value path is its
        value today times this row."""
        row = self.day_row(as_of)
        lo = max(row - window + 1, 0)
        block = self.prices.prices[TOTAL][lo:row + 1]
        last = block[-1]
        rel = block / np.where(np.isfinite(last) & (last > 0), last, np.nan)
        rel = np.where(np.isfinite(rel), rel, 1.0)
        return np.ascontiguousarray(rel.T.astype(np.float32)), self.prices.days[lo:row + 1]


_CONTEXTS: weakref.WeakKeyDictionary[Universe, LifecycleContext] = weakref.WeakKeyDictionary()


def lifecycle_context(universe: Universe) -> LifecycleContext:
    context = _CONTEXTS.get(universe)
    if context is None:
        context = _CONTEXTS[universe] = _build_context(universe)
    return context


def _build_context(universe: Universe) -> LifecycleContext:
    from advisor import model_portfolios

    targets = np.zeros((5, 3, len(ASSET_CLASSES)))
    for level in range(1, 6):
        for b, years in enumerate(BUCKET_HORIZONS):
            series = model_portfolios.model_portfolio(level, years, universe=universe)
            targets[level - 1, b] = [float(series.get(c.value, 0.0)) for c in ASSET_CLASSES]
    classes = {c.value: k for k, c in enumerate(ASSET_CLASSES)}
    asset_class = universe.funds["asset_class"].astype("str").map(classes).fillna(2).to_numpy(dtype=np.int64)
    prices = price_table(universe)
    return LifecycleContext(universe=universe, prices=prices, codes=prices.codes, names=prices.names,
                            asset_class=asset_class, model_targets=targets,
                            model_version=str(getattr(model_portfolios, "MODEL_VERSION", "")))


@dataclass
class AlertBook:
    """One chunk of customers with their positions, goals, plans and debits, as arrays and small frames.

    `customers` has the `batch_io.read_customers` columns; positions are the current holdings (customer
    row, fund, value); `goals`, `plans`, `debits` and `fund_events` carry a `cust` column (customer row)
    where they belong to a customer. Missing tables are empty frames."""

    ctx: LifecycleContext
    as_of: date
    customers: pd.DataFrame
    pos_cust: np.ndarray
    pos_fund: np.ndarray
    pos_value: np.ndarray
    goals: pd.DataFrame = field(default_factory=pd.DataFrame)
    plans: pd.DataFrame = field(default_factory=pd.DataFrame)
    debits: pd.DataFrame = field(default_factory=pd.DataFrame)
    fund_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    returns: dict[str, np.ndarray] = field(default_factory=dict)
    goal_sim: Any = None  # the goal simulator of the run (`advisor.lifecycle.goals.goal_simulator`)
    _memo: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.customers)

    @property
    def customer_id(self) -> np.ndarray:
        return self.customers["customer_id"].to_numpy(dtype=object)

    @property
    def allowed_level(self) -> np.ndarray:
        level = self.customers["risk_level"].to_numpy(dtype=np.int64)
        lowest = self.customers["lowest_category"].to_numpy(dtype=bool)
        return np.where(lowest, 1, level)

    def memo(self, key: str, build: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    @property
    def fund_value(self) -> np.ndarray:
        return self.memo("fund_value", lambda: np.bincount(self.pos_cust, weights=self.pos_value, minlength=self.n))

    def fund_label(self, fund: int) -> str:
        return f"{self.ctx.names[fund]}({self.ctx.codes[fund]})"

    def fund_label_en(self, fund: int) -> str:
        return f"{self.ctx.names[fund]} ({self.ctx.codes[fund]})"


@dataclass
class Candidates:
    """Alerts one rule raises: aligned arrays (one entry per alert)."""

    cust: np.ndarray
    severity: np.ndarray
    value: np.ndarray
    key: np.ndarray  # object: the rule-specific part of the dedupe key
    fund: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cust)

    @classmethod
    def none(cls) -> Candidates:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8), np.zeros(0), np.zeros(0, dtype=object))

    def subset(self, rows: np.ndarray) -> Candidates:
        """The given candidates with every column as a Python list (fast to format one by one)."""
        return Candidates(self.cust[rows].tolist(), self.severity[rows].tolist(), self.value[rows].tolist(),
                          self.key[rows].tolist(), None if self.fund is None else self.fund[rows].tolist(),
                          {k: np.asarray(v)[rows].tolist() for k, v in self.extra.items()})


@dataclass(frozen=True)
class Message:
    title_zh: str
    text_zh: str
    title_en: str
    text_en: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRule(ABC):
    """Base class: subclasses set `kind`, titles and `priority` (lower first when a cap binds)."""

    kind: ClassVar[str]
    title_zh: ClassVar[str]
    title_en: ClassVar[str]
    priority: ClassVar[int] = 50

    @abstractmethod
    def evaluate(self, book: AlertBook) -> Candidates:
        """Every alert this rule raises for the book (vectorized)."""

    def prepare(self, book: AlertBook, found: Candidates, rows: np.ndarray) -> Candidates:
        """The candidates to render (only those sent or tasked), as lists; rules add batch-computed columns."""
        return found.subset(rows)

    @abstractmethod
    def render(self, book: AlertBook, found: Candidates, i: int) -> Message:
        """The zh / en message of prepared candidate `i`."""

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "title_zh": self.title_zh, "title_en": self.title_en, "priority": self.priority,
                "parameters": dict(self.__dict__)}


def yuan(x: float) -> str:
    return f"{'-' if x < -0.005 else ''}¥{abs(x):,.2f}"


def yuan0(x: float) -> str:
    return f"{'-' if x < -0.5 else ''}¥{abs(x):,.0f}"


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"
