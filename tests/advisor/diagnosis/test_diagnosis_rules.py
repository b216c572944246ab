"""Rule mechanics: the sparse aggregates agree with straightforward computations; thresholds are configurable."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from advisor.demo_customers import generate
from advisor.diagnosis import default_rules, diagnose_customer, prepare, run_rules
from advisor.diagnosis.context import path_metrics
from advisor.diagnosis.engine import book_of
from advisor.diagnosis.rules.concentration import TopFund
from advisor.diagnosis.rules.cost import CClassHeldLong
from advisor.diagnosis.rules.risk import PortfolioRiskAboveLevel
from advisor.diagnosis.score import FAMILY_WEIGHTS, RISK_CRITICAL_CAP
from risk.suitability import portfolio_risk_levels
from tests.advisor.diagnosis.diagnosis_helpers import AS_OF, model_holdings, profile


@pytest.fixture(scope="module")
def book(ctx):
    customers, holdings = generate(ctx.universe, 400, seed=21, as_of=AS_OF, mean_holdings=8)
    inputs = prepare(ctx, customers, holdings, AS_OF)
    return book_of(ctx, inputs, 0, len(inputs.customers), slice(0, len(inputs.lot_customer)))


def test_sparse_portfolio_risk_level_matches_the_risk_module(book):
    dense = book.positions.toarray()
    expected = portfolio_risk_levels(dense, book.ctx.risk_level.astype(int))
    held = dense.sum(axis=1) > 0
    assert np.array_equal(PortfolioRiskAboveLevel().portfolio_levels(book)[held], expected[held])


def test_pairs_are_every_pair_of_funds_held_together(book):
    first, second = book.pairs
    got = sorted(zip(book.pair_customer.tolist(), book.entry_fund[first].tolist(), book.entry_fund[second].tolist(),
                     strict=True))
    expected = []
    for i in range(book.n):
        funds = book.entry_fund[book.entries_of(i)].tolist()
        expected += [(i, a, b) for a, b in combinations(funds, 2)]
    assert got == sorted(expected)


def test_lots_of_one_fund_are_summed_into_one_position(book):
    frame = pd.DataFrame({"c": book.lot_customer, "f": book.lot_fund, "v": book.lot_value})
    summed = frame.groupby(["c", "f"])["v"].sum()
    coo = book.positions.tocoo()
    got = pd.Series(coo.data, index=pd.MultiIndex.from_arrays([coo.row, coo.col])).sort_index()
    np.testing.assert_allclose(got.to_numpy(), summed.sort_index().to_numpy())


def test_path_metrics_match_a_pandas_calculation():
    rng = np.random.default_rng(3)
    monthly = rng.normal(0.005, 0.04, size=(3, 36)).astype(np.float32)
    got = path_metrics(monthly)
    for i in range(3):
        series = pd.Series(monthly[i].astype(float))
        growth = (1 + series).cumprod()
        assert got["return_3y"][i] == pytest.approx(growth.iloc[-1] ** (1 / 3) - 1, rel=1e-4)
        assert got["return_1y"][i] == pytest.approx(growth.iloc[-1] / growth.iloc[-13] - 1, rel=1e-4)
        assert got["volatility_3y"][i] == pytest.approx(series.std() * np.sqrt(12), rel=1e-4)
        drawdown = (growth / growth.cummax().clip(lower=1.0) - 1).min()
        assert got["max_drawdown_3y"][i] == pytest.approx(drawdown, rel=1e-4)


def test_thresholds_are_configurable(ctx):
    lots = model_holdings(ctx, 3, 200_000)
    payload = {**profile("C3"), "holdings": lots}
    strict = default_rules({"top_fund": TopFund(warning=0.10, critical=0.95)})
    report = diagnose_customer(ctx, payload, as_of=AS_OF, rules=strict)
    assert report["checks"]["top_fund"]["severity"] == "warning"
    assert diagnose_customer(ctx, payload, as_of=AS_OF)["checks"]["top_fund"]["severity"] == "ok"
    with pytest.raises(KeyError):
        default_rules({"no_such_rule": TopFund()})


def test_every_rule_has_a_known_family_and_bilingual_title():
    ids = [rule.id for rule in default_rules()]
    assert len(ids) == len(set(ids))
    for rule in default_rules():
        assert rule.family in FAMILY_WEIGHTS
        assert rule.title_zh and rule.title_en
        assert rule.describe()["id"] == rule.id


def test_c_class_held_long_where_a_is_cheaper(ctx):
    c = int(np.flatnonzero(ctx.is_c_class & (ctx.a_sibling >= 0) & (ctx.asset_class == 2))[0])
    lots = [*model_holdings(ctx, 4, 150_000),
            {"code": str(ctx.codes[c]), "amount": 50_000, "purchase_date": "2023-01-01"}]
    report = diagnose_customer(ctx, {**profile("C4", horizon_years=5), "holdings": lots}, as_of=AS_OF)
    finding = next(f for f in report["findings"] if f["rule"] == "c_class_long")
    assert finding["funds"][0]["code"] == str(ctx.codes[c])
    assert finding["funds"][0]["a_class"] == str(ctx.codes[ctx.a_sibling[c]])
    assert finding["details"]["yearly_saving_yuan"] > 0
    # bought a month ago: not "held long"
    lots[-1]["purchase_date"] = "2026-02-01"
    report = diagnose_customer(ctx, {**profile("C4", horizon_years=5), "holdings": lots}, as_of=AS_OF)
    assert report["checks"]["c_class_long"]["severity"] == "ok"
    assert CClassHeldLong().min_days == 365


def test_lots_bought_under_7_days_ago_are_flagged(ctx):
    lots = [*model_holdings(ctx, 3, 200_000),
            {"code": model_holdings(ctx, 3, 1)[1]["code"], "amount": 5_000, "purchase_date": "2026-02-27"}]
    report = diagnose_customer(ctx, {**profile("C3"), "holdings": lots}, as_of=AS_OF)
    finding = next(f for f in report["findings"] if f["rule"] == "short_hold")
    assert "1.5%" in finding["explanation_zh"]


def test_score_formula(book):
    result = run_rules(book)
    total = sum(FAMILY_WEIGHTS[f] * result.subscores[f] for f in FAMILY_WEIGHTS)
    capped = np.zeros(book.n, dtype=bool)
    for rule in result.rules:
        if rule.family == "risk":
            capped |= result.severities[rule.id] == 3
    expected = np.round(np.where(capped, np.minimum(total, RISK_CRITICAL_CAP), total), 1)
    np.testing.assert_allclose(result.health, expected)
    assert (result.health >= 0).all() and (result.health <= 100).all()
    assert capped.any() and (result.health[capped] <= RISK_CRITICAL_CAP).all()


def test_generated_book_has_realistic_problem_rates(book):
    result = run_rules(book)
    share = {rule: float((sev >= 2).mean()) for rule, sev in result.severities.items()}
    assert 0.03 < share["above_level"] < 0.25
    assert 0.05 < share["assessment_expired"] < 0.25
    assert share["duplicates"] > 0.01
    assert share["short_hold"] == 0  # info only
    assert (result.severities["short_hold"] > 0).mean() > 0.002


def test_weak_fund_swap_points_to_its_peer_group_ranking(ctx):
    weak = int(np.flatnonzero((ctx.stars <= 2) & ~ctx.money_market & (ctx.risk_level <= 3))[0])
    lots = [*model_holdings(ctx, 3, 150_000),
            {"code": str(ctx.codes[weak]), "amount": 60_000, "purchase_date": "2024-01-01"}]
    report = diagnose_customer(ctx, {**profile("C3"), "holdings": lots}, as_of=AS_OF)
    finding = next(f for f in report["findings"] if f["rule"] == "weak_funds")
    assert finding["funds"][0]["code"] == str(ctx.codes[weak]) and finding["funds"][0]["stars"] <= 2
    action = next(a for a in report["actions"] if a["id"] == "replace_weak_funds")
    assert action["kind"] == "fund_swap"
    assert f"--category {ctx.category[weak]}" in action["command"]
    assert action["candidates"], "a swap names suitable replacements"
    held = {lot["code"] for lot in lots}
    for candidate in action["candidates"]:
        c = ctx.codes.tolist().index(candidate["code"])
        assert ctx.risk_level[c] <= 3 and ctx.stars[c] >= 3 and candidate["code"] not in held
        assert ctx.category[c] == ctx.category[weak]


def test_no_action_ever_suggests_a_fund_above_the_customer_level(book):
    result = run_rules(book)
    suggested = 0
    for i in range(book.n):
        allowed = int(book.allowed_level[i])
        for action in result.customer_report(i)["actions"]:
            for candidate in action.get("candidates", []):
                suggested += 1
                assert int(candidate["risk_level"][1]) <= allowed, (book.customer_id[i], candidate)
            if action["command"] and "--level" in action["command"]:
                assert f"--level C{allowed}" in action["command"]
    assert suggested > 0


def test_lowest_category_actions_link_to_c1_with_the_lowest_category_flag(ctx):
    """A 'C3 + lowest category' customer is C1: proposal links carry --level C1 --lowest-category, and the
    report says C1."""
    lots = model_holdings(ctx, 1, 100_000)
    customer = {**profile("C3", lowest_category=True, cash=400_000), "holdings": lots}
    report = diagnose_customer(ctx, customer, as_of=AS_OF)
    assert report["risk_level"] == "C1"
    commands = [a["command"] for a in report["actions"] if a["command"] and "advisor propose" in a["command"]]
    assert commands, [a["id"] for a in report["actions"]]
    assert all("--level C1 --lowest-category" in c for c in commands)
    plain = diagnose_customer(ctx, {**profile("C1", cash=400_000), "holdings": lots}, as_of=AS_OF)
    assert all("--lowest-category" not in (a["command"] or "") for a in plain["actions"])


def test_swap_candidates_filter_by_level_before_taking_the_best(ctx):
    """In a peer group whose best funds are above the customer's level, the swap still names `per_fund`
    suitable replacements (the level filter runs before the cut) and the ranking link asks for
    --max-risk at the customer's level."""
    weak = ctx.weak
    chosen = None
    for f in np.flatnonzero(weak & (ctx.risk_level <= 3) & ~ctx.money_market):
        peers = np.flatnonzero((ctx.category == ctx.category[f]) & (ctx.asset_class == ctx.asset_class[f])
                               & ~weak & np.isfinite(ctx.stars))
        ranked = peers[np.lexsort((ctx.running_cost[peers], -ctx.stars[peers]))]
        suitable = ranked[ctx.risk_level[ranked] <= 3]
        if (ctx.risk_level[ranked[:2]] > 3).any() and len(suitable) >= 2:
            chosen = (int(f), suitable)
            break
    assert chosen is not None, "the demo universe has a peer group led by funds above R3"
    f, suitable = chosen
    lots = [*model_holdings(ctx, 3, 150_000),
            {"code": str(ctx.codes[f]), "amount": 60_000, "purchase_date": "2024-01-01"}]
    report = diagnose_customer(ctx, {**profile("C3"), "holdings": lots}, as_of=AS_OF)
    action = next(a for a in report["actions"] if a["id"] == "replace_weak_funds")
    assert f"--category {ctx.category[f]} --max-risk R3 " in action["command"]
    held = {lot["code"] for lot in lots}
    expected = [str(ctx.codes[c]) for c in suitable if str(ctx.codes[c]) not in held][:2]
    mine = [c["code"] for c in action["candidates"] if c["replace"] == str(ctx.codes[f])]
    assert mine == expected and all(c["risk_level"] <= "R3" for c in action["candidates"])


