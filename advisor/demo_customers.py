"""Realistic synthetic customers and holdings for demos, tests and benchmarks (vectorized: 1M in seconds).

What is realistic about them (domain brief):
- tiers by financial assets: ordinary < ¥50k (55%), mid ¥50k–500k (33%), affluent ¥500k–2M (9%),
  high net worth ¥2M–6M (2.5%), private banking > ¥6M (0.5%);
- risk levels C1 12% · C2 30% · C3 33% · C4 18% · C5 7%, 3% of C1 in the lowest category; about 12%
  of assessments expired and 1% never done;
- 1–15 lots per customer (mean `mean_holdings`), mostly in funds at or below the level; about 8% of
  customers also hold a fund above their level (bought on their own with a mismatch warning);
- about 15% concentrated in one fund, 4% holding both share classes of one fund, 1% with a lot bought
  in the last 7 days; cash from none (10%) to most of the assets; held-away deposits, wealth products
  and insurance declared by some.
Fund choice follows each universe's own funds, so the same generator runs against the demo or real data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from advisor.batch_io import latest_unit_nav
from products.universe import Universe

TIER_FLOORS = np.array([1_000.0, 50_000.0, 500_000.0, 2_000_000.0, 6_000_000.0, 30_000_000.0])
TIER_SHARES = np.array([0.55, 0.33, 0.09, 0.025, 0.005])
LEVEL_SHARES = np.array([0.12, 0.30, 0.33, 0.18, 0.07])
HORIZONS = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 10.0])
HORIZON_SHARES = np.array([0.10, 0.20, 0.20, 0.25, 0.15, 0.10])
DEFAULT_CHUNK = 250_000  # customers generated at once by `generate_chunks` (~0.3 GB of working memory)


@dataclass(frozen=True)
class DemoRates:
    """Rates of the situations a health check should find (fractions of customers)."""

    above_level: float = 0.08
    concentrated: float = 0.15
    share_class_pair: float = 0.04
    short_hold: float = 0.01
    no_cash: float = 0.10
    expired: float = 0.12
    never_assessed: float = 0.01
    lowest_category_of_c1: float = 0.03


def _ids(prefix: str, n: int, width: int, start: int = 0) -> pa.Array:
    numbers = pc.utf8_lpad(pa.array(np.arange(start + 1, start + n + 1, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), numbers, "")


def _date_array(as_of: date, days_before: np.ndarray) -> pa.Array:
    epoch_days = (as_of - date(1970, 1, 1)).days - days_before.astype(np.int64)
    return pa.array(epoch_days.astype(np.int32), type=pa.int32()).cast(pa.date32())


def generate(universe: Universe, n: int, seed: int | Sequence[int] = 0, as_of: date | None = None,
             mean_holdings: float = 6.0, rates: DemoRates | None = None, start: int = 0) -> tuple[pa.Table, pa.Table]:
    """(customers, holdings) as Arrow tables in the batch formats of `advisor.batch_io`; customer ids and
    RM assignments continue from `start` (so chunks of a streamed book never reuse an id)."""
    rates = rates or DemoRates()
    as_of = as_of or date.today()
    rng = np.random.default_rng(seed)
    funds = universe.funds
    n_funds = len(funds)
    fund_level = funds["risk_level"].to_numpy(dtype=np.int64)
    money = funds["fund_type"].astype("str").to_numpy() == "money_market"

    # ---- customers ----------------------------------------------------------------------------
    tier = rng.choice(len(TIER_SHARES), size=n, p=TIER_SHARES)
    low, high = np.log(TIER_FLOORS[tier]), np.log(TIER_FLOORS[tier + 1])
    assets = np.exp(low + rng.random(n) * (high - low))
    level = rng.choice(5, size=n, p=LEVEL_SHARES) + 1
    lowest = (level == 1) & (rng.random(n) < rates.lowest_category_of_c1)
    allowed = np.where(lowest, 1, level)
    age = np.clip(rng.normal(45, 13, n), 18, 90).astype(np.int64)
    horizon = rng.choice(HORIZONS, size=n, p=HORIZON_SHARES)
    expenses = np.round(np.exp(rng.normal(np.log(4_000 + 0.01 * assets), 0.4)), -1)
    cash_share = np.where(rng.random(n) < rates.no_cash, 0.0, rng.beta(1.2, 3.0, n))
    cash = np.round(assets * cash_share, 2)
    fund_budget = assets - cash
    expiry_days = rng.integers(-int(365 * rates.expired / (1 - rates.expired)), 365, n)
    expires = _date_array(as_of, -expiry_days)
    never = rng.random(n) < rates.never_assessed
    expires = pc.if_else(pa.array(never), pa.nulls(n, pa.date32()), expires)
    deposits = np.where(rng.random(n) < 0.5, np.round(assets * rng.gamma(1.0, 0.6, n), 2), 0.0)
    wealth = np.where(rng.random(n) < 0.25, np.round(assets * rng.gamma(1.0, 0.8, n), 2), 0.0)
    insured = rng.random(n)
    insurance = np.where(insured < 0.45, np.round(50_000 + assets * 0.1, -2), np.where(insured < 0.6, 0.0, np.nan))
    customer_ids = _ids("C", n, 9, start)
    customers = pa.table({
        "customer_id": customer_ids,
        "risk_level": pc.binary_join_element_wise(pa.scalar("C"), pa.array(level).cast(pa.string()), ""),
        "lowest_category": pa.array(lowest),
        "assessment_expires_on": expires,
        "age": pa.array(age),
        "horizon_years": pa.array(horizon),
        "monthly_expenses": pa.array(expenses),
        "cash": pa.array(cash),
        "deposits": pa.array(deposits),
        "wealth_products": pa.array(wealth),
        "insurance": pa.array(insurance, from_pandas=True),
        "rm_id": pc.binary_join_element_wise(pa.scalar("RM"), pc.utf8_lpad(
            pa.array((start + np.arange(n)) // 13_000 + 1).cast(pa.string()), 5, "0"), ""),
    })

    # ---- lots ---------------------------------------------------------------------------------
    k = np.clip(rng.poisson(mean_holdings - 1, n) + 1, 1, 15)
    k = np.where(fund_budget < 1_000, 1, k)
    owner = np.repeat(np.arange(n), k)
    m = len(owner)
    first = np.r_[0, np.cumsum(k)[:-1]]
    lot_pos = np.arange(m) - first[owner]
    # fund choice: suitable funds by popularity, except for customers who bought above their level
    popularity = np.where(money, 0.5, 1.0) * rng.gamma(2.0, 1.0, n_funds)
    fund = np.empty(m, dtype=np.int64)
    lot_allowed = allowed[owner]
    for lvl in range(1, 6):
        eligible = popularity * (fund_level <= lvl)
        rows = np.flatnonzero(lot_allowed == lvl)
        if len(rows):
            cdf = np.cumsum(eligible) / eligible.sum()
            fund[rows] = np.searchsorted(cdf, rng.random(len(rows)), side="right").clip(0, n_funds - 1)
    above = (rng.random(n) < rates.above_level) & (allowed < 5)
    above_rows = first[above]
    if len(above_rows):
        for lvl in range(1, 5):
            rows = above_rows[lot_allowed[above_rows] == lvl]
            candidates = np.flatnonzero(fund_level > lvl)
            if len(rows) and len(candidates):
                fund[rows] = candidates[rng.integers(0, len(candidates), len(rows))]
    # both share classes of one fund
    sibling = _sibling_index(universe)
    pair = (rng.random(n) < rates.share_class_pair) & (k >= 2)
    first_fund = fund[first]
    has_sibling = sibling[first_fund] >= 0
    pair_rows = first[pair & has_sibling] + 1
    fund[pair_rows] = sibling[fund[first[pair & has_sibling]]]
    # value split: Dirichlet-like weights, one dominant fund for the concentrated customers
    raw = rng.gamma(1.0, 1.0, m)
    concentrated = rng.random(n) < rates.concentrated
    raw = np.where(concentrated[owner] & (lot_pos == 0), raw.max() * 10 + 10 * k[owner], raw)
    weight = raw / np.bincount(owner, weights=raw, minlength=n)[owner]
    value = np.round(np.maximum(fund_budget[owner] * weight, 10.0), 2)
    days = np.minimum(rng.exponential(500, m).astype(np.int64) + 7, 3_000)
    short = (rng.random(n) < rates.short_hold)[owner] & (lot_pos == k[owner] - 1)
    days = np.where(short, rng.integers(0, 7, m), days)
    nav = latest_unit_nav(universe)[fund]
    by_amount = rng.random(m) < 0.2
    shares = np.where(by_amount, np.nan, np.round(value / nav, 2))
    amount = np.where(by_amount, value, np.nan)
    codes = pa.DictionaryArray.from_arrays(pa.array(fund.astype(np.int32)),
                                           pa.array(list(funds.index), type=pa.string())).cast(pa.string())
    holdings = pa.table({
        "customer_id": customer_ids.take(pa.array(owner)),
        "code": codes,
        "shares": pa.array(shares, from_pandas=True),
        "amount": pa.array(amount, from_pandas=True),
        "purchase_date": _date_array(as_of, days),
    })
    return customers, holdings


def generate_chunks(universe: Universe, n: int, seed: int = 0, as_of: date | None = None,
                    mean_holdings: float = 6.0, rates: DemoRates | None = None,
                    chunk_size: int = DEFAULT_CHUNK) -> Iterator[tuple[pa.Table, pa.Table]]:
    """The same kind of book as `generate`, for any `n`, as chunks of at most `chunk_size` customers:
    memory stays bounded by one chunk. The first chunk is exactly `generate(universe, chunk, seed)`, so a
    book no larger than one chunk equals `generate`'s; chunk k draws from the seed sequence (seed, k)."""
    as_of = as_of or date.today()
    for k, lo in enumerate(range(0, n, chunk_size)):
        yield generate(universe, min(chunk_size, n - lo), seed=seed if k == 0 else (seed, k), as_of=as_of,
                       mean_holdings=mean_holdings, rates=rates, start=lo)


def _sibling_index(universe: Universe) -> np.ndarray:
    """For each fund, the position of another share class of the same fund (-1 if none)."""
    funds = universe.funds
    position = {code: i for i, code in enumerate(funds.index)}
    out = np.full(len(funds), -1, dtype=np.int64)
    siblings = funds.get("sibling_codes")
    if siblings is None:
        return out
    for i, text in enumerate(siblings.fillna("").astype("str").to_numpy()):
        for code in text.split():
            if code in position:
                out[i] = position[code]
                break
    return out

