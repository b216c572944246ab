"""Capital market assumptions: class series, shrinkage, Black–Litterman views, overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.assumptions import (
    CLASSES,
    DEFAULT_PRIOR_RETURNS,
    AssumptionConfig,
    View,
    asset_class_returns,
    estimate_assumptions,
)
from products.errors import BadInputError
from products.taxonomy import FundType
from tests.advisor.proposals_synthetic import make_universe


@pytest.fixture(scope="module")
def universe():
    return make_universe(3)


def test_class_series_is_the_average_of_its_funds(universe):
    history, sources = asset_class_returns(universe, 10)
    bond_codes = universe.funds.index[universe.funds["asset_class"] == "bond"]
    day = history.index[100]
    assert history.loc[day, "bond"] == pytest.approx(universe.returns.loc[day, bond_codes].mean(), rel=1e-12)
    assert sources["bond"] == f"funds:{len(bond_codes)}"


def test_returns_are_shrunk_toward_the_prior_and_covariance_keeps_own_variances(universe):
    cma = estimate_assumptions(universe, AssumptionConfig(return_shrinkage=0.7))
    history, _ = asset_class_returns(universe, 10)
    hist_mu = history.mean() * 252
    expected = 0.7 * pd.Series(DEFAULT_PRIOR_RETURNS) + 0.3 * hist_mu
    assert np.allclose(cma.expected_returns[list(CLASSES)], expected[list(CLASSES)], atol=1e-12)
    # constant-correlation Ledoit-Wolf keeps the diagonal: money-market stays near-riskless
    assert cma.volatilities["cash"] < 0.005
    sample_vol = history.std() * np.sqrt(252)
    assert np.allclose(cma.volatilities[list(CLASSES)], sample_vol[list(CLASSES)], rtol=1e-6, atol=1e-4)
    assert np.linalg.eigvalsh(cma.covariance.to_numpy()).min() > 0


def test_no_shrinkage_is_the_historical_mean(universe):
    cma = estimate_assumptions(universe, AssumptionConfig(return_shrinkage=0.0))
    history, _ = asset_class_returns(universe, 10)
    assert cma.expected_returns["cn_equity"] == pytest.approx(history["cn_equity"].mean() * 252, rel=1e-12)


def test_black_litterman_views_move_returns_toward_the_view(universe):
    base = estimate_assumptions(universe).expected_returns
    bullish = estimate_assumptions(universe, AssumptionConfig(views=(View("cn_equity", 0.15, 0.6),)))
    assert base["cn_equity"] < bullish.expected_returns["cn_equity"] < 0.15
    certain = estimate_assumptions(universe, AssumptionConfig(views=(View("gold", 0.01, 1.0),)))
    assert certain.expected_returns["gold"] == pytest.approx(0.01, abs=1e-6)
    relative = estimate_assumptions(universe, AssumptionConfig(
        views=(View("global_equity", 0.05, 1.0, relative_to="bond"),)))
    gap = relative.expected_returns["global_equity"] - relative.expected_returns["bond"]
    assert gap == pytest.approx(0.05, abs=1e-6)


def test_overrides_replace_the_estimate_and_keep_correlations(universe):
    base = estimate_assumptions(universe)
    cma = estimate_assumptions(universe, AssumptionConfig(return_overrides={"bond": 0.04},
                                                          volatility_overrides={"gold": 0.2}))
    assert cma.expected_returns["bond"] == 0.04
    assert cma.volatilities["gold"] == pytest.approx(0.2)
    corr = lambda c: c.covariance.loc["gold", "cn_equity"] / (c.volatilities["gold"] * c.volatilities["cn_equity"])  # noqa: E731
    assert corr(cma) == pytest.approx(corr(base), rel=1e-9)


def test_class_without_funds_falls_back_to_benchmark_then_prior():
    u = make_universe(4, drop_types=(FundType.GOLD,))
    _, sources = asset_class_returns(u, 10)
    assert sources["gold"] == "prior"  # the synthetic universe has no benchmark series
    cma = estimate_assumptions(u)
    assert cma.expected_returns["gold"] == DEFAULT_PRIOR_RETURNS["gold"]
    assert cma.covariance.loc["gold", "cn_equity"] == 0.0


@pytest.mark.parametrize("kwargs, field", [
    ({"return_shrinkage": 1.5}, "return_shrinkage"),
    ({"return_overrides": {"stocks": 0.1}}, "return_overrides"),
    ({"volatility_overrides": {"gold": -0.1}}, "volatility_overrides"),
])
def test_bad_configuration_names_the_field(kwargs, field):
    with pytest.raises(BadInputError) as err:
        AssumptionConfig(**kwargs)
    assert err.value.details["field"] == field


def test_bad_view_names_the_field():
    with pytest.raises(BadInputError) as err:
        View("crypto", 0.1)
    assert err.value.details["field"] == "asset_class"
    with pytest.raises(BadInputError):
        View("gold", 0.1, confidence=0.0)


def test_from_dict_builds_views_and_names_unknown_fields(universe):
    cfg = AssumptionConfig.from_dict({"views": [{"asset_class": "gold", "expected_return": 0.01, "confidence": 1.0}],
                                      "return_overrides": {"bond": 0.04}})
    cma = estimate_assumptions(universe, cfg)
    assert cma.expected_returns["gold"] == pytest.approx(0.01, abs=1e-6)
    assert cma.expected_returns["bond"] == 0.04
    with pytest.raises(BadInputError) as err:
        AssumptionConfig.from_dict({"viewz": []})
    assert err.value.details["field"] == "viewz"
    with pytest.raises(BadInputError) as err:
        AssumptionConfig.from_dict({"views": [{"asset_class": "gold"}]})
    assert err.value.details == {"field": "views", "row": 0}
