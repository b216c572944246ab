"""Reports: the single-customer health check (JSON) and the batch summary (JSON)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from advisor.diagnosis.actions import ACTIONS
from advisor.diagnosis.rules.allocation import actual_class_weights
from advisor.diagnosis.rules.base import FAMILIES, FAMILY_NAMES_ZH, SEVERITY_LABELS
from advisor.diagnosis.score import FAMILY_WEIGHTS, RISK_CRITICAL_CAP
from products.taxonomy import ASSET_CLASSES

if TYPE_CHECKING:
    from advisor.diagnosis.book import Book
    from advisor.diagnosis.engine import DiagnosisResult

SCORE_BANDS = ((85, "healthy", "健康"), (70, "fair", "一般"), (60, "needs_attention", "需关注"),
               (0, "unhealthy", "需调整"))


def band(score: float) -> tuple[str, str]:
    for floor, en, zh in SCORE_BANDS:
        if score >= floor:
            return en, zh
    return SCORE_BANDS[-1][1], SCORE_BANDS[-1][2]


def customer_report(result: DiagnosisResult, i: int) -> dict[str, Any]:
    """Everything the app's 财富体检 page and an RM's client review show for customer row `i`."""
    book = result.book
    ctx = book.ctx
    findings = result.findings(i)
    entries = book.entries_of(i)
    holdings = [{
        "code": str(ctx.codes[f]), "name": str(ctx.names[f]), "value": float(v), "weight": float(w),
        "risk_level": f"R{int(ctx.risk_level[f])}", "asset_class": str(ctx.universe.funds["asset_class"].iat[f]),
    } for f, v, w in zip(book.entry_fund[entries], book.entry_value[entries], book.entry_weight[entries], strict=True)]
    perf = book.performance
    score = float(result.health[i])
    label_en, label_zh = band(score)
    checks = {rule.id: {"severity": SEVERITY_LABELS[int(result.severities[rule.id][i])],
                        "value": _finite(result.values[rule.id][i])} for rule in result.rules}
    return {
        "customer_id": str(book.customer_id[i]),
        "as_of": book.as_of.isoformat(),
        "universe_as_of": str(ctx.as_of), "universe_version": ctx.version, "model_version": ctx.model.version,
        "risk_level": f"C{int(book.level[i])}", "lowest_category": bool(book.lowest_category[i]),
        "health_score": score, "health_band": label_en, "health_band_zh": label_zh,
        "sub_scores": {family: float(result.subscores[family][i]) for family in FAMILIES},
        "sub_score_names_zh": dict(FAMILY_NAMES_ZH),
        "findings": findings,
        "actions": result.actions_of(i, findings),
        "checks": checks,
        "portfolio": {
            "fund_value": float(book.fund_value[i]), "cash": float(book.cash[i]),
            "held_away": float(book.held_away_assets[i]), "visible_assets": float(book.visible_assets[i]),
            "holdings": holdings,
            "performance": {k: _finite(v[i]) for k, v in perf.items()},
            "model_performance": {k: float(v[book.allowed_level[i] - 1, book.bucket[i]])
                                  for k, v in ctx.model_metrics.items()},
            "allocation": _allocation(book, i),
            "style": _style(book, i),
        },
        "notes": list(result.notes),
    }


def _allocation(book: Book, i: int) -> dict[str, dict[str, float | None]]:
    """Asset-class weights of the investable portfolio against the model, as the drift checks measure them."""
    actual = actual_class_weights(book)[i]
    target = book.model_class_targets()[i]
    return {"actual": {c.value: _finite(actual[k]) for k, c in enumerate(ASSET_CLASSES)},
            "target": {c.value: float(target[k]) for k, c in enumerate(ASSET_CLASSES)}}


def _style(book: Book, i: int) -> dict[str, Any] | None:
    """Style weights of the fund portfolio and of the level's model (the style-gap check's two sides)."""
    if not book.ctx.has_style:
        return None
    names = [str(n) for n in book.ctx.style_names]
    model = book.ctx.model_style[book.allowed_level[i] - 1, book.bucket[i]]
    known = np.isfinite(book.ctx.style).all(axis=1)
    entries = book.entries_of(i)
    covered = float(book.entry_weight[entries][known[book.entry_fund[entries]]].sum()) if len(
        book.entry_fund[entries]) else 0.0
    return {"portfolio": {n: _finite(book.style_exposure[i, k]) for k, n in enumerate(names)},
            "model": {n: _finite(model[k]) for k, n in enumerate(names)}, "coverage": covered}


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


class SummaryBuilder:
    """Accumulates the batch summary chunk by chunk (counts, score distribution, top actions)."""

    def __init__(self, rule_ids: Iterable[str]):
        self.rule_ids = list(rule_ids)
        self.n = 0
        self.severity_counts = {r: np.zeros(len(SEVERITY_LABELS), dtype=np.int64) for r in self.rule_ids}
        self.action_counts = np.zeros(len(ACTIONS), dtype=np.int64)
        self.first_action_counts = np.zeros(len(ACTIONS), dtype=np.int64)
        self.score_hist = np.zeros(101, dtype=np.int64)
        self.family_sums = {f: 0.0 for f in FAMILIES}
        self.score_sum = 0.0

    def add(self, table: pa.Table) -> None:
        self.n += table.num_rows
        score = table["health_score"].to_numpy()
        self.score_sum += float(score.sum())
        self.score_hist += np.bincount(np.clip(np.floor(score), 0, 100).astype(int), minlength=101)
        for family in FAMILIES:
            self.family_sums[family] += float(pc.sum(table[f"score_{family}"]).as_py() or 0.0)
        for rule in self.rule_ids:
            indices = table[rule].combine_chunks().indices.to_numpy(zero_copy_only=False)
            self.severity_counts[rule] += np.bincount(indices, minlength=len(SEVERITY_LABELS))
        for k in range(1, 4):
            name = f"action_{k}"
            if name not in table.column_names:
                continue
            column = table[name].combine_chunks()
            valid = column.is_valid().to_numpy(zero_copy_only=False)
            idx = column.indices.to_numpy(zero_copy_only=False)[valid].astype(np.int64)
            counts = np.bincount(idx, minlength=len(ACTIONS))
            self.action_counts += counts
            if k == 1:
                self.first_action_counts += counts

    def state(self) -> dict[str, Any]:
        """The accumulated counts as plain JSON (a partition's part of a partitioned run's summary)."""
        return {"n": self.n, "score_sum": self.score_sum, "score_hist": self.score_hist.tolist(),
                "family_sums": dict(self.family_sums),
                "severity_counts": {r: c.tolist() for r, c in self.severity_counts.items()},
                "action_counts": self.action_counts.tolist(), "first_action_counts": self.first_action_counts.tolist()}

    def merge(self, state: dict[str, Any]) -> None:
        """Add another builder's `state()` (summaries of partitions merge exactly: counts add up)."""
        self.n += int(state["n"])
        self.score_sum += float(state["score_sum"])
        self.score_hist += np.asarray(state["score_hist"], dtype=np.int64)
        for family, value in state["family_sums"].items():
            self.family_sums[family] = self.family_sums.get(family, 0.0) + float(value)
        for rule, counts in state["severity_counts"].items():
            self.severity_counts.setdefault(rule, np.zeros(len(SEVERITY_LABELS), dtype=np.int64))
            self.severity_counts[rule] += np.asarray(counts, dtype=np.int64)
        self.action_counts += np.asarray(state["action_counts"], dtype=np.int64)
        self.first_action_counts += np.asarray(state["first_action_counts"], dtype=np.int64)

    def _quantile(self, q: float) -> float:
        if self.n == 0:
            return float("nan")
        cumulative = np.cumsum(self.score_hist)
        return float(np.searchsorted(cumulative, q * self.n))

    def build(self, **extra: Any) -> dict[str, Any]:
        n = max(self.n, 1)
        return {
            "customers": self.n,
            "health_score": {"mean": round(self.score_sum / n, 2) if self.n else None, "p10": self._quantile(0.10),
                             "median": self._quantile(0.5), "p90": self._quantile(0.90),
                             "below_60": int(self.score_hist[:60].sum()),
                             "cap_on_critical_risk": RISK_CRITICAL_CAP},
            "sub_scores_mean": {f: round(self.family_sums[f] / n, 2) for f in FAMILIES},
            "family_weights": FAMILY_WEIGHTS,
            "checks": {rule: {label: int(c) for label, c in zip(SEVERITY_LABELS, counts, strict=True)}
                       for rule, counts in self.severity_counts.items()},
            "actions": {a.id: int(c) for a, c in zip(ACTIONS, self.action_counts, strict=True)},
            "first_actions": {a.id: int(c) for a, c in zip(ACTIONS, self.first_action_counts, strict=True)},
            **extra,
        }
