"""The 陪伴 run as a partition job gives what one run over the whole book gives."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from advisor.demo_customers import generate
from advisor.lifecycle.demo import generate_lifecycle
from advisor.lifecycle.nightly import run_files
from advisor.nightly.book import BookWriter
from advisor.nightly.outputs import read_output
from advisor.nightly.runner import run_job

AS_OF = date(2026, 2, 13)
TABLES = {"ledger": "ledger", "goals": "goals", "sip_plans": "sip_plans", "sip_debits": "sip_debits",
          "alert_preferences": "alert_preferences"}


def test_partitioned_run_equals_one_run(demo_universe, tmp_path):
    customers, holdings = generate(demo_universe, 300, seed=8, as_of=AS_OF)
    extra = generate_lifecycle(demo_universe, customers, holdings, seed=8, as_of=AS_OF)
    with BookWriter(tmp_path / "book", 3) as writer:
        writer.write(customers, holdings)
        for name in TABLES:
            writer.write_table(name, pa.Table.from_pandas(extra[name], preserve_index=False))
    events = tmp_path / "events.parquet"
    extra["fund_events"].to_parquet(events)
    run = run_job("lifecycle", tmp_path / "book", tmp_path / "out", as_of=AS_OF, scheduler="none",
                  universe=demo_universe, options={"fund_events": str(events)})
    assert run.complete
    whole = run_files(demo_universe, customers, tmp_path / "whole", as_of=AS_OF, holdings=holdings,
                      ledger=extra["ledger"], goals=extra["goals"], plans=extra["sip_plans"],
                      debits=extra["sip_debits"], preferences=extra["alert_preferences"], fund_events=events)
    folder = tmp_path / "whole" / f"as_of={AS_OF}"
    keys = ["customer_id", "dedupe_key"]
    got = read_output(run.out, "alerts").to_pandas().sort_values(keys, ignore_index=True)
    expected = pd.read_parquet(folder / "alerts.parquet").sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(got[["customer_id", "kind", "dedupe_key", "text_zh", "text_en"]],
                                  expected[["customer_id", "kind", "dedupe_key", "text_zh", "text_en"]])
    returns = read_output(run.out, "returns").to_pandas().sort_values("customer_id", ignore_index=True)
    single = pd.read_parquet(folder / "returns.parquet").sort_values("customer_id", ignore_index=True)
    pd.testing.assert_series_equal(returns["market_value"], single["market_value"], check_exact=True)
    assert run.summary["alerts"] == whole["alerts"] and run.summary["customers"] == 300
