"""The health check on the real fund universe: what an analyst would check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor import batch_io
from advisor.diagnosis import diagnose_customer
from advisor.diagnosis.context import INTERIM_MODEL_TARGETS, ModelInputs, ResearchInputs, build_context
from products.taxonomy import ASSET_CLASSES
from tests.advisor.diagnosis.diagnosis_helpers import AS_OF, profile


@pytest.fixture(scope="module")
def real_ctx(real_universe):
    """Real funds with simple class-average model weights (the proposal engine's 15 model solves on the
    real universe take ~20 s; they are exercised on the demo universe)."""
    funds = real_universe.funds
    classes = funds["asset_class"].to_numpy()
    levels = funds["risk_level"].to_numpy()
    targets = np.repeat(INTERIM_MODEL_TARGETS[:, None, :], 3, axis=1)
    weights = np.zeros((5, 3, len(funds)))
    for level in range(1, 6):
        for c, asset_class in enumerate(ASSET_CLASSES):
            members = (classes == asset_class.value) & (levels <= level)
            if members.any():
                weights[level - 1, :, members] = targets[level - 1, :, c] / members.sum()
    model = ModelInputs(targets, weights / weights.sum(axis=2, keepdims=True), version="test")
    return build_context(real_universe, ResearchInputs(), model)


def test_c2_holding_huaxia_growth_r4_is_flagged(real_ctx):
    funds = real_ctx.universe.funds
    assert funds.loc["000001", "risk_level"] >= 3
    lots = [{"code": "000001", "amount": 30_000, "purchase_date": "2024-01-02"},
            {"code": "000024", "amount": 70_000, "purchase_date": "2024-01-02"}]
    report = diagnose_customer(real_ctx, {**profile("C2"), "holdings": lots}, as_of=AS_OF)
    finding = next(f for f in report["findings"] if f["rule"] == "above_level")
    assert finding["severity"] == "critical"  # 30% of fund assets above the level
    assert finding["funds"][0]["code"] == "000001" and "华夏成长" in finding["explanation_zh"]
    assert report["actions"][0]["id"] == "reduce_above_level"


def test_real_a_c_pair_is_a_duplicate(real_ctx):
    lots = [{"code": "000024", "amount": 50_000, "purchase_date": "2024-01-02"},
            {"code": "000025", "amount": 50_000, "purchase_date": "2025-12-02"}]
    report = diagnose_customer(real_ctx, {**profile("C2"), "holdings": lots}, as_of=AS_OF)
    finding = next(f for f in report["findings"] if f["rule"] == "duplicates")
    assert {f["code"] for f in finding["funds"]} == {"000024", "000025"}


def test_shares_are_valued_at_the_last_published_unit_nav(real_universe, shared_data):
    nav = pd.read_csv(shared_data / "cn_funds" / "nav" / "000001.csv")
    last = float(nav.sort_values("净值日期")["单位净值"].iloc[-1])
    lots = pd.DataFrame({"customer_id": ["a"], "code": ["000001"], "shares": [1000.0], "amount": [np.nan],
                         "purchase_date": pd.to_datetime(["2024-01-02"])})
    valued = batch_io.value_lots(real_universe, lots, AS_OF)
    assert valued.loc[0, "value"] == pytest.approx(1000.0 * last, rel=1e-9)
