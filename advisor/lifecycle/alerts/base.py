"""The alert-rule protocol and what every rule reads (a book of customers at once).

An alert rule is a small frozen object with thresholds (like a health-check rule): `evaluate(book)` returns
the *candidates* it raises for the whole book — customer row, severity, the number it is about, the fund
(if any), a dedupe key and a few numbers for the message — and `render(book, candidates)` writes the zh / en
messages of the candidates that survive dedupe, opt-outs and caps (only those are formatted). A rule's
template is written once and filled column by column (`Rendered`: arrays of texts and detail columns), so
a night of a million customers formats its messages without a Python call per message and field.
Adding a trigger touches one file: write the class in the module of its family and list it in ``RULES``.
"""

from __future__ import annotations

import json
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

__all__ = [
    "SEVERITY_LABELS",
    "SEVERITY_ZH",
    "AlertBook",
    "AlertRule",
    "Candidates",
    "LifecycleContext",
    "Message",
    "Rendered",
    "Severity",
    "each",
    "lifecycle_context",
    "pick",
    "raw_json",
    "rounded",
    "texts",
]

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

    def fund_labels(self, fund: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(zh, en) labels of funds: 'name(code)' and 'name (code)'."""
        names, codes = self.ctx.names[fund].astype(object), self.ctx.codes[fund].astype(object)
        return names + "(" + codes + ")", names + " (" + codes + ")"


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
        """The given candidates (every column narrowed to `rows`)."""
        return Candidates(np.asarray(self.cust)[rows], np.asarray(self.severity)[rows],
                          np.asarray(self.value)[rows], np.asarray(self.key, dtype=object)[rows],
                          None if self.fund is None else np.asarray(self.fund)[rows],
                          {k: np.asarray(v)[rows] for k, v in self.extra.items()})


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
        """The candidates to render (only those sent or tasked); rules add batch-computed columns."""
        return found.subset(rows)

    @abstractmethod
    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        """The zh / en messages of every prepared candidate, filled column by column."""

    def titles(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return const(n, self.title_zh), const(n, self.title_en)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "title_zh": self.title_zh, "title_en": self.title_en, "priority": self.priority,
                "parameters": dict(self.__dict__)}


class RawJson(np.ndarray):
    """A detail column whose values are JSON texts already (e.g. a nested object)."""


def raw_json(values: list[str] | np.ndarray) -> RawJson:
    return np.asarray(values, dtype=object).view(RawJson)


@dataclass
class Rendered:
    """The messages of n candidates: one array per text, and the details as named columns (JSON values:
    numbers, strings, None; NaN is written as null)."""

    title_zh: np.ndarray
    text_zh: np.ndarray
    title_en: np.ndarray
    text_en: np.ndarray
    details: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.text_zh)

    def details_json(self) -> np.ndarray:
        """Each candidate's details as one JSON object text (the outbox's `details` column)."""
        return json_objects(self.details, len(self))

    def message(self, i: int) -> Message:
        text = self.details_json()[i] if len(self.details) else "{}"
        return Message(str(self.title_zh[i]), str(self.text_zh[i]), str(self.title_en[i]), str(self.text_en[i]),
                       json.loads(text))

    def messages(self) -> list[Message]:
        return [self.message(i) for i in range(len(self))]


def const(n: int, text: str) -> np.ndarray:
    return np.full(n, text, dtype=object)


def each(format_one: Any, values: Any, *args: Any) -> np.ndarray:
    """`format_one(v, *args)` of every value, as an object array (the one formatter of that number); each
    distinct number is formatted once (weights, days and levels repeat across a book)."""
    return _per_distinct(np.asarray(values), lambda distinct: [format_one(v, *args) for v in distinct])


def _per_distinct(values: np.ndarray, format_all: Any) -> np.ndarray:
    """`format_all(list of values)` applied to the distinct values only, spread back to every row. Floats are
    told apart by their bits, so -0.0 and 0.0 (which format differently) stay apart."""
    if values.dtype.kind not in "fiub" or len(values) < 64:
        return texts(format_all(values.tolist()))
    values = np.ascontiguousarray(values)
    keys = values.view(np.int64) if values.dtype == np.float64 else values
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return texts(format_all(values[first].tolist()))[inverse.reshape(-1)]


def texts(values: list[Any]) -> np.ndarray:
    """A list of texts (or None) as a 1-d object array."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def pick(condition: np.ndarray, yes: Any, no: Any) -> np.ndarray:
    """Texts chosen per row (object arrays or single texts)."""
    return np.where(np.asarray(condition, dtype=bool), yes, no).astype(object)


def rounded(values: Any, digits: int) -> np.ndarray:
    """Python's round of every value (NaN stays NaN, written as null): the numbers the details carry."""
    return np.array([round(v, digits) for v in np.asarray(values, dtype=float).tolist()], dtype=float)


_encode_text = json.encoder.encode_basestring  # the C encoder of json.dumps(..., ensure_ascii=False)


def _json_value(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _encode_text(v)
    if isinstance(v, float):
        return repr(v) if abs(v) != float("inf") else "null"
    if isinstance(v, int):
        return str(v)
    return _encode_text(str(v))


def json_values(values: np.ndarray) -> np.ndarray:
    """Every value of a detail column as JSON text (non-finite numbers and None as null)."""
    if isinstance(values, RawJson):
        return np.asarray(values).view(np.ndarray)
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        out = _per_distinct(arr.astype(np.float64), lambda distinct: [repr(v) for v in distinct])
        out[~np.isfinite(arr)] = "null"
        return out
    if arr.dtype.kind in "iu":
        return _per_distinct(arr, lambda distinct: [str(v) for v in distinct])
    items = arr.tolist()
    if all(type(v) is str for v in items):
        return texts([_encode_text(v) for v in items])
    return texts([_json_value(v) for v in items])


def json_objects(columns: dict[str, Any], n: int) -> np.ndarray:
    """One JSON object text per row from named columns (the layout of `json.dumps`: ", " and ": ")."""
    out = const(n, "{")
    for j, (key, values) in enumerate(columns.items()):
        out = out + f"{', ' if j else ''}{_encode_text(key)}: " + json_values(values)
    return out + "}"


def yuan(x: float) -> str:
    return f"{'-' if x < -0.005 else ''}¥{abs(x):,.2f}"


def yuan0(x: float) -> str:
    return f"{'-' if x < -0.5 else ''}¥{abs(x):,.0f}"


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"