def test_a_value_on_a_threshold_grades_the_same_after_float_rounding():
    """0.35 of a portfolio is on the critical threshold whether computed as 0.35 or 0.3499999999999999."""
    from advisor.diagnosis.rules.base import grade

    values = np.array([0.35, 0.3499999999999999, 0.35000000000000003, 0.349, np.nan])
    assert grade(values, warning=0.2, critical=0.35).tolist() == [3, 3, 3, 2, 0]


def test_every_fund_named_for_a_swap_gets_a_replacement_or_a_reason(book):
    """Over a whole book: each fund a swap action names has at least one candidate (suitable, not weak,
    not held) or a bilingual reason why there is none."""
    result = run_rules(book)
    ctx = book.ctx
    position = ctx.universe.code_index
    named = 0
    for i in range(book.n):
        held = {str(ctx.codes[f]) for f in book.entry_fund[book.entries_of(i)]}
        for action in result.customer_report(i)["actions"]:
            if action["id"] not in ("replace_weak_funds", "switch_share_class"):
                continue
            covered = {c["replace"] for c in action["candidates"]} | {
                r["replace"] for r in action.get("no_replacement", [])}
            for fund in action["funds"]:
                named += 1
                assert fund["code"] in covered, (book.customer_id[i], fund["code"])
            for c in action["candidates"]:
                k = position[c["code"]]
                assert ctx.risk_level[k] <= book.allowed_level[i]
                if action["id"] == "replace_weak_funds":  # a share-class switch may go to an A class held
                    assert not ctx.weak[k] and c["code"] not in held
            for r in action.get("no_replacement", []):
                assert r["zh"] and r["en"] and "_" not in r["zh"]
    assert named > 0


