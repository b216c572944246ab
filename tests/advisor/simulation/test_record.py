"""A proposal shows the policy's simulated record (labelled, > 1 year, volatility and drawdown), never runs it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from advisor.proposal import ProposalConfig, propose
from advisor.simulation.backtest import proposal_records
from advisor.simulation.record import forget_records, policy_record, register_records, walk_forward_record


@pytest.fixture(autouse=True)
def _isolated_records(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    forget_records()
    yield
    forget_records()


def _payload(span_days: int) -> dict:
    start, end = np.datetime64("2021-01-04"), np.datetime64("2021-01-04") + span_days
    return {"universe_version": "v", "results": [
        {"level": lv, "horizon": h, "start": str(start), "end": str(end), "annual_return": 0.05,
         "annual_volatility": 0.08, "max_drawdown": -0.12, "n_days": 500, "customers": 40,
         "fees_pct_per_year": 0.002, "turnover_per_year": 0.4}
        for lv in ("C1", "C2", "C3", "C4", "C5") for h in ("short", "medium", "long")]}


def test_records_need_more_than_a_year():
    assert proposal_records(_payload(300)) == {}
    records = proposal_records(_payload(800))
    assert len(records) == 15
    record = records["C3/medium"]
    assert record["kind"] == "simulated_walk_forward" and "模拟" in record["label_zh"]
    assert "not the results of real accounts" in record["label_en"]


def test_proposal_shows_the_registered_record_for_its_level_and_horizon(demo_universe):
    bare = propose(demo_universe, "C3", 100_000, 2)
    assert bare.historical is None  # nothing computed yet: nothing shown, and the customer is told why
    assert any(n.code == "history_unavailable" for n in bare.explanations)
    records = proposal_records(_payload(800))
    records["C3/medium"] = {**records["C3/medium"], "annual_return": 0.0423}
    path = register_records(demo_universe, ProposalConfig().key(), records)
    assert path is not None and path.exists()  # kept on disk for the next process
    shown = propose(demo_universe, "C3", 100_000, 2)
    assert shown.historical["annual_return"] == 0.0423 and shown.historical["kind"] == "simulated_walk_forward"
    note = next(n for n in shown.explanations if n.code == "history")
    assert "模拟业绩" in note.zh and "4.2%" in note.zh and "2021-01-04" in note.zh and "Simulated" in note.en
    lowest = propose(demo_universe, "C4", 50_000, 2, lowest_category=True)  # treated as C1: the C1 record
    assert lowest.historical["start"] == records["C1/medium"]["start"]
    forget_records()  # a new process: read back from the cache directory
    assert walk_forward_record(demo_universe, 3, "medium", ProposalConfig().key())["annual_return"] == 0.0423
    other = ProposalConfig(small_amount=2_000.0)  # another policy never borrows this record
    assert walk_forward_record(demo_universe, 3, "medium", other.key()) is None


def test_pages_look_the_record_up_by_level_and_horizon_in_years(demo_universe):
    """`policy_record` is what RM pages call: the record a proposal of that level and horizon shows."""
    records = proposal_records(_payload(800))
    records["C5/long"] = {**records["C5/long"], "annual_return": 0.071}
    register_records(demo_universe, ProposalConfig().key(), records, persist=False)
    assert policy_record(demo_universe, "C5", 8)["annual_return"] == 0.071
    assert policy_record(demo_universe, 5, 8) == propose(demo_universe, "C5", 100_000, 8).historical
    assert policy_record(demo_universe, "c2", 0.5)["start"] == records["C2/short"]["start"]
    assert policy_record(demo_universe, "C3", 2, config=ProposalConfig(small_amount=2_000.0)) is None
    from products.errors import BadInputError

    with pytest.raises(BadInputError):
        policy_record(demo_universe, "C9", 2)


def test_lookup_adds_no_latency(demo_universe):
    register_records(demo_universe, ProposalConfig().key(), proposal_records(_payload(800)), persist=False)
    propose(demo_universe, "C4", 100_000, 5)
    clock = time.perf_counter()
    for _ in range(200):
        walk_forward_record(demo_universe, 4, "long", ProposalConfig().key())
    assert (time.perf_counter() - clock) / 200 < 1e-3  # a dictionary lookup, far under the 2 ms budget
