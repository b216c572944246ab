"""A book of customers and their positions as arrays: the one input every health-check rule reads.

Customers are rows 0…n-1; lots are aligned arrays (customer row, fund position, value, holding days).
Positions (customer × fund, lots summed) are a CSR sparse matrix, so per-customer aggregates are sparse
products and `bincount`s. Heavier aggregates (pairs of funds held together, portfolio return paths,
look-through) are computed on first use, so a rule set that does not need them does not pay for them.
A single customer is simply a book with n = 1.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from advisor.diagnosis.context import DiagnosisContext, horizon_bucket, path_metrics
from products.taxonomy import ASSET_CLASSES, AssetClass

CASH_CLASS = ASSET_CLASSES.index(AssetClass.CASH)
PATH_BLOCK = 100_000  # customers per block when building return paths (~15 MB per block)


def segment_reduce(values: np.ndarray, segments: np.ndarray, n: int, ufunc: np.ufunc, fill: float) -> np.ndarray:
    """`ufunc.reduceat` of `values` grouped by sorted `segments` (ids 0…n-1); `fill` for empty groups."""
    out = np.full(n, fill, dtype=float)
    if len(values) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, segments[1:] != segments[:-1]])
    out[segments[starts]] = ufunc.reduceat(values, starts)
    return out


class Book:
    """Customers (profile arrays) and their lots, aligned to a `DiagnosisContext`."""

    def __init__(self, ctx: DiagnosisContext, customers: pd.DataFrame, lot_customer: np.ndarray,
                 lot_fund: np.ndarray, lot_value: np.ndarray, lot_days: np.ndarray, as_of: date):
        self.ctx = ctx
        self.as_of = as_of
        self.n = len(customers)
        self.customer_id = customers["customer_id"].to_numpy(dtype=object)
        self.level = customers["risk_level"].to_numpy(dtype=np.int8)
        self.lowest_category = customers["lowest_category"].to_numpy(dtype=bool)
        self.allowed_level = np.where(self.lowest_category, 1, self.level).astype(np.int8)
        self.expires_on = customers["assessment_expires_on"].to_numpy(dtype="datetime64[D]")
        self.age = customers["age"].to_numpy(dtype=float)
        self.horizon_years = customers["horizon_years"].to_numpy(dtype=float)
        self.bucket = horizon_bucket(self.horizon_years)
        self.monthly_expenses = customers["monthly_expenses"].to_numpy(dtype=float)
        self.cash = customers["cash"].to_numpy(dtype=float)
        self.deposits = customers["deposits"].to_numpy(dtype=float)
        self.wealth_products = customers["wealth_products"].to_numpy(dtype=float)
        self.insurance = customers["insurance"].to_numpy(dtype=float)  # NaN = not declared
        self.rejected_lots = (customers["rejected_lots"].to_numpy(dtype=np.int64)
                              if "rejected_lots" in customers.columns else np.zeros(self.n, dtype=np.int64))
        lot_customer = np.asarray(lot_customer, dtype=np.int64)
        ordered = len(lot_customer) < 2 or bool((lot_customer[1:] >= lot_customer[:-1]).all())
        order = slice(None) if ordered else np.argsort(lot_customer, kind="stable")
        self.lot_customer = np.asarray(lot_customer, dtype=np.int64)[order]
        self.lot_fund = np.asarray(lot_fund, dtype=np.int64)[order]
        self.lot_value = np.asarray(lot_value, dtype=float)[order]
        self.lot_days = np.asarray(lot_days, dtype=np.int64)[order]
        self._memo: dict[str, object] = {}

    def memo(self, key: str, build):
        """Compute an aggregate once per book (rules share them: e.g. fund-family shares)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    # ---- positions --------------------------------------------------------------------------
    @cached_property
    def positions(self) -> sp.csr_array:
        """Customer × fund value (yuan), lots of one fund summed, indices sorted within each row."""
        matrix = sp.csr_array((self.lot_value, (self.lot_customer, self.lot_fund)),
                              shape=(self.n, self.ctx.n_funds))
        matrix.sum_duplicates()
        return matrix

    @cached_property
    def entry_customer(self) -> np.ndarray:
        return np.repeat(np.arange(self.n), np.diff(self.positions.indptr))

    @property
    def entry_fund(self) -> np.ndarray:
        return self.positions.indices

    @property
    def entry_value(self) -> np.ndarray:
        return self.positions.data

    @cached_property
    def fund_value(self) -> np.ndarray:
        return np.bincount(self.entry_customer, weights=self.entry_value, minlength=self.n)

    @cached_property
    def n_funds_held(self) -> np.ndarray:
        return np.diff(self.positions.indptr)

    @cached_property
    def entry_weight(self) -> np.ndarray:
        """Each position's share of the customer's fund value."""
        total = self.fund_value[self.entry_customer]
        return np.divide(self.entry_value, total, out=np.zeros_like(self.entry_value), where=total > 0)

    @cached_property
    def weights(self) -> sp.csr_array:
        m = self.positions
        return sp.csr_array((self.entry_weight, m.indices, m.indptr), shape=m.shape)

    def weighted(self, fund_values: np.ndarray) -> np.ndarray:
        """Value-weighted average over each customer's funds of a per-fund quantity (NaN → 0)."""
        return np.bincount(self.entry_customer, weights=self.entry_weight * np.nan_to_num(
            np.asarray(fund_values, dtype=float)[self.entry_fund]), minlength=self.n)

    def share_where(self, fund_mask: np.ndarray) -> np.ndarray:
        """Share of fund value in funds where `fund_mask` is True."""
        return np.bincount(self.entry_customer, weights=self.entry_weight * fund_mask[self.entry_fund],
                           minlength=self.n)

    def value_where_entry(self, entry_mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.entry_customer, weights=self.entry_value * entry_mask, minlength=self.n)

    # ---- totals and classes ------------------------------------------------------------------
    @cached_property
    def money_market_value(self) -> np.ndarray:
        return self.value_where_entry(self.ctx.money_market[self.entry_fund])

    @cached_property
    def risky_value(self) -> np.ndarray:
        """Value in funds other than money-market funds (the base of concentration checks)."""
        return self.fund_value - self.money_market_value

    @cached_property
    def visible_assets(self) -> np.ndarray:
        return self.fund_value + self.cash

    @cached_property
    def held_away_assets(self) -> np.ndarray:
        return np.nan_to_num(self.deposits) + np.nan_to_num(self.wealth_products)

    @cached_property
    def class_values(self) -> np.ndarray:
        """n × 5 yuan per asset class (funds by class; cash in the cash class)."""
        out = np.zeros((self.n, len(ASSET_CLASSES)))
        classes = self.ctx.asset_class[self.entry_fund]
        for c in range(len(ASSET_CLASSES)):
            out[:, c] = np.bincount(self.entry_customer, weights=self.entry_value * (classes == c),
                                    minlength=self.n)
        out[:, CASH_CLASS] += self.cash
        return out

    def model_class_targets(self) -> np.ndarray:
        """n × 5 model weights for each customer's level (lowest category as C1) and horizon bucket."""
        return self.ctx.model.class_targets[self.allowed_level - 1, self.bucket]

    # ---- groups (company, manager, industry) ----------------------------------------------
    def group_shares(self, group_of_fund: np.ndarray, n_groups: int, entry_mask: np.ndarray | None = None,
                     base: np.ndarray | None = None) -> sp.csr_array:
        """Customer × group share of `base` (default: fund value) for the entries in `entry_mask`."""
        mask = np.ones(len(self.entry_fund), bool) if entry_mask is None else entry_mask
        base = self.fund_value if base is None else base
        denominator = base[self.entry_customer]
        share = np.divide(self.entry_value, denominator, out=np.zeros_like(self.entry_value),
                          where=denominator > 0) * mask
        matrix = sp.csr_array((share, (self.entry_customer, group_of_fund[self.entry_fund])),
                              shape=(self.n, max(n_groups, 1)))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return matrix

    @staticmethod
    def row_max(matrix: sp.csr_array) -> np.ndarray:
        if matrix.nnz == 0:
            return np.zeros(matrix.shape[0])
        return matrix.max(axis=1).toarray().ravel()

    @cached_property
    def industry_exposure(self) -> np.ndarray:
        """n × I look-through industry share of fund value."""
        return np.asarray(self.weights @ self.ctx.industry)

    @cached_property
    def style_exposure(self) -> np.ndarray:
        """n × K style weights of the fund portfolio (funds without style count as unknown)."""
        known = np.isfinite(self.ctx.style).all(axis=1) if self.ctx.style.shape[1] else np.zeros(self.ctx.n_funds, bool)
        w = self.weights @ np.nan_to_num(self.ctx.style)
        covered = self.share_where(known)
        return np.divide(w, covered[:, None], out=np.full_like(w, np.nan), where=covered[:, None] > 0)

    # ---- pairs of funds held together -----------------------------------------------------------
    @cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(first, second) entry positions of every unordered pair of funds one customer holds together,
        ordered by customer (Σ k(k−1)/2 pairs, ≤ 105 per customer of 15 funds)."""
        k = self.n_funds_held
        start = self.positions.indptr[:-1]
        entry_pos = np.arange(len(self.entry_fund)) - start[self.entry_customer]
        partners = k[self.entry_customer] - 1 - entry_pos
        first = np.repeat(np.arange(len(self.entry_fund)), partners)
        group_start = np.repeat(np.cumsum(partners) - partners, partners)
        second = first + (np.arange(len(first)) - group_start) + 1
        return first, second

    @cached_property
    def pair_customer(self) -> np.ndarray:
        return self.entry_customer[self.pairs[0]]

    # ---- performance ---------------------------------------------------------------------------
    @cached_property
    def performance(self) -> dict[str, np.ndarray]:
        """Return / volatility / max drawdown over 1 and 3 years of each customer's fund portfolio held
        at today's weights (rebalanced monthly), from the universe's monthly returns; NaN without funds."""
        returns = self.ctx.returns  # F × M float32 monthly
        parts: list[dict[str, np.ndarray]] = []
        weights = self.weights.astype(np.float32)
        for lo in range(0, self.n, PATH_BLOCK):
            block = weights[lo:lo + PATH_BLOCK]
            parts.append(path_metrics(np.asarray(block @ returns)))
        if not parts:
            return {}
        out = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        empty = self.fund_value <= 0
        return {key: np.where(empty, np.nan, value) for key, value in out.items()}

    # ---- explanation helpers ------------------------------------------------------------------
    def entries_of(self, i: int) -> slice:
        return slice(self.positions.indptr[i], self.positions.indptr[i + 1])

    def lots_of(self, i: int) -> slice:
        lo, hi = np.searchsorted(self.lot_customer, [i, i + 1])
        return slice(int(lo), int(hi))

    def fund_label(self, fund: int) -> str:
        return f"{self.ctx.names[fund]}({self.ctx.codes[fund]})"
