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
    import advisor.simulation.record as record

    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(record, "_DATA_DIRS", {})
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


def _fake_job(tmp_path, key: str, delay: float) -> list[str]:
    """A stand-in for the grid job (minutes of CPU): after `delay` seconds it saves two-year records under
    the key it was started with, as `record_job` does. Each start is logged in `starts.txt`."""
    import json
    import sys

    records = proposal_records(_payload(800))
    records["C3/medium"] = {**records["C3/medium"], "annual_return": 0.0377}
    payload = json.dumps({"meta": {}, "records": records})
    script = (
        "import json, os, sys, time, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'starts.txt')!r}).open('a').write('x')\n"
        "key = sys.argv[sys.argv.index('--key') + 1]\n"
        "from advisor.simulation.record import _lock_path, _path\n"
        "lock = _lock_path(key); lock.parent.mkdir(parents=True, exist_ok=True)\n"
        "lock.write_text(str(os.getpid()))\n"
        f"time.sleep({delay})\n"
        f"_path(key).with_suffix('.tmp').write_text({payload!r}, encoding='utf-8')\n"
        "_path(key).with_suffix('.tmp').replace(_path(key))\n"
        "lock.unlink()\n")
    return [sys.executable, "-c", script, "--key", key]


def test_a_missing_record_is_computed_in_the_background_and_shown_when_ready(demo_universe, tmp_path, monkeypatch):
    """A fresh install: the first proposal does not wait for the grid; it says the record is being computed,
    one job runs however many proposals ask, and once it saved the record every proposal shows it."""
    import advisor.simulation.record as record

    monkeypatch.setenv("ADVISOR_SIMULATED_RECORDS", "background")
    monkeypatch.setattr(record, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(record, "_job_command", lambda data_dir, key: _fake_job(tmp_path, key, 1.5))
    record.know_data_dir(demo_universe, None)
    clock = time.perf_counter()
    first = propose(demo_universe, "C3", 100_000, 2)
    assert time.perf_counter() - clock < 5.0  # the request does not wait for the simulation
    assert first.historical is None
    note = next(n for n in first.explanations if n.code.startswith("history"))
    assert note.code == "history_computing" and "正在计算" in note.zh and "being computed" in note.en
    propose(demo_universe, "C5", 50_000, 5)  # a second request while it runs starts nothing more
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / "simulation" / "records").glob("*.json")):
        time.sleep(0.2)
    assert (tmp_path / "starts.txt").read_text() == "x"
    shown = propose(demo_universe, "C3", 100_000, 2)
    assert shown.historical["annual_return"] == 0.0377 and shown.historical["kind"] == "simulated_walk_forward"
    assert any(n.code == "history" for n in shown.explanations)
    assert not record.records_pending(demo_universe, ProposalConfig().key())


def test_no_job_without_a_known_data_source_or_when_switched_off(demo_universe, tmp_path, monkeypatch):
    import advisor.simulation.record as record

    started = []
    monkeypatch.setattr(record.subprocess, "Popen", lambda *a, **k: started.append(a))
    monkeypatch.setenv("ADVISOR_SIMULATED_RECORDS", "background")
    bare = propose(demo_universe, "C3", 100_000, 2)  # nobody said where this universe came from
    assert started == [] and any(n.code == "history_unavailable" for n in bare.explanations)
    record.know_data_dir(demo_universe, None)
    monkeypatch.setenv("ADVISOR_SIMULATED_RECORDS", "off")
    record.forget_records()
    propose(demo_universe, "C3", 100_000, 2)
    assert started == []
    monkeypatch.setenv("ADVISOR_SIMULATED_RECORDS", "background")
    record.forget_records()
    propose(demo_universe, "C3", 100_000, 2)
    assert len(started) == 1 and "advisor.simulation.record_job" in started[0][0]
