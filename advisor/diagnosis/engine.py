"""The health-check engine: rules over a whole book at once, then scores and actions.

One path for every caller: the nightly batch (`diagnose_files`, chunks of customers from Parquet to
Parquet), in-memory frames (`diagnose_frames`) and a single customer (`diagnose_customer`, a batch of
one). Every per-customer number comes from array operations over the book; explanations in Chinese and
English are produced only for the customers a caller asks to see (`DiagnosisResult.customer_report`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from advisor import batch_io
from advisor.diagnosis.actions import ACTIONS, action_values, describe_action, top_actions
from advisor.diagnosis.book import Book
from advisor.diagnosis.context import DiagnosisContext
from advisor.diagnosis.rules import FAMILIES, SEVERITY_LABELS, Rule, Severity, default_rules
from advisor.diagnosis.rules.base import FAMILY_NAMES_ZH, SEVERITY_ZH
from advisor.diagnosis.score import health_score, sub_scores
from products.errors import BadInputError

DEFAULT_CHUNK = 100_000
METRIC_COLUMNS = ("fund_value", "cash", "visible_assets", "n_funds", "rejected_lots")


@dataclass
class DiagnosisResult:
    """Per-customer values, severities, sub-scores, health score and top actions of one book."""

    book: Book
    rules: tuple[Rule, ...]
    values: dict[str, np.ndarray]
    severities: dict[str, np.ndarray]
    subscores: dict[str, np.ndarray]
    health: np.ndarray
    action_value: np.ndarray
    actions: np.ndarray
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return self.book.n

    def report_columns(self) -> dict[str, np.ndarray]:
        """The batch report row of every customer as plain numpy columns (cheap to send between processes)."""
        book = self.book
        columns: dict[str, np.ndarray] = {"customer_id": book.customer_id, "health_score": self.health}
        for family in FAMILIES:
            columns[f"score_{family}"] = self.subscores[family].astype(np.float32)
        for rule in self.rules:
            columns[rule.id] = self.severities[rule.id]
            columns[f"{rule.id}_value"] = self.values[rule.id].astype(np.float32)
        columns["fund_value"] = book.fund_value
        columns["cash"] = book.cash
        columns["visible_assets"] = book.visible_assets
        columns["n_funds"] = book.n_funds_held.astype(np.int16)
        columns["rejected_lots"] = book.rejected_lots.astype(np.int32)
        for k in range(self.actions.shape[1]):
            columns[f"action_{k + 1}"] = self.actions[:, k].astype(np.int8)
        return columns

    def to_arrow(self) -> pa.Table:
        """One row per customer: id, health score, sub-scores, one severity and one value column per
        check, a few totals, and the three actions (ids)."""
        return report_table(self.report_columns(), self.rules)

    def to_frame(self) -> pd.DataFrame:
        frame = self.to_arrow().to_pandas()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype("str").where(frame[column].notna())
        return frame

    def findings(self, i: int, min_severity: int = Severity.INFO) -> list[dict[str, Any]]:
        """Fired findings of customer row `i`, most severe first, with zh / en explanations naming funds."""
        out = []
        for rule in self.rules:
            severity = int(self.severities[rule.id][i])
            if severity < min_severity:
                continue
            value = float(self.values[rule.id][i])
            explanation = rule.explain(self.book, i, value)
            out.append({
                "rule": rule.id, "family": rule.family, "family_zh": FAMILY_NAMES_ZH[rule.family],
                "severity": SEVERITY_LABELS[severity], "severity_zh": SEVERITY_ZH[severity],
                "title_zh": rule.title_zh, "title_en": rule.title_en,
                "value": value if np.isfinite(value) else None,
                "explanation_zh": explanation.text_zh, "explanation_en": explanation.text_en,
                "funds": explanation.funds, "details": explanation.details, "action": rule.action,
            })
        out.sort(key=lambda f: -SEVERITY_LABELS.index(f["severity"]))
        return out

    def customer_report(self, i: int) -> dict[str, Any]:
        """The full health check of customer row `i` (the single-customer JSON)."""
        from advisor.diagnosis.report import customer_report

        return customer_report(self, i)

    def actions_of(self, i: int, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [describe_action(self.book, i, int(k), float(self.action_value[i, k]), findings)
                for k in self.actions[i] if k >= 0]


_SEVERITY_DICTIONARY = tuple(SEVERITY_LABELS)


def report_table(columns: dict[str, np.ndarray], rules: Sequence[Rule]) -> pa.Table:
    """Arrow table of report columns: severities and actions as dictionary (label) columns."""
    severity_labels = pa.array(list(_SEVERITY_DICTIONARY), type=pa.string())
    action_ids = pa.array([a.id for a in ACTIONS], type=pa.string())
    rule_ids = {rule.id for rule in rules}
    out: dict[str, pa.Array] = {}
    for name, values in columns.items():
        if name == "customer_id":
            out[name] = pa.array(values, type=pa.string())
        elif name in rule_ids:
            out[name] = pa.DictionaryArray.from_arrays(pa.array(values, type=pa.int8()), severity_labels)
        elif name.startswith("action_"):
            missing = values < 0
            out[name] = pa.DictionaryArray.from_arrays(
                pa.array(np.maximum(values, 0), type=pa.int8(), mask=missing), action_ids)
        else:
            out[name] = pa.array(values)
    return pa.table(out)


def run_rules(book: Book, rules: Sequence[Rule] | None = None) -> DiagnosisResult:
    """Evaluate every rule on the book and derive sub-scores, the health score and the top actions."""
    rules = tuple(rules) if rules is not None else default_rules()
    values: dict[str, np.ndarray] = {}
    severities: dict[str, np.ndarray] = {}
    for rule in rules:
        outcome = rule.evaluate(book)
        values[rule.id] = np.asarray(outcome.value, dtype=float)
        severities[rule.id] = np.asarray(outcome.severity, dtype=np.int8)
    subs = sub_scores(rules, severities, book.n)
    health = health_score(rules, severities, subs)
    act_values = action_values(rules, severities, book.n)
    return DiagnosisResult(book, rules, values, severities, subs, health, act_values, top_actions(act_values),
                           notes=book.ctx.notes)


# ---------------------------------------------------------------------------------------------
# preparing inputs
# ---------------------------------------------------------------------------------------------

@dataclass
class PreparedInputs:
    """Validated customers and valued lots, lots sorted by customer row, with everything rejected."""

    customers: pd.DataFrame
    lot_customer: np.ndarray
    lot_fund: np.ndarray
    lot_value: np.ndarray
    lot_days: np.ndarray
    rejects: pd.DataFrame
    as_of: date

    def chunks(self, chunk_size: int) -> Iterator[tuple[int, int, slice]]:
        """(first customer, end customer, lot slice) per chunk."""
        n = len(self.customers)
        for lo in range(0, max(n, 1), chunk_size):
            hi = min(lo + chunk_size, n)
            a, b = np.searchsorted(self.lot_customer, [lo, hi])
            yield lo, hi, slice(int(a), int(b))


def prepare(ctx: DiagnosisContext, customers: batch_io.PathOrFrame, holdings: batch_io.PathOrFrame,
            as_of: date | None = None) -> PreparedInputs:
    """Read and validate both tables, reject lots of unknown funds or customers, value the lots."""
    as_of = as_of or date.today()
    clean_c, rejects_c = batch_io.read_customers(customers)
    lots = batch_io.validate_holdings(holdings, universe=ctx.universe, as_of=as_of)
    clean_c, rejects_skip = batch_io.skip_customers_with_rejected_lots(clean_c, lots.rejects)
    rejects_c = pd.concat([r for r in (rejects_c, rejects_skip) if not r.empty] or [rejects_c], ignore_index=True)
    # the same rows `read_holdings` keeps, as arrays (no DataFrame of millions of lots is built)
    keep = ~lots.bad
    ids = lots.customer_id.filter(pa.array(keep)) if not keep.all() else lots.customer_id
    rows = np.flatnonzero(keep)
    position = batch_io.customer_positions(clean_c["customer_id"], ids)
    orphan = position < 0
    rejects_o = batch_io.empty_rejects()
    if orphan.any():
        orphan_ids = np.asarray(ids.filter(pa.array(orphan)).to_pylist(), dtype=object)
        rejects_o = batch_io.orphan_rejects(orphan_ids, rows[orphan], rejects_c)
        rows, position = rows[~orphan], position[~orphan]
    lot_fund = lots.fund_idx[rows].astype(np.int64)
    lot_value, lot_days = batch_io.lot_values(ctx.universe, lot_fund, lots.shares[rows], lots.amount[rows],
                                              lots.purchase_date[rows], as_of)
    rejects = pd.concat([r for r in (rejects_c, lots.rejects, rejects_o) if not r.empty]
                        or [batch_io.empty_rejects()], ignore_index=True)
    lot_rejects = rejects.loc[rejects["table"] == "holdings", "customer_id"].dropna()
    if len(lot_rejects):
        rejected_pos = batch_io.customer_positions(clean_c["customer_id"], lot_rejects)
        counts = np.bincount(rejected_pos[rejected_pos >= 0], minlength=len(clean_c))
    else:
        counts = np.zeros(len(clean_c), dtype=np.int64)
    clean_c = clean_c.assign(rejected_lots=counts)
    order = np.arange(len(position)) if _is_sorted(position) else np.argsort(position, kind="stable")
    return PreparedInputs(
        customers=clean_c, lot_customer=position[order],
        lot_fund=lot_fund[order], lot_value=lot_value[order], lot_days=lot_days.astype(np.int64)[order],
        rejects=rejects, as_of=as_of)


def _is_sorted(values: np.ndarray) -> bool:
    return bool(len(values) < 2 or (values[1:] >= values[:-1]).all())


def book_of(ctx: DiagnosisContext, inputs: PreparedInputs, lo: int, hi: int, lots: slice) -> Book:
    return Book(ctx, inputs.customers.iloc[lo:hi].reset_index(drop=True), inputs.lot_customer[lots] - lo,
                inputs.lot_fund[lots], inputs.lot_value[lots], inputs.lot_days[lots], inputs.as_of)


def diagnose_prepared(ctx: DiagnosisContext, inputs: PreparedInputs, rules: Sequence[Rule] | None = None,
                      chunk_size: int = DEFAULT_CHUNK,
                      progress: Callable[[int], None] | None = None) -> Iterator[DiagnosisResult]:
    """Results chunk by chunk (memory stays bounded by `chunk_size` customers)."""
    rules = tuple(rules) if rules is not None else default_rules()
    for lo, hi, lots in inputs.chunks(chunk_size):
        if hi <= lo:
            break
        result = run_rules(book_of(ctx, inputs, lo, hi, lots), rules)
        if progress is not None:
            progress(hi - lo)
        yield result


_WORK: tuple[DiagnosisContext, PreparedInputs, tuple[Rule, ...]] | None = None


def _chunk_columns(bounds: tuple[int, int, int, int]) -> dict[str, np.ndarray]:
    """Worker: report columns of one chunk (the prepared inputs are inherited from the parent by fork)."""
    assert _WORK is not None
    ctx, inputs, rules = _WORK
    lo, hi, a, b = bounds
    return run_rules(book_of(ctx, inputs, lo, hi, slice(a, b)), rules).report_columns()


def default_workers(n_customers: int, chunk_size: int) -> int:
    """Both cores for runs of several chunks (fork only, i.e. Linux); one otherwise."""
    if n_customers <= chunk_size or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def diagnose_tables(ctx: DiagnosisContext, inputs: PreparedInputs, rules: Sequence[Rule] | None = None,
                    chunk_size: int = DEFAULT_CHUNK, workers: int | None = None,
                    progress: Callable[[int], None] | None = None) -> Iterator[pa.Table]:
    """Report tables chunk by chunk, in customer order. With `workers` > 1, chunks are computed in forked
    worker processes (a sliding window of 2 × workers chunks in flight keeps memory bounded)."""
    global _WORK
    rules = tuple(rules) if rules is not None else default_rules()
    n = len(inputs.customers)
    workers = default_workers(n, chunk_size) if workers is None else workers
    bounds = [(lo, hi, s.start, s.stop) for lo, hi, s in inputs.chunks(chunk_size) if hi > lo]
    if workers <= 1 or len(bounds) <= 1:
        for result in diagnose_prepared(ctx, inputs, rules, chunk_size, progress):
            yield result.to_arrow()
        return
    _WORK = (ctx, inputs, rules)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            pending: deque = deque()
            queue = iter(bounds)
            for item in queue:
                pending.append((item, pool.submit(_chunk_columns, item)))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                item, future = pending.popleft()
                columns = future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(_chunk_columns, nxt)))
                if progress is not None:
                    progress(item[1] - item[0])
                yield report_table(columns, rules)
    finally:
        _WORK = None


def diagnose_frames(ctx: DiagnosisContext, customers: batch_io.PathOrFrame, holdings: batch_io.PathOrFrame,
                    as_of: date | None = None, rules: Sequence[Rule] | None = None,
                    chunk_size: int = DEFAULT_CHUNK) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(report frame, rejects) for tables in memory or on disk."""
    inputs = prepare(ctx, customers, holdings, as_of)
    tables = list(diagnose_tables(ctx, inputs, rules, chunk_size, workers=1))
    if not tables:
        return pd.DataFrame(), inputs.rejects
    frame = pa.concat_tables(tables).to_pandas()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("str").where(frame[column].notna())
    return frame, inputs.rejects


