"""The nightly run over a book: two days in a row push nothing twice, keep the caps, report bad rows."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.lifecycle.alerts.policy import DEFAULT_CAPS

DAY1, DAY2 = date(2026, 2, 12), date(2026, 2, 13)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nightly")
    result = CliRunner().invoke(app, ["plan", "demo-data", "--out", str(folder), "--n", "600", "--seed", "4",
                                      "--as-of", str(DAY1)])
    assert result.exit_code == 0, result.output
    ledger = pd.read_parquet(folder / "ledger.parquet")
    bad = ledger.iloc[:2].assign(customer_id=["nobody", ledger["customer_id"].iloc[0]],
                                 code=[ledger["code"].iloc[0], "999999"])
    pd.concat([ledger, bad], ignore_index=True).to_parquet(folder / "ledger.parquet")
    return folder


def run(folder, day):
    args = ["plan", "alerts", "--outbox", str(folder / "outbox"), "--as-of", str(day), "--json"]
    for option, name in (("--customers", "customers"), ("--holdings", "holdings"), ("--ledger", "ledger"),
                         ("--goals", "goals"), ("--plans", "sip_plans"), ("--debits", "sip_debits"),
                         ("--preferences", "alert_preferences"), ("--fund-events", "fund_events")):
        args += [option, str(folder / f"{name}.parquet")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_two_nights_in_a_row(book):
    first, second = run(book, DAY1), run(book, DAY2)
    assert first["customers"] == 600 and first["alerts"] > 0
    outbox = book / "outbox"
    day1 = pd.read_parquet(outbox / f"as_of={DAY1}" / "alerts.parquet")
    day2 = pd.read_parquet(outbox / f"as_of={DAY2}" / "alerts.parquet")
    both = pd.concat([day1, day2], ignore_index=True)
    assert not both.duplicated(["customer_id", "dedupe_key"]).any()  # nothing pushed twice
    assert both.groupby(["customer_id", "as_of"]).size().max() <= 2  # the daily cap, each day
    weekly = next(c for c in DEFAULT_CAPS if c.kind is None and c.window_days == 7)
    assert both.groupby("customer_id").size().max() <= weekly.max_count
    swings = both[both["kind"] == "nav_swing"].groupby(["customer_id", "as_of"]).size()
    assert swings.empty or swings.max() <= 1
    # the second night's candidates already pushed the first night are marked duplicate
    candidates = pd.read_parquet(outbox / f"as_of={DAY2}" / "candidates.parquet")
    seen = set(zip(day1["customer_id"], day1["dedupe_key"], strict=True))
    again = candidates[[(c, k) in seen for c, k in zip(candidates["customer_id"], candidates["dedupe_key"],
                                                       strict=True)]]
    assert (again["status"] == "duplicate").all()
    assert second["candidates_by_status"].get("duplicate", 0) == len(again)


def test_rerunning_a_night_replaces_it(book):
    run(book, DAY1)
    again = run(book, DAY1)
    day1 = pd.read_parquet(book / "outbox" / f"as_of={DAY1}" / "alerts.parquet")
    assert len(day1) == again["alerts"]


def test_bad_rows_are_reported_and_the_rest_goes_on(book):
    summary = run(book, DAY1)
    rejects = pd.read_parquet(book / "outbox" / f"as_of={DAY1}" / "rejects.parquet")
    assert summary["rejected_by_table"].get("ledger", 0) >= 2
    assert {"code", "customer_id"} <= set(rejects["field"])
    returns = pd.read_parquet(book / "outbox" / f"as_of={DAY1}" / "returns.parquet")
    assert len(returns) == 600 and returns["market_value"].gt(0).mean() > 0.9
    goals = pd.read_parquet(book / "outbox" / f"as_of={DAY1}" / "goals.parquet")
    assert goals["probability"].between(0, 1).all()


def test_chunks_in_worker_processes_write_the_same_outbox_as_one_chunk(book, tmp_path):
    """Chunking and forked workers change speed only: every output table is identical to a one-chunk run."""
    base = ["--as-of", str(DAY1), "--json"]
    for option, name in (("--customers", "customers"), ("--holdings", "holdings"), ("--ledger", "ledger"),
                         ("--goals", "goals"), ("--plans", "sip_plans"), ("--debits", "sip_debits"),
                         ("--preferences", "alert_preferences"), ("--fund-events", "fund_events")):
        base += [option, str(book / f"{name}.parquet")]
    for label, extra in (("one", ["--chunk-size", "100000", "--workers", "1"]),
                         ("forked", ["--chunk-size", "150", "--workers", "2"])):
        result = CliRunner().invoke(app, ["plan", "alerts", "--outbox", str(tmp_path / label), *base, *extra])
        assert result.exit_code == 0, result.output
    for name in ("alerts", "rm_tasks", "candidates", "returns", "goals"):
        one = tmp_path / "one" / f"as_of={DAY1}" / f"{name}.parquet"
        forked = tmp_path / "forked" / f"as_of={DAY1}" / f"{name}.parquet"
        assert one.exists() == forked.exists(), name
        if one.exists():
            pd.testing.assert_frame_equal(pd.read_parquet(one), pd.read_parquet(forked), check_dtype=False)


def test_each_plan_is_valued_from_its_own_ledger_rows_only():
    """A plan's return reads the rows that carry its id, for its own customer, from its cycle start; the same
    plan id at another customer, and plans no row carries, do not mix in (and several of those are fine)."""
    from advisor.lifecycle.book import load_book
    from advisor.lifecycle.nightly import plan_returns
    from tests.advisor.lifecycle.lifecycle_helpers import customers, ledger, tiny_universe

    universe = tiny_universe({"100001": {"2025-01-02": 1.0, "2025-06-02": 1.1, "2026-02-13": 1.2}})
    rows = ledger(("A", "2025-01-02", "100001", "subscription", 1000.0, None, 0.0),
                  ("A", "2025-06-02", "100001", "subscription", 1100.0, None, 0.0),
                  ("B", "2025-01-02", "100001", "subscription", 5000.0, None, 0.0))
    rows["plan_id"] = ["P1", "P1", "P1"]
    book = load_book(universe, customers("A", "B", "C"), ledger=rows, as_of=date(2026, 2, 13))
    plans = pd.DataFrame({"customer_id": ["A", "A", "A", "B", "C"], "plan_id": ["P1", "P2", "P3", "P1", "P1"],
                          "cycle_start": pd.to_datetime(["2025-06-01", None, None, None, None]),
                          "cust": [0, 0, 0, 1, 2]})
    out = plan_returns(book, plans)
    # A's P1 from its cycle start: 1,000 shares bought at 1.1 → 1,200 at 1.2
    assert out["plan_value"].iloc[0] == pytest.approx(1200.0)
    assert out["plan_return"].iloc[0] == pytest.approx(1200.0 / 1100.0 - 1.0)
    assert out["plan_value"].iloc[3] == pytest.approx(6000.0)  # B's P1: its own 5,000 at 1.0
    assert out["plan_return"].iloc[[1, 2, 4]].isna().all() and list(out["funds"].iloc[1]) == []
