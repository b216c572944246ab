"""Total return across gaps on the full real data, checked on every fund the rule selects.

The rule (docs/data-format.md, "Total return across gaps"): a stated 日增长率 of 0.00 beside a unit-NAV
move is a missing return whatever its sign, taken from the unit-NAV ratio; a distribution is a day whose
non-zero stated return disagrees with the unit-NAV ratio. So between distributions a fund's total return
is its unit-NAV growth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from products.validation import return_repairs


def _long(universe) -> pd.DataFrame:
    """Every real fund's rows: code, date, daily return, unit NAV, the log of each row's discrepancy."""
    real = universe.funds.index[universe.funds["fund_type"] != "money_market"]  # money funds are modelled
    returns = universe.returns[real].stack().rename("r")
    unit = universe.unit_nav[real].stack().rename("nav")
    frame = pd.concat([returns, unit], axis=1).dropna().rename_axis(["date", "code"]).reset_index()
    frame = frame.sort_values(["code", "date"], kind="stable").reset_index(drop=True)
    first = frame["code"].ne(frame["code"].shift())
    frame["gap"] = np.where(first, 0.0, np.log1p(frame["r"]) - np.log(frame["nav"] / frame["nav"].shift()))
    return frame


@pytest.fixture(scope="module")
def rows(real_universe) -> pd.DataFrame:
    return _long(real_universe)


def _breaks(universe) -> pd.DataFrame:
    found = universe.issues
    return found.loc[found["check"].isin(["dividend", "unit_nav_jump"]), ["code", "date"]].drop_duplicates()


def test_qdii_funds_without_distributions_grow_with_their_unit_nav(real_universe, rows) -> None:
    funds = real_universe.funds
    qdii = funds.index[funds["fund_type"].isin(["qdii_equity", "qdii_other"])]
    repairs = return_repairs(real_universe.issues).reindex(qdii, fill_value=0)
    jumps = set(_breaks(real_universe)["code"])
    clean = [c for c in qdii if repairs.at[c, "distributions"] == 0 and c not in jumps]
    assert len(qdii) >= 25 and len(clean) >= 20
    assert repairs.loc[clean, "missing_returns"].sum() > 300  # the 0.00s after foreign holidays
    sub = rows[rows["code"].isin(clean)]
    deviation = sub.groupby("code")["gap"].sum()
    years = sub.groupby("code")["date"].agg(lambda d: (d.max() - d.min()).days / 365.25)
    assert deviation.abs().max() < 0.01, deviation.abs().sort_values().tail()
    assert (deviation / years).abs().max() < 0.001  # under 0.1 % a year (4-decimal rounding only)


def test_every_window_without_a_distribution_is_unit_nav_growth(real_universe, rows) -> None:
    breaks = _breaks(real_universe).assign(brk=True)
    frame = rows.merge(breaks, on=["code", "date"], how="left")
    is_break = frame["brk"].eq(True).to_numpy()
    segment = (frame["code"].ne(frame["code"].shift()) | is_break).cumsum()
    gap = np.where(is_break, 0.0, frame["gap"])  # a distribution day is where the two may part
    deviation = pd.Series(gap).groupby(segment.to_numpy()).sum().abs()
    assert len(deviation) > 1500
    assert deviation.quantile(0.99) < 0.005 and deviation.max() < 0.02


def test_a_stated_zero_beside_a_move_is_always_the_unit_nav_ratio(real_universe, shared_data: Path) -> None:
    """Every raw 0.00 beside a unit-NAV move beyond rounding, rise or fall, is a missing return taken from
    the unit-NAV ratio — never a distribution; a fall no market move explains is flagged besides."""
    found = real_universe.issues
    dividends = found.loc[found["check"] == "dividend", ["code", "date"]]
    falls = found.loc[found["check"] == "zero_on_large_fall", ["code", "date"]]
    assert len(falls) > 50  # bond funds whose source leaves the return of a payout day at 0.00
    flagged = set(map(tuple, falls.to_numpy()))
    assert not flagged & set(map(tuple, dividends.to_numpy()))
    checked = 0
    for path in sorted((shared_data / "cn_funds" / "nav").glob("*.csv")):  # every fund of the data
        raw = pd.read_csv(path, parse_dates=["净值日期"], dtype={"单位净值": float, "日增长率": float})
        raw = raw.drop_duplicates("净值日期", keep="last").set_index("净值日期").sort_index()
        move = raw["单位净值"] / raw["单位净值"].shift() - 1
        zero = raw.index[(raw["日增长率"] == 0) & (move.abs() > 0.0005)]
        got = real_universe.returns.loc[zero, path.stem]
        assert np.allclose(got, move[zero], atol=1e-12), path.stem
        checked += len(zero)
    assert checked > 1000
    # 000075 (Hang Seng feeder, USD class) on 2019-05-14: 0.2234 → 0.2200 after a Hong Kong holiday
    assert real_universe.returns.at[pd.Timestamp("2019-05-14"), "000075"] == pytest.approx(0.2200 / 0.2234 - 1)


def test_return_quality_is_on_the_fund_card(real_universe) -> None:
    from products.analytics.report import fund_report

    repairs = return_repairs(real_universe.issues)
    code = repairs["distributions"].idxmax()
    card = fund_report(real_universe, code)["data_quality"]
    assert card["distributions"] == repairs.at[code, "distributions"] == len(card["distribution_dates"])
    assert card["missing_returns_repaired"] == repairs.at[code, "missing_returns"]
    code = repairs["unexplained_falls"].idxmax()
    card = fund_report(real_universe, code)
    assert card["data_quality"]["unexplained_falls"] == repairs.at[code, "unexplained_falls"] > 0
    assert any(w["code"] == "unexplained_fall" for w in card["warnings"])
