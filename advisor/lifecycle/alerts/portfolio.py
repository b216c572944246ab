"""Portfolio alerts: drawdown beyond the level's tolerance, a large NAV swing of a held fund, drift beyond the
band.

* **drawdown** — the value of today's holdings over the last year (each position's value today times its
  fund's adjusted price relative to today) against its peak; beyond the level's tolerance
  (`risk.levels.DRAWDOWN_TOLERANCE`, the one the health check and the rebalancing triggers use) it is a
  warning, beyond 1.5 × the tolerance critical. One alert per drawdown episode (its peak date) and band.
* **nav_swing** — a held fund moved at least the threshold of its asset class on the last trading day
  (equity 3%, gold 2.5%, bonds 1%; cash never) and is at least 5% of the customer's funds: one message a
  day naming the fund with the largest effect in yuan (and how many others moved).
* **drift** — total drift Σ|actual − target|/2 against the model of the customer's level and horizon
  (`advisor.rebalancing.triggers.class_drift`; the actual mix as the health check measures it, cash less
  the emergency reserve) at or beyond the band where rebalancing is urged (5%): a warning (drift is routine
  work for the rebalancing suggestions and the RM worklist's drift flag, never an RM task of its own).
  Drift lasts until the customer acts, so it is a reminder at most once per review period of the
  rebalancing calendar (a quarter), not a nightly message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from advisor.diagnosis.context import horizon_bucket
from advisor.diagnosis.rules.allocation import RESERVE_MONTHS, actual_class_weights
from advisor.lifecycle.alerts.base import (
    AlertBook,
    AlertRule,
    Candidates,
    LifecycleContext,
    Rendered,
    Severity,
    each,
    json_objects,
    pct,
    pick,
    raw_json,
    rounded,
    yuan,
)
from advisor.lifecycle.prices import date_of
from advisor.model_portfolios import LEVEL_NAMES_ZH
from advisor.rebalancing.settings import DEFAULT_SETTINGS
from advisor.rebalancing.triggers import class_drift
from products.taxonomy import ASSET_CLASS_NAMES_EN, ASSET_CLASS_NAMES_ZH, ASSET_CLASSES
from risk.levels import DRAWDOWN_TOLERANCE

PATH_BLOCK = 50_000  # customers per block of value paths (float32, ~50 MB per block)


def _positions_matrix(book: AlertBook) -> sp.csr_array:
    return book.memo("positions", lambda: sp.csr_array(
        (book.pos_value.astype(np.float32), (book.pos_cust, book.pos_fund)), shape=(book.n, len(book.ctx.codes))))


@dataclass(frozen=True)
class Drawdown(AlertRule):
    kind = "drawdown"
    title_zh = "持仓回撤超出承受范围"
    title_en = "Drawdown beyond what your risk level tolerates"
    priority = 10
    tolerance: tuple[float, ...] = DRAWDOWN_TOLERANCE
    critical_factor: float = 1.5
    window: int = 252

    def evaluate(self, book: AlertBook) -> Candidates:
        growth, days = book.ctx.growth_window(book.as_of, self.window)
        matrix = _positions_matrix(book)
        drawdown = np.zeros(book.n)
        peak_at = np.zeros(book.n, dtype=np.int64)
        for lo in range(0, book.n, PATH_BLOCK):
            path = np.asarray(matrix[lo:lo + PATH_BLOCK] @ growth)
            peak_col = np.argmax(path, axis=1)
            peak = path[np.arange(len(path)), peak_col]
            drawdown[lo:lo + PATH_BLOCK] = np.divide(path[:, -1], peak, out=np.ones(len(path)), where=peak > 0) - 1.0
            peak_at[lo:lo + PATH_BLOCK] = peak_col
        tol = np.asarray(self.tolerance)[book.allowed_level - 1]
        held = book.fund_value > 0
        band = np.where(drawdown <= -tol * self.critical_factor, 2, np.where(drawdown <= -tol, 1, 0)) * held
        rows = np.flatnonzero(band > 0)
        peak_day = days[peak_at[rows]]
        key = np.array([f"{date_of(d)}:{b}" for d, b in zip(peak_day, band[rows], strict=True)], dtype=object)
        severity = np.where(band[rows] == 2, Severity.CRITICAL, Severity.WARNING).astype(np.int8)
        return Candidates(rows, severity, drawdown[rows], key,
                          extra={"tolerance": tol[rows], "peak_day": peak_day, "value": book.fund_value[rows]})

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        dd, tol = -found.value.astype(float), found.extra["tolerance"].astype(float)
        peak = each(lambda d: str(date_of(d)), found.extra["peak_day"])
        level = book.allowed_level[found.cust.astype(np.int64)]
        loss = found.extra["value"].astype(float) * dd / (1.0 - dd)
        level_text = each(lambda v: f"C{v}", level)
        zh = ("按您当前的基金持仓计算，较近一年高点（" + peak + "）已回撤" + each(pct, dd) + "，约" + each(yuan, loss)
              + "，超过" + level_text + "（" + each(LEVEL_NAMES_ZH.__getitem__, level) + "）客户通常可承受的"
              + each(pct, tol, 0) + "。市场波动时请避免恐慌性赎回；"
              "如需重新评估配置，可查看持仓体检或联系您的客户经理。")
        en = ("Your current fund holdings are " + each(pct, dd) + " (about " + each(yuan, loss)
              + ") below their one-year high of " + peak + ", more than the " + each(pct, tol, 0) + " a "
              + level_text + " investor is taken to tolerate. Try not to sell in a panic; to review your allocation, "
              "see your health check or talk to your relationship manager.")
        title_zh, title_en = self.titles(len(dd))
        return Rendered(title_zh, zh, title_en, en,
                        {"drawdown": rounded(-dd, 6), "tolerance": tol, "peak_date": peak, "loss": rounded(loss, 2)})


# Daily move (fraction) of a held fund that is worth a message, per asset class in `ASSET_CLASSES` order
# (cash, bond, cn_equity, global_equity, gold; cash never).
SWING_THRESHOLD: tuple[float, ...] = (np.inf, 0.01, 0.03, 0.03, 0.025)


@dataclass(frozen=True)
class NavSwing(AlertRule):
    kind = "nav_swing"
    title_zh = "持有基金净值大幅波动"
    title_en = "Large move in a fund you hold"
    priority = 60
    min_weight: float = 0.05
    thresholds: tuple[float, ...] = SWING_THRESHOLD

    def evaluate(self, book: AlertBook) -> Candidates:
        moves, day = book.ctx.last_returns(book.as_of)
        if day is None or not len(book.pos_cust):
            return Candidates.none()
        threshold = np.asarray(self.thresholds, dtype=float)[book.ctx.asset_class]
        r = moves[book.pos_fund]
        weight = book.pos_value / np.maximum(book.fund_value[book.pos_cust], 1e-9)
        hit = np.isfinite(r) & (np.abs(r) >= threshold[book.pos_fund]) & (weight >= self.min_weight)
        idx = np.flatnonzero(hit)
        if not len(idx):
            return Candidates.none()
        impact = book.pos_value[idx] * r[idx] / (1.0 + r[idx])  # yuan gained or lost that day
        order = np.lexsort((-np.abs(impact), book.pos_cust[idx]))
        idx, impact = idx[order], impact[order]
        cust = book.pos_cust[idx]
        first = np.r_[True, cust[1:] != cust[:-1]]
        count = np.bincount(cust, minlength=book.n)[cust[first]]
        pick = idx[first]
        return Candidates(cust[first], np.full(first.sum(), Severity.INFO, dtype=np.int8), r[pick],
                          np.full(first.sum(), str(day), dtype=object), fund=book.pos_fund[pick],
                          extra={"impact": impact[first], "others": count - 1,
                                 "day": np.full(first.sum(), str(day), dtype=object)})

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        assert found.fund is not None
        fund, r = found.fund.astype(np.int64), found.value.astype(float)
        impact, others, day = found.extra["impact"].astype(float), found.extra["others"].astype(np.int64), \
            found.extra["day"].astype(object)
        up = r > 0
        moved = each(pct, np.abs(r), 2)
        label_zh, label_en = book.fund_labels(fund)
        zh = ("您持有的" + label_zh + "在" + day + "单日" + pick(up, "上涨", "下跌") + moved + "，按您的持仓约"
              + pick(up, "增加", "减少") + each(yuan, np.abs(impact)) + "。"
              + pick(others > 0, "另有" + each(str, others) + "只持有基金也有较大波动。", "")
              + "短期波动是基金投资的常态，请结合自己的投资期限理性看待。")
        en = (label_en + ", which you hold, " + pick(up, "rose", "fell") + " " + moved + " on " + day + ": about "
              + each(yuan, np.abs(impact)) + " " + pick(up, "more", "less") + " on your holding."
              + pick(others > 0, " " + each(str, others) + pick(others > 1, " other funds", " other fund")
                     + " you hold also moved a lot.", "")
              + " Short-term swings are normal; judge them against your own horizon.")
        title_zh, title_en = self.titles(len(r))
        return Rendered(title_zh, zh, title_en, en, {"code": book.ctx.codes[fund].astype(object),
                                                     "return": rounded(r, 6), "impact": rounded(impact, 2),
                                                     "date": day, "others": others})


def class_mix(ctx: LifecycleContext, customers: pd.DataFrame, pos_cust: np.ndarray, pos_fund: np.ndarray,
              pos_value: np.ndarray, reserve_months: float = RESERVE_MONTHS) -> tuple[np.ndarray, np.ndarray]:
    """(actual, target) n × 5 class weights: the funds and cash less the emergency reserve, as the health check
    measures them (`actual_class_weights`), against the model of each customer's level and horizon."""
    n = len(customers)
    values = np.zeros((n, len(ASSET_CLASSES)))
    classes = ctx.asset_class[pos_fund]
    for k in range(len(ASSET_CLASSES)):
        values[:, k] = np.bincount(pos_cust, weights=pos_value * (classes == k), minlength=n)
    cash = customers["cash"].to_numpy(dtype=float)
    values[:, 0] += cash
    actual = actual_class_weights(_ClassBook(values, cash, customers["monthly_expenses"].to_numpy(dtype=float)),
                                  reserve_months)
    level = np.where(customers["lowest_category"].to_numpy(dtype=bool), 1, customers["risk_level"].to_numpy(
        dtype=np.int64))
    bucket = horizon_bucket(customers["horizon_years"].to_numpy(dtype=float))
    return actual, ctx.model_targets[level - 1, bucket]