def test_a_weak_fund_with_no_peer_left_gets_a_same_class_replacement_or_a_reason(ctx):
    """When every suitable peer of a weak fund is already held, the swap widens to the asset class; when
    nothing in the class is left either, it says why."""
    from advisor.diagnosis.actions import swap_candidates
    from advisor.diagnosis.engine import customer_tables

    weak = int(np.flatnonzero(ctx.weak & ~ctx.money_market & (ctx.risk_level <= 4) & (ctx.asset_class == 2))[0])
    usable = ~ctx.weak & np.isfinite(ctx.stars) & (ctx.risk_level <= 4) & ~ctx.money_market
    peers = np.flatnonzero((ctx.category == ctx.category[weak]) & (ctx.asset_class == 2) & usable)
    same_class = np.flatnonzero((ctx.asset_class == 2) & usable)

    def book_holding(funds):
        lots = [{"code": str(ctx.codes[f]), "amount": 10_000, "purchase_date": "2024-01-01"} for f in funds]
        customer, table = customer_tables({**profile("C4"), "holdings": lots})
        inputs = prepare(ctx, customer, table, AS_OF)
        return book_of(ctx, inputs, 0, 1, slice(0, len(inputs.lot_customer)))

    named = [{"code": str(ctx.codes[weak])}]
    widened, reasons = swap_candidates(book_holding([weak, *peers]), 0, named, with_reasons=True)
    assert widened and not reasons
    assert all(c["match"] == "asset_class" for c in widened)
    assert not {c["code"] for c in widened} & {str(ctx.codes[p]) for p in peers}
    nothing, reasons = swap_candidates(book_holding([weak, *same_class]), 0, named, with_reasons=True)
    assert nothing == [] and reasons[0]["replace"] == str(ctx.codes[weak])
    assert "R4" in reasons[0]["zh"] and reasons[0]["reason"] == "none_suitable"


def test_an_assessment_is_expired_on_its_expiry_day_as_risk_validity_says(ctx):
    from risk.validity import is_valid

    lots = model_holdings(ctx, 3, 100_000)
    for expires, valid in ((AS_OF.replace(day=2), True), (AS_OF, False)):
        report = diagnose_customer(ctx, {**profile("C3", assessment_expires_on=str(expires)), "holdings": lots},
                                   as_of=AS_OF)
        assert is_valid(expires, AS_OF) is valid
        assert (report["checks"]["assessment_expired"]["severity"] == "critical") is not valid
