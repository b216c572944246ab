"""Synthetic customers: deterministic, in the batch formats, with the domain brief's mix."""

from __future__ import annotations

from datetime import date

import numpy as np

from advisor import batch_io
from advisor.demo_customers import generate

AS_OF = date(2026, 3, 1)


def test_same_seed_same_data(demo_universe):
    a = generate(demo_universe, 500, seed=4, as_of=AS_OF)
    b = generate(demo_universe, 500, seed=4, as_of=AS_OF)
    c = generate(demo_universe, 500, seed=5, as_of=AS_OF)
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    assert not a[1].equals(c[1])


def test_generated_tables_validate_cleanly_with_the_brief_mix(demo_universe):
    customers, holdings = generate(demo_universe, 20_000, seed=1, as_of=AS_OF)
    clean_c, rejects_c = batch_io.read_customers(customers)
    clean_h, rejects_h = batch_io.read_holdings(holdings, universe=demo_universe, as_of=AS_OF)
    assert rejects_c.empty and rejects_h.empty
    lots = clean_h.groupby("customer_id").size()
    assert lots.min() >= 1 and lots.max() <= 15 and len(lots) == 20_000
    valued = batch_io.value_lots(demo_universe, clean_h, AS_OF)
    assets = clean_c.set_index("customer_id")["cash"] + valued.groupby("customer_id")["value"].sum()
    ordinary = (assets < 50_000).mean()
    private = (assets > 6_000_000).mean()
    assert 0.45 < ordinary < 0.65 and 0.001 < private < 0.02
    levels = clean_c["risk_level"].value_counts(normalize=True)
    assert 0.25 < levels[3] < 0.40 and levels[5] < 0.12
    expired = (clean_c["assessment_expires_on"] < np.datetime64(AS_OF)).mean()
    assert 0.06 < expired < 0.2
    level_of = clean_c.set_index("customer_id")["risk_level"]
    allowed = np.where(clean_c.set_index("customer_id")["lowest_category"], 1, level_of)
    fund_level = demo_universe.funds["risk_level"].to_numpy()[valued["fund_idx"]]
    above = fund_level > allowed[level_of.index.get_indexer(valued["customer_id"])]
    share_above = valued.loc[above, "customer_id"].nunique() / 20_000
    assert 0.04 < share_above < 0.15
    assert (valued["holding_days"] < 7).any()
    assert holdings["shares"].null_count > 0 and holdings["amount"].null_count > 0
