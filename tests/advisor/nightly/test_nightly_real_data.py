"""On the real universe (all 512 funds): rebalancing by partition equals one run over the whole book."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from advisor.demo_customers import generate_chunks
from advisor.nightly.book import write_book
from advisor.nightly.outputs import read_output
from advisor.nightly.runner import run_job
from advisor.rebalancing import rebalance_book
from tests.advisor.nightly.conftest import plain

pytestmark = pytest.mark.realdata


def test_real_universe_rebalance_by_partition_equals_the_whole_book(real_universe, tmp_path):
    day = real_universe.as_of
    chunks = list(generate_chunks(real_universe, 1_500, seed=21, as_of=day, chunk_size=600))
    write_book(chunks, tmp_path / "book", 3)
    outcome = run_job("rebalance", tmp_path / "book", tmp_path / "out", as_of=day, scheduler="none",
                      universe=real_universe)
    assert outcome.complete
    customers = pa.concat_tables([c for c, _ in chunks])
    holdings = pa.concat_tables([h for _, h in chunks])
    whole = rebalance_book(real_universe, customers, holdings, as_of=day)
    keys = ["customer_id", "code", "action"]
    trades = plain(read_output(outcome.out, "trades").to_pandas(), keys)
    assert len(trades) > 1_000 and trades["code"].nunique() > 50  # real funds across the shelf
    pd.testing.assert_frame_equal(trades, plain(whole.trades, keys)[trades.columns], check_exact=True,
                                  check_dtype=False)
    summary = plain(read_output(outcome.out, "trades_summary").to_pandas(), ["customer_id"])
    pd.testing.assert_frame_equal(summary, plain(whole.summary, ["customer_id"])[summary.columns], check_exact=True,
                                  check_dtype=False)
    assert outcome.summary["by_reason"] == whole.summary["reason"].astype("str").value_counts().to_dict()