# ---------------------------------------------------------------------------------------------
# one customer
# ---------------------------------------------------------------------------------------------

PROFILE_FIELDS = ("customer_id", "risk_level", "lowest_category", "assessment_expires_on", "age", "horizon_years",
                  "monthly_expenses", "cash", "deposits", "wealth_products", "insurance", "rm_id")


def customer_tables(payload: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two batch tables (one customer row, its lots) from a single-customer JSON object."""
    if not isinstance(payload, dict):
        raise BadInputError("customer JSON must be an object with profile fields and a holdings list")
    unknown = set(payload) - set(PROFILE_FIELDS) - {"holdings"}
    if unknown:
        raise BadInputError(f"unknown field(s) in customer JSON: {', '.join(sorted(unknown))}",
                            details={"fields": sorted(unknown)})
    profile = {k: payload.get(k) for k in PROFILE_FIELDS if k in payload}
    profile.setdefault("customer_id", "customer")
    holdings = payload.get("holdings") or []
    if not isinstance(holdings, list) or not all(isinstance(h, dict) for h in holdings):
        raise BadInputError("holdings must be a list of objects {code, shares or amount, purchase_date}",
                            details={"field": "holdings"})
    customer = pd.DataFrame([{k: (str(v) if k in ("customer_id", "risk_level", "rm_id") and v is not None else v)
                              for k, v in profile.items()}])
    lots = pd.DataFrame([{"customer_id": str(profile["customer_id"]), "code": None if h.get("code") is None
                          else str(h.get("code")), "shares": h.get("shares"), "amount": h.get("amount"),
                          "purchase_date": h.get("purchase_date")} for h in holdings],
                        columns=["customer_id", "code", "shares", "amount", "purchase_date"])
    for column in ("shares", "amount"):
        lots[column] = pd.to_numeric(lots[column], errors="coerce").where(lots[column].notna())
    return customer, lots


def diagnose_customer(ctx: DiagnosisContext, payload: dict[str, Any], as_of: date | None = None,
                      rules: Sequence[Rule] | None = None) -> dict[str, Any]:
    """The full health check of one customer: findings with zh / en explanations, scores, actions.

    A profile or a holding the batch would reject raises `BadInputError` naming the field (the batch's
    policy: no advice on a partial picture of the holdings)."""
    customer, lots = customer_tables(payload)
    inputs = prepare(ctx, customer, lots, as_of)
    if len(inputs.rejects):
        raise batch_io.single_customer_error(inputs.rejects)
    result = run_rules(book_of(ctx, inputs, 0, 1, slice(0, len(inputs.lot_customer))), rules)
    report = result.customer_report(0)
    return report
