"""Each alert trigger fires when it should, stays quiet when it should not, and says it plainly."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from advisor.batch_io import read_customers
from advisor.lifecycle.alerts import AlertBook, default_rules, lifecycle_context, run_alerts
from advisor.lifecycle.alerts.events import AssessmentExpiring, FundEvent
from advisor.lifecycle.alerts.plans import GoalOffTrack, ProfitTarget, SipDebitFailed
from advisor.lifecycle.alerts.portfolio import Drawdown, Drift, NavSwing
from advisor.lifecycle.goals import goal_simulator, project_many
from risk.levels import DRAWDOWN_TOLERANCE

AS_OF = date(2026, 2, 13)
SNAKE = re.compile(r"[a-z]+_[a-z]+")


def book_of(universe, positions, *, level="C3", expires=None, horizon=5.0, cash=0.0, n=1, **tables) -> AlertBook:
    customers, _ = read_customers(pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)], "risk_level": level, "horizon_years": horizon,
        "monthly_expenses": 0.0, "cash": cash, "rm_id": "rm-1",
        "assessment_expires_on": pd.Timestamp(expires or AS_OF + timedelta(days=200))}))
    codes = [p[1] for p in positions]
    return AlertBook(ctx=lifecycle_context(universe), as_of=AS_OF, customers=customers,
                     pos_cust=np.array([p[0] for p in positions], dtype=np.int64),
                     pos_fund=universe.index_of(codes).astype(np.int64),
                     pos_value=np.array([p[2] for p in positions], dtype=float), **tables)


def messages(rule, book):
    found = rule.evaluate(book)
    ready = rule.prepare(book, found, np.arange(len(found)))
    return found, rule.render(book, ready).messages()


def test_drawdown_matches_the_fund_and_uses_the_level_tolerance(demo_universe):
    index = demo_universe.total_return_index().iloc[-252:].ffill()
    drawdown = (index.iloc[-1] / index.max() - 1.0)
    code = drawdown.idxmin()  # the fund furthest below its one-year high, by rule
    level = next(k for k, tol in enumerate(DRAWDOWN_TOLERANCE, 1) if -drawdown[code] > tol)
    book = book_of(demo_universe, [(0, code, 10_000.0)], level=f"C{level}")
    found, texts = messages(Drawdown(), book)
    assert len(found) == 1
    assert found.value[0] == pytest.approx(drawdown[code], abs=1e-5)
    assert texts[0].details["tolerance"] == DRAWDOWN_TOLERANCE[level - 1]
    assert f"C{level}" in texts[0].text_zh and "回撤" in texts[0].text_zh
    calm = book_of(demo_universe, [(0, code, 10_000.0)], level="C5")
    assert len(Drawdown(tolerance=(0.99,) * 5).evaluate(calm)) == 0


def test_nav_swing_names_the_fund_that_moved_most_for_this_customer(demo_universe):
    moves = demo_universe.returns.iloc[-1]
    classes = demo_universe.funds["asset_class"]
    equity = moves[(classes == "cn_equity").to_numpy()].abs().sort_values(ascending=False)
    big, other = equity.index[0], equity.index[-1]  # the equity funds that moved most and least that day
    threshold = (equity.iloc[0] + equity.iloc[-1]) / 2
    book = book_of(demo_universe, [(0, big, 5_000.0), (0, other, 5_000.0), (1, big, 100.0), (1, other, 9_900.0)], n=2)
    found, texts = messages(NavSwing(thresholds=(np.inf, 1.0, threshold, 1.0, 1.0)), book)
    assert found.cust.tolist() == [0]  # customer 1 holds only 1% in the fund that moved
    assert demo_universe.funds.loc[big, "name"] in texts[0].text_zh
    assert texts[0].details["impact"] == pytest.approx(5_000 * moves[big] / (1 + moves[big]), abs=0.01)


def test_drift_fires_beyond_the_band_once_a_quarter(demo_universe):
    ctx = lifecycle_context(demo_universe)
    target = ctx.model_targets[2, 2]  # C3, long horizon
    funds = demo_universe.funds
    by_class = {c: funds.index[(funds["asset_class"] == c).to_numpy()][0]
                for c in ("cash", "bond", "cn_equity", "global_equity", "gold")}
    on_model = [(0, by_class[c], 100_000 * w) for c, w in zip(by_class, target, strict=True) if w > 0]
    all_bonds = [(1, by_class["bond"], 100_000.0)]
    book = book_of(demo_universe, on_model + all_bonds, n=2)
    found, texts = messages(Drift(), book)
    assert found.cust.tolist() == [1]
    assert found.key[0] == "2026Q1"
    assert found.value[0] == pytest.approx(1.0 - target[1], abs=1e-6)
    assert "债券类超配" in texts[0].text_zh


def test_fund_events_reach_holders_and_buyers_only_where_it_matters(demo_universe):
    codes = demo_universe.funds.index[(demo_universe.funds["status"] == "open").to_numpy()][:2]
    events = pd.DataFrame({"code": [codes[0], codes[1]], "event": ["manager_change", "limited"],
                           "date": ["2026-02-12", "2026-02-12"]})
    plans = pd.DataFrame({"cust": [1], "status": ["active"], "funds": [[int(demo_universe.code_index[codes[1]])]]})
    book = book_of(demo_universe, [(0, codes[0], 1_000.0), (0, codes[1], 1_000.0), (1, codes[1], 1_000.0)], n=2,
                   fund_events=events, plans=plans)
    found, texts = messages(FundEvent(), book)
    pairs = sorted(zip(found.cust.tolist(), found.extra["event"].tolist(), strict=True))
    assert pairs == [(0, "manager_change"), (1, "limited")]  # customer 0 does not buy codes[1] any more
    assert all(not SNAKE.search(t.text_zh) for t in texts)


@pytest.mark.parametrize(("days", "fires"), [(10, "soon"), (30, "soon"), (40, None), (-5, "expired"), (-60, None)])
def test_assessment_expiring(demo_universe, days, fires):
    book = book_of(demo_universe, [], expires=AS_OF + timedelta(days=days))
    found, texts = messages(AssessmentExpiring(), book)
    if fires is None:
        assert len(found) == 0
    else:
        assert found.key[0].endswith(fires)
        assert str(AS_OF + timedelta(days=days)) in texts[0].text_zh


def test_goal_slipping_off_track_comes_with_advice_that_reaches_the_bar(demo_universe):
    goals = pd.DataFrame({"cust": [0, 0, 0, 0], "goal_id": ["g1", "g2", "g3", "g4"],
                          "name": ["养老", "买房", "旅行", "活钱"],
                          "target_amount": [500_000.0, 900_000.0, 10_000.0, 30_000.0],
                          "target_date": ["2036-02-13"] * 3 + ["2026-01-15"], "level_used": [3, 3, 3, 0],
                          "months": [120, 120, 120, 0], "current_amount": [50_000.0, 50_000.0, 20_000.0, 1_000.0],
                          "monthly_contribution": [2_000.0] * 4, "probability": [0.30, 0.30, 0.99, 0.0],
                          "previous_probability": [0.80, 0.50, 0.99, np.nan]})
    book = book_of(demo_universe, [], goals=goals)
    found, texts = messages(GoalOffTrack(), book)
    # g2 was already off track, g3 is fine, g4's date has passed (due: nothing left to advise)
    assert found.extra["goal_id"].tolist() == ["g1"]
    assert "从80%降至30%" in texts[0].text_zh
    extra, months = texts[0].details["extra_monthly"], texts[0].details["extra_months"]
    assert extra > 0 and f"{extra:,.2f}" in texts[0].text_zh
    # the advice reaches the bar: re-simulated with the advised contribution, or the advised extra months
    sim = goal_simulator(demo_universe)
    one = lambda m, monthly: project_many(sim, np.array([3]), np.array([m]), np.array([50_000.0]),  # noqa: E731
                                          np.array([monthly]), np.array([500_000.0]))["probability"][0]
    assert months is not None and months <= 120  # a reasonable wait (goals.delay_worth_offering)
    assert one(120, 2_000.0 + extra + 0.01) >= GoalOffTrack().on_track
    assert one(120 + months, 2_000.0) >= GoalOffTrack().on_track > one(120 + months - 1, 2_000.0)


def test_profit_target_and_failed_debits(demo_universe):
    plans = pd.DataFrame({"cust": [0, 0], "plan_id": ["p1", "p2"], "name": ["养老定投", ""],
                          "target_return": [0.15, 0.15], "plan_return": [0.16, 0.10], "plan_value": [11_600.0, 1.0],
                          "on_target": ["take_profit", "stop"], "status": ["active", "active"]})
    debits = pd.DataFrame({"cust": [0, 0, 0], "plan_id": ["p1", "p2", "p2"],
                           "date": pd.to_datetime(["2026-02-12", "2026-01-02", "2026-02-02"]),
                           "amount": [500.0, 300.0, 300.0], "status": ["failed", "failed", "ok"],
                           "reason": ["insufficient_balance", "insufficient_balance", None],
                           "plan_name": ["养老定投", "", ""]})
    book = book_of(demo_universe, [], plans=plans, debits=debits)
    found, texts = messages(ProfitTarget(), book)
    assert found.extra["plan_id"].tolist() == ["p1"]
    assert "止盈" in texts[0].text_zh and "16.0%" in texts[0].text_zh
    found, texts = messages(SipDebitFailed(), book)
    assert found.extra["plan_id"].tolist() == ["p1"]  # the January failure is old news
    assert "账户余额不足" in texts[0].text_zh and "insufficient balance" in texts[0].text_en


def test_a_day_of_alerts_reads_plainly(demo_universe):
    """Every message of a demo book's day: zh and en, numbers and fund names, no code words in Chinese."""
    from advisor.demo_customers import generate
    from advisor.lifecycle.demo import generate_lifecycle
    from advisor.lifecycle.nightly import prepare_tables, run_chunk

    customers, holdings = generate(demo_universe, 400, seed=5, as_of=AS_OF)
    extra = generate_lifecycle(demo_universe, customers, holdings, seed=5, as_of=AS_OF)
    tables = prepare_tables(demo_universe, customers, as_of=AS_OF, holdings=holdings, ledger=extra["ledger"],
                            goals=extra["goals"], plans=extra["sip_plans"], debits=extra["sip_debits"],
                            preferences=extra["alert_preferences"], fund_events=extra["fund_events"])
    assert tables.rejects.empty
    run = run_chunk(tables, 0, 400).alerts
    outbox = run.outbox
    assert len(outbox) and outbox.groupby("customer_id").size().max() <= 2
    for row in outbox.itertuples():
        assert row.text_zh and row.text_en and row.title_zh and row.title_en
        assert not SNAKE.search(row.text_zh), row.text_zh
        assert re.search(r"\d", row.text_zh)
    assert set(outbox["kind"]) <= {r.kind for r in default_rules()}


def test_run_alerts_with_no_candidates_returns_empty_frames(demo_universe):
    run = run_alerts(book_of(demo_universe, []))
    assert run.outbox.empty and run.rm_tasks.empty