def review_period(day: date, calendar: str) -> str:
    """The rebalancing calendar's period of a date: '2026Q1' (quarterly) or '2026-02' (monthly)."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}" if calendar == "quarterly" else day.isoformat()[:7]


@dataclass
class _ClassBook:
    """The three arrays `actual_class_weights` reads (the health check's definition of the actual mix)."""

    class_values: np.ndarray
    cash: np.ndarray
    monthly_expenses: np.ndarray


@dataclass(frozen=True)
class Drift(AlertRule):
    kind = "drift"
    title_zh = "资产配置偏离目标"
    title_en = "Your allocation has drifted from its target"
    priority = 40
    band: float = DEFAULT_SETTINGS.urge_band
    reserve_months: float = RESERVE_MONTHS
    calendar: str = DEFAULT_SETTINGS.calendar

    def weights(self, book: AlertBook) -> tuple[np.ndarray, np.ndarray]:
        return book.memo("class_weights", lambda: class_mix(book.ctx, book.customers, book.pos_cust, book.pos_fund,
                                                            book.pos_value, self.reserve_months))

    def evaluate(self, book: AlertBook) -> Candidates:
        actual, target = self.weights(book)
        total, _ = class_drift(np.nan_to_num(actual), target)
        live = (book.fund_value > 0) & np.isfinite(actual).all(axis=1)
        rows = np.flatnonzero(live & (total >= self.band - 1e-12))
        key = np.full(len(rows), review_period(book.as_of, self.calendar), dtype=object)
        return Candidates(rows, np.full(len(rows), Severity.WARNING, dtype=np.int8), total[rows], key)

    def prepare(self, book: AlertBook, found: Candidates, rows: np.ndarray) -> Candidates:
        actual, target = self.weights(book)
        cust = found.cust[rows]
        a, t = np.round(actual[cust], 4), np.round(target[cust], 4)
        k = np.argmax(np.abs(a - t), axis=1)
        ready = found.subset(rows)
        ready.extra.update({"k": k, "actual": a, "target": t})
        return ready

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        k = found.extra["k"].astype(np.int64)
        actual, target = found.extra["actual"], found.extra["target"]
        rows = np.arange(len(k))
        a_k, t_k = actual[rows, k], target[rows, k]
        over = a_k > t_k
        drift = found.value.astype(float)
        names_zh = np.array([ASSET_CLASS_NAMES_ZH[c] for c in ASSET_CLASSES], dtype=object)[k]
        names_en = np.array([ASSET_CLASS_NAMES_EN[c] for c in ASSET_CLASSES], dtype=object)[k]
        zh = ("您的资产配置与目标组合的偏离度为" + each(pct, drift) + "，其中" + names_zh + pick(over, "超配", "低配")
              + "：当前" + each(pct, a_k) + "，目标" + each(pct, t_k) + "。可查看调仓建议，按目标比例调整。")
        en = ("Your allocation is " + each(pct, drift) + " away from its target; the share in " + names_en
              + " is too " + pick(over, "high", "low") + ": " + each(pct, a_k) + " against a target of "
              + each(pct, t_k) + ". See the rebalancing suggestion to bring it back.")
        title_zh, title_en = self.titles(len(k))
        return Rendered(title_zh, zh, title_en, en, {
            "drift": rounded(drift, 6), "asset_class": np.array(CLASS_IDS, dtype=object)[k],
            "actual": _class_objects(actual), "target": _class_objects(target)})


def _class_objects(weights: np.ndarray) -> np.ndarray:
    """{class: weight} JSON objects, one per row."""
    return raw_json(json_objects({c: weights[:, j] for j, c in enumerate(CLASS_IDS)}, len(weights)))


CLASS_IDS = tuple(c.value for c in ASSET_CLASSES)
RULES = (Drawdown, NavSwing, Drift)
