"""Current risk ratings on the full real data, on every fund the rule selects."""

from __future__ import annotations

from products.risk_rating import MAX_VOLATILITY_OF_LEVEL, measured_volatility, shelf_row_applies
from products.sources.shelf import parse_shelf
from products.taxonomy import DEFAULT_RISK_OF_TYPE, FundType


def test_no_fund_is_rated_below_what_its_measured_volatility_allows(real_universe) -> None:
    funds = real_universe.funds
    vol = measured_volatility(real_universe.returns)
    for level, ceiling in MAX_VOLATILITY_OF_LEVEL.items():
        offenders = funds.index[(funds["risk_level"] <= level) & (vol > ceiling)]
        assert list(offenders) == [], f"rated R{level} or lower above {ceiling:.0%} volatility: {list(offenders)}"


def test_every_shelf_row_is_used_only_while_it_describes_the_fund(real_universe, shared_data) -> None:
    shelf = parse_shelf(shared_data / "cn_shelf_2017" / "zs_fee.csv").purchasable()
    funds = real_universe.funds
    matched = [c for c in shelf if c in funds.index]
    stale_found = set(real_universe.issues.loc[real_universe.issues["check"] == "stale_shelf_row", "code"])
    assert len(matched) >= 30
    for code in matched:
        entry, fund = shelf[code], funds.loc[code]
        applies, _ = shelf_row_applies(entry.name, entry.type_text, fund["name"], fund["fund_type"], fund["company"])
        guarantee_gone = "保本" in entry.name and "保本" not in fund["name"]
        if guarantee_gone:
            assert not applies  # a 保本 product that is no longer one is never rated from its old row
        default = int(DEFAULT_RISK_OF_TYPE[FundType(fund["fund_type"])])
        if applies:
            assert fund["risk_source"] in ("shelf", "measured_risk") and code not in stale_found
            assert fund["risk_level"] >= (entry.risk_level or 1)
        else:
            assert fund["risk_source"] in ("stale_shelf", "measured_risk") and code in stale_found
            assert fund["risk_level"] >= max(default, entry.risk_level or 1)  # never lower than either
    assert 1 <= len(stale_found) < len(matched) / 2
