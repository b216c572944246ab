"""Goal projections: the advice really reaches the stated probability, the draws match the assumptions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from advisor.assumptions import CLASSES
from advisor.cli import app
from advisor.lifecycle.goals import RESERVE, Goal, GoalSettings, GoalSimulator, project_goal, project_many
from products.errors import BadInputError

GOALS = [  # (level, months, initial, monthly, target): off track in different ways
    (3, 120, 50_000.0, 2_000.0, 500_000.0),
    (5, 240, 0.0, 1_500.0, 900_000.0),
    (2, 36, 30_000.0, 500.0, 60_000.0),
    (4, 60, 200_000.0, 0.0, 320_000.0),
    (1, 18, 10_000.0, 3_000.0, 70_000.0),
]


@pytest.fixture(scope="module")
def sim(demo_universe):
    return GoalSimulator(demo_universe, GoalSettings())


@pytest.fixture(scope="module")
def independent(demo_universe):
    """Other draws, four times as many: the yardstick the advice is checked against."""
    return GoalSimulator(demo_universe, GoalSettings(n_paths=8_000, seed=99, max_years=30))


def arrays(rows):
    return [np.array(col, dtype=float) for col in zip(*rows, strict=True)]


def test_contributing_the_advised_amount_reaches_the_target_probability(sim, independent):
    level, months, initial, monthly, target = arrays(GOALS)
    base = project_many(sim, level, months, initial, monthly, target, advice=True)
    assert not base["on_track"].any()
    advised = base["required_monthly"]
    assert (advised > monthly).all()
    same = project_many(sim, level, months, initial, advised, target)
    assert (same["probability"] >= 0.75).all()  # exact on the paths the advice was computed on
    slightly_less = project_many(sim, level, months, initial, advised * 0.995 - 1, target)
    assert (slightly_less["probability"] < 0.75).all()  # … and it is the smallest such amount
    fresh = project_many(independent, level, months, initial, advised, target)
    np.testing.assert_allclose(fresh["probability"], 0.75, atol=0.03)  # and holds on draws it never saw


def test_waiting_the_advised_extra_months_reaches_the_target_probability(sim, independent):
    level, months, initial, monthly, target = arrays(GOALS)
    base = project_many(sim, level, months, initial, monthly, target, advice=True)
    extra = base["extra_months"]
    reachable = np.isfinite(extra)
    assert reachable.sum() >= 3
    later = project_many(sim, level[reachable], months[reachable] + extra[reachable], initial[reachable],
                         monthly[reachable], target[reachable])
    assert (later["probability"] >= 0.75).all()
    one_less = project_many(sim, level[reachable], months[reachable] + extra[reachable] - 1, initial[reachable],
                            monthly[reachable], target[reachable])
    assert (one_less["probability"] < 0.75).all()
    fresh = project_many(independent, level[reachable], months[reachable] + extra[reachable], initial[reachable],
                         monthly[reachable], target[reachable])
    assert (fresh["probability"] > 0.70).all()


def test_simulated_years_have_the_assumed_mean_and_covariance(sim):
    cma = sim.assumptions
    monthly = sim.class_returns  # (paths, months, classes)
    years = (1.0 + monthly[:, : (monthly.shape[1] // 12) * 12]).reshape(monthly.shape[0], -1, 12, len(CLASSES))
    yearly = years.prod(axis=2).reshape(-1, len(CLASSES)) - 1.0
    mu = cma.expected_returns.reindex(list(CLASSES)).to_numpy()
    vol = np.sqrt(np.diag(cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()))
    assert (np.abs(yearly.mean(axis=0) - mu) <= 4 * vol / np.sqrt(len(yearly)) + 1e-5).all()
    cov = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()
    np.testing.assert_allclose(yearly.std(axis=0, ddof=1), vol, rtol=0.02)
    sample_corr = np.corrcoef(yearly.T)
    np.testing.assert_allclose(sample_corr, cov / np.outer(vol, vol), atol=4 / np.sqrt(len(yearly)))


def test_probability_moves_the_right_way(sim):
    base = project_many(sim, np.array([3, 3, 3]), np.array([120, 120, 120]), np.array([5e4, 5e4, 5e4]),
                        np.array([2000.0, 3000.0, 2000.0]), np.array([4e5, 4e5, 5e5]))
    p = base["probability"]
    assert p[1] > p[0] > p[2]


def test_reserve_is_held_in_cash_and_nearly_certain(demo_universe):
    enough = project_goal(demo_universe, Goal.build(target=30_000, months=6, initial=30_000, kind="reserve"))
    short = project_goal(demo_universe, Goal.build(target=30_000, months=6, initial=10_000, kind="reserve"))
    assert enough["probability"] == 1.0 and enough["on_track"]
    assert enough["glide_path"][0]["weights"] == {"cash": 1.0}
    assert short["probability"] == 0.0
    assert short["required_monthly"] == pytest.approx((30_000 - 10_000 * 1.01) / 6, rel=0.02)


def test_same_inputs_same_answer_through_the_batch_and_one_goal(demo_universe, sim):
    one = project_goal(demo_universe, Goal.build(target=500_000, years=10, initial=50_000, monthly=2_000, level="C3"))
    batch = project_many(sim, np.array([3]), np.array([120]), np.array([50_000.0]), np.array([2_000.0]),
                         np.array([500_000.0]), percentiles=True, advice=True)
    assert one["probability"] == pytest.approx(batch["probability"][0], abs=1e-4)
    assert one["required_monthly"] == pytest.approx(batch["required_monthly"][0], abs=0.01)
    assert one["percentiles"]["p50"] == pytest.approx(batch["p50"][0], abs=0.01)


def test_cli_goal_json_has_the_documented_keys():
    result = CliRunner().invoke(app, ["plan", "goal", "--level", "C3", "--target", "500000", "--years", "10",
                                      "--initial", "50000", "--monthly", "2000", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"probability", "on_track", "required_monthly", "percentiles"} <= set(payload)
    assert set(payload["percentiles"]) == {"p10", "p50", "p90"}
    assert payload["percentiles"]["p10"] < payload["percentiles"]["p50"] < payload["percentiles"]["p90"]
    assert "目标" in payload["explanation_zh"] and "_" not in payload["explanation_zh"]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"target": 0, "years": 5}, "target"), ({"target": 1e5, "years": 0}, "years"),
    ({"target": 1e5, "years": 5, "monthly": -1}, "monthly"), ({"target": 1e5, "years": 5, "level": "C7"}, "level"),
    ({"target": 1e5}, "years"), ({"target": "abc", "years": 5}, "target"),
])
def test_bad_goal_inputs_name_the_field(kwargs, field):
    with pytest.raises(BadInputError) as err:
        Goal.build(**kwargs)
    assert err.value.details["field"] == field


def test_reserve_level_is_cash(demo_universe):
    assert Goal.build(target=1, months=1, kind="reserve").level == RESERVE


def test_a_later_date_is_offered_only_when_it_is_a_reasonable_wait(demo_universe):
    """¥1,000,000 in 3 years from ¥100,000 would need decades: the advice is the contribution, not the date;
    a 10-year goal a few years short gets both."""
    far = project_goal(demo_universe, Goal.build(target=1_000_000, years=3, initial=100_000, level="C5"))
    assert not far["on_track"] and far["extra_months"] is None and far["extra_monthly"] > 0
    assert "推后" not in far["explanation_zh"] and "later" not in far["explanation_en"]
    assert "每月共" not in far["explanation_zh"]  # nothing is paid in yet: no "in all"
    near = project_goal(demo_universe, Goal.build(target=500_000, years=10, initial=50_000, monthly=2_000, level="C3"))
    if not near["on_track"]:
        assert 0 < near["extra_months"] <= 120 and "推后" in near["explanation_zh"]
