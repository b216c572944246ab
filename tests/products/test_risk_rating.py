"""Current product risk ratings: stale shelf rows and the floor from measured volatility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.risk_rating import (
    MAX_VOLATILITY_OF_LEVEL,
    apply_risk_floor,
    measured_volatility,
    name_similarity,
    plausible_floor,
    shelf_row_applies,
)


@pytest.mark.parametrize(("shelf_name", "shelf_type", "name", "fund_type", "company"), [
    ("工银瑞信聚焦30", "股票型", "工银聚焦30股票", "equity", "工银瑞信基金管理有限公司"),
    ("华夏优势增长股票", "股票型基金", "华夏优势增长混合", "mixed_equity", "华夏基金管理有限公司"),  # 2015 股票→混合
    ("博时黄金D类场外", "股票型基金", "博时黄金ETFD", "gold", "博时基金管理有限公司"),  # gold listed as 股票型
    ("华夏全球股票（QDII）", "股票型基金", "华夏全球股票", "qdii_equity", "华夏基金管理有限公司"),
    ("景顺品质投资", "股票型基金", "景顺长城品质投资", "mixed_equity", "景顺长城基金管理有限公司"),
])
def test_a_row_that_still_describes_the_fund_applies(shelf_name, shelf_type, name, fund_type, company) -> None:
    assert shelf_row_applies(shelf_name, shelf_type, name, fund_type, company) == (True, "")


@pytest.mark.parametrize(("shelf_name", "shelf_type", "name", "fund_type", "why"), [
    ("某某目标收益保本", "混合基金", "某某量化策略收益混合A", "mixed_equity", "capital-guaranteed"),
    ("某某中小盘", "股票型基金", "某某优质精选混合（QDII）", "qdii_other", "family"),
    ("某某纯债", "债券型", "某某成长混合", "mixed_equity", "family"),
    ("某某医药健康", "股票型", "某某新能源车股票", "equity", "differ"),
])
def test_a_row_for_another_product_is_stale(shelf_name, shelf_type, name, fund_type, why) -> None:
    applies, reason = shelf_row_applies(shelf_name, shelf_type, name, fund_type, "某某基金管理有限公司")
    assert not applies and why in reason


def test_name_similarity_ignores_company_and_generic_words() -> None:
    assert name_similarity("工银瑞信金融地产行业", "工银金融地产混合", "工银瑞信基金管理有限公司") == 1.0
    assert name_similarity("易方达中小盘", "易方达优质精选混合", "易方达基金管理有限公司") == 0.0


def _returns(vols: dict[str, float], days: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2020-01-01", periods=days)
    return pd.DataFrame({c: rng.normal(0, v / np.sqrt(252), days) for c, v in vols.items()}, index=index)


def test_a_rating_too_low_for_the_measured_volatility_is_raised_never_lowered() -> None:
    funds = pd.DataFrame({"fund_type": ["mixed_equity", "bond", "bond", "equity"], "risk_level": [2, 2, 1, 5],
                          "risk_source": ["shelf", "type_default", "shelf", "shelf"]},
                         index=["Q", "B", "S", "E"])
    returns = _returns({"Q": 0.16, "B": 0.15, "S": 0.05, "E": 0.01})
    out, found = apply_risk_floor(funds, returns)
    assert out["risk_level"].tolist() == [3, 3, 2, 5]  # type default R3; bond R2 too low → R3; R1 → R2
    assert out["risk_source"].tolist() == ["measured_risk", "measured_risk", "measured_risk", "shelf"]
    assert sorted(found["code"]) == ["B", "Q", "S"] and set(found["check"]) == {"risk_raised"}
    assert "R2" in found.set_index("code").at["Q", "message"]


def test_measured_volatility_needs_enough_history_and_respects_as_of() -> None:
    returns = _returns({"A": 0.2})
    returns.iloc[:-100, 0] = np.nan  # only 100 days: not measured
    assert np.isnan(measured_volatility(returns)["A"])
    full = _returns({"A": 0.2})
    assert measured_volatility(full, as_of=full.index[400])["A"] == pytest.approx(
        full["A"].iloc[:401].std() * np.sqrt(252), rel=1e-12)
    assert plausible_floor(0.13) == 3 and plausible_floor(0.02) == 1 and plausible_floor(np.nan) == 1
    assert MAX_VOLATILITY_OF_LEVEL[2] == 0.12
