"""The fixture_small layout: what the team's fast tests run on; bad rows are reported, never raised."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from products.sources.fixture import load_fixture_layout
from products.universe import BENCHMARK_NAMES, CORE_BENCHMARKS, FUND_COLUMNS, HOLDING_COLUMNS, INDUSTRY_COLUMNS


@pytest.fixture(scope="module")
def universe(fixture_small: Path):
    return load_fixture_layout(fixture_small)


def test_shape_and_columns(universe, fixture_small: Path) -> None:
    raw = pd.read_csv(fixture_small / "funds.csv", dtype=str)
    assert len(universe.funds) == len(raw) + 3 == 27  # 24 real + 3 modeled money-market funds
    assert list(universe.funds.columns) == list(FUND_COLUMNS)
    assert list(universe.returns.columns) == list(universe.funds.index)
    assert (universe.funds["fund_type"] == "money_market").sum() == 3
    assert universe.funds[["name", "fund_type", "asset_class", "risk_source", "status"]].notna().all().all()
    assert set(HOLDING_COLUMNS) <= set(universe.holdings.columns)
    assert set(INDUSTRY_COLUMNS) <= set(universe.stock_industry.columns)
    columns = list(universe.benchmarks.columns)
    assert set(CORE_BENCHMARKS) <= set(columns) <= set(BENCHMARK_NAMES)  # optional series absent in the slice
    assert columns == [n for n in BENCHMARK_NAMES if n in columns]
    assert str(universe.as_of) == str(pd.read_csv(fixture_small / "fund_nav_daily.csv")["date"].max())


def test_a_c_siblings(universe) -> None:
    a, c = universe.fund("000118"), universe.fund("000119")
    assert (a["share_class"], c["share_class"]) == ("A", "C")
    assert a["sibling_codes"] == "000119" and c["sibling_codes"] == "000118"
    fees_a = universe.fees.schedules[universe.code_index["000118"]]
    fees_c = universe.fees.schedules[universe.code_index["000119"]]
    assert fees_c.sales_service_fee > 0 and fees_c.subscription[0].rate == 0
    assert fees_a.sales_service_fee == 0 and fees_a.subscription[0].rate > 0


def test_returns_compound_the_published_daily_return(universe, fixture_small: Path) -> None:
    raw = pd.read_csv(fixture_small / "fund_nav_daily.csv", dtype={"fund_code": str})
    one = raw[raw["fund_code"] == "000628"]
    expected = np.prod(1 + one["daily_ret_pct"].to_numpy() / 100)
    got = np.prod(1 + universe.returns["000628"].dropna().to_numpy())
    assert got == pytest.approx(expected, rel=1e-12)
    assert universe.unit_nav["000628"].dropna().iloc[-1] == one["unit_nav"].iloc[-1]


def test_weights_are_fractions(universe) -> None:
    sums = universe.holdings.groupby(["quarter", "fund_code"])["weight"].sum()
    assert 0 < sums.max() <= 1.005
    assert universe.holdings["equity_share"].between(0, 1.05).all()


def test_garbage_rows_are_reported_not_crashing(fixture_small: Path, tmp_path: Path) -> None:
    root = tmp_path / "fixture"
    shutil.copytree(fixture_small, root)
    nav_path = root / "fund_nav_daily.csv"
    lines = nav_path.read_text(encoding="utf-8").splitlines()
    header_len = len(lines)
    lines += ["000628,2099-13-45,1.0,0.1",  # impossible date
              "000628,2023-01-03,abc,xyz",  # unreadable numbers
              "000628,2023-01-04,-1.0,0.5",  # non-positive NAV
              "000628,2023-01-04,1.1,0.5"]  # duplicate date
    nav_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    universe = load_fixture_layout(root)
    issues = universe.issues[universe.issues["code"] == "000628"]
    checks = issues.groupby("row")["check"].agg(set)
    assert checks[header_len + 1] == {"bad_date"}
    assert "bad_row" in checks[header_len + 2]  # then also reported as missing NAV / return
    assert issues[issues["check"] == "bad_row"]["message"].str.contains("abc").all()
    assert checks[header_len + 3] >= {"non_positive_nav", "duplicate_date"}
    assert universe.returns.loc["2023-01-04", "000628"] == pytest.approx(0.005)


def test_empty_nav_file_is_a_data_error_naming_it(fixture_small: Path, tmp_path: Path) -> None:
    from products.errors import DataError

    root = tmp_path / "fixture"
    shutil.copytree(fixture_small, root)
    nav_path = root / "fund_nav_daily.csv"
    nav_path.write_text(nav_path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"fund_nav_daily\.csv") as err:
        load_fixture_layout(root)
    assert err.value.details["file"] == "fund_nav_daily.csv"
