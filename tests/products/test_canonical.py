"""The canonical Parquet format: exact round trip, schema errors that name the file and column."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from products.canonical import FORMAT_VERSION, read_canonical, write_canonical
from products.errors import DataError
from products.taxonomy import currency_of_name
from products.universe import BENCHMARK_NAMES, CORE_BENCHMARKS, FUND_COLUMNS, HOLDING_COLUMNS, Universe


@pytest.fixture(scope="module")
def fixture_universe(fixture_small: Path) -> Universe:
    from products.sources.fixture import load_fixture_layout

    return load_fixture_layout(fixture_small)


@pytest.fixture()
def canonical_dir(fixture_universe: Universe, tmp_path: Path) -> Path:
    write_canonical(fixture_universe, tmp_path / "canon")
    return tmp_path / "canon"


def assert_same_universe(a: Universe, b: Universe) -> None:
    pd.testing.assert_frame_equal(a.funds, b.funds)
    pd.testing.assert_frame_equal(a.returns, b.returns, check_freq=False)
    pd.testing.assert_frame_equal(a.unit_nav, b.unit_nav, check_freq=False)
    pd.testing.assert_frame_equal(a.holdings, b.holdings)
    pd.testing.assert_frame_equal(a.stock_industry, b.stock_industry)
    pd.testing.assert_frame_equal(a.benchmarks, b.benchmarks, check_freq=False)
    pd.testing.assert_frame_equal(a.issues, b.issues)
    assert a.fees.schedules == b.fees.schedules
    assert (a.as_of, a.source, a.fee_discount, a.version) == (b.as_of, b.source, b.fee_discount, b.version)


def test_round_trip_is_exact(fixture_universe: Universe, canonical_dir: Path) -> None:
    assert_same_universe(fixture_universe, read_canonical(canonical_dir))


def test_manifest_and_files(fixture_universe: Universe, canonical_dir: Path) -> None:
    manifest = json.loads((canonical_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["as_of"] == fixture_universe.as_of.isoformat()
    assert manifest["row_counts"]["funds"] == len(fixture_universe.funds) == 27
    for name in ("funds", "fees", "nav", "holdings", "stock_industry", "benchmarks", "issues"):
        assert (canonical_dir / f"{name}.parquet").exists()
    funds = pd.read_parquet(canonical_dir / "funds.parquet")
    assert list(funds.columns) == ["code", *FUND_COLUMNS]
    fees = pd.read_parquet(canonical_dir / "fees.parquet")
    assert set(fees["kind"]) == {"subscription", "redemption"}
    c_class = fees[(fees["code"] == "000119") & (fees["kind"] == "subscription")]
    assert c_class["rate"].tolist() == [0.0]  # C class: no subscription fee


def test_missing_column_is_named(canonical_dir: Path) -> None:
    funds = pd.read_parquet(canonical_dir / "funds.parquet").drop(columns=["risk_level", "company"])
    funds.to_parquet(canonical_dir / "funds.parquet", index=False)
    with pytest.raises(DataError, match=r"funds\.parquet lacks column.*risk_level") as err:
        read_canonical(canonical_dir)
    assert err.value.details["missing"] == ["company", "risk_level"]


def test_currency_and_modelled_columns_are_optional_and_checked(canonical_dir: Path,
                                                                 fixture_universe: Universe) -> None:
    """Files written before the columns existed still load (currency read from the name, nothing
    modelled); a currency other than CNY/USD names the fund."""
    funds = pd.read_parquet(canonical_dir / "funds.parquet")
    funds.drop(columns=["currency", "modelled"]).to_parquet(canonical_dir / "funds.parquet", index=False)
    old = read_canonical(canonical_dir)
    assert old.funds["currency"].tolist() == [currency_of_name(n) for n in old.funds["name"]]
    assert not old.funds["modelled"].any()
    funds.loc[funds["code"] == "000118", "currency"] = "EUR"
    funds.to_parquet(canonical_dir / "funds.parquet", index=False)
    with pytest.raises(DataError, match=r"currency.*000118"):
        read_canonical(canonical_dir)
    assert fixture_universe.funds["modelled"].sum() == 3  # the modelled money funds round-trip (test above)


def test_missing_required_file_and_bad_manifest(canonical_dir: Path) -> None:
    (canonical_dir / "nav.parquet").unlink()
    with pytest.raises(DataError, match=r"nav\.parquet is missing"):
        read_canonical(canonical_dir)
    (canonical_dir / "manifest.json").write_text(json.dumps({"format_version": "9.0", "as_of": "2022-12-30"}))
    with pytest.raises(DataError, match="not supported"):
        read_canonical(canonical_dir)


def test_invalid_risk_level_names_the_fund(canonical_dir: Path) -> None:
    funds = pd.read_parquet(canonical_dir / "funds.parquet")
    funds.loc[funds["code"] == "000118", "risk_level"] = 7
    funds.to_parquet(canonical_dir / "funds.parquet", index=False)
    with pytest.raises(DataError, match=r"risk_level.*000118"):
        read_canonical(canonical_dir)


def test_optional_files_missing_and_fee_problems_reported(canonical_dir: Path) -> None:
    for name in ("holdings", "stock_industry", "benchmarks", "issues"):
        (canonical_dir / f"{name}.parquet").unlink()
    fees = pd.read_parquet(canonical_dir / "fees.parquet")
    fees = fees[fees["code"] != "000118"]
    extra = fees[fees["code"] == "000119"].assign(code="999999")
    pd.concat([fees, extra]).to_parquet(canonical_dir / "fees.parquet", index=False)
    universe = read_canonical(canonical_dir)
    assert universe.holdings.empty and universe.stock_industry.empty and universe.benchmarks.empty
    found = universe.issues.set_index("code")["check"]
    assert found["999999"] == "unknown_code" and found["000118"] == "unknown_code"
    assert universe.fees.schedules[universe.code_index["000118"]].subscription  # type default


def test_descending_fee_tiers_are_a_data_error(canonical_dir: Path) -> None:
    fees = pd.read_parquet(canonical_dir / "fees.parquet")
    mask = (fees["code"] == "000118") & (fees["kind"] == "subscription") & (fees["tier"] == 0)
    fees.loc[mask, "upper"] = 1e12
    fees.to_parquet(canonical_dir / "fees.parquet", index=False)
    with pytest.raises(DataError, match="000118"):
        read_canonical(canonical_dir)


def test_real_universe_round_trip(real_universe: Universe, tmp_path: Path) -> None:
    write_canonical(real_universe, tmp_path / "real")
    back = read_canonical(tmp_path / "real")
    for name in ("funds", "returns", "unit_nav", "holdings", "stock_industry", "benchmarks", "issues"):
        a, b = getattr(real_universe, name), getattr(back, name)
        assert a.equals(b) and list(a.columns) == list(b.columns) and a.index.equals(b.index), name
    assert real_universe.fees.schedules == back.fees.schedules
    assert (real_universe.as_of, real_universe.version) == (back.as_of, back.version)


def _empty(path: Path) -> None:
    pd.read_parquet(path).iloc[:0].to_parquet(path, index=False)


def test_empty_nav_is_a_data_error_naming_the_file(canonical_dir: Path) -> None:
    _empty(canonical_dir / "nav.parquet")
    with pytest.raises(DataError, match=r"nav\.parquet .* has no rows") as err:
        read_canonical(canonical_dir)
    assert err.value.details["file"] == "nav.parquet"


def test_nav_for_unlisted_funds_only_is_a_data_error(canonical_dir: Path) -> None:
    nav = pd.read_parquet(canonical_dir / "nav.parquet")
    nav.assign(code="999999").drop_duplicates(["code", "date"]).to_parquet(canonical_dir / "nav.parquet",
                                                                           index=False)
    with pytest.raises(DataError, match=r"nav\.parquet .* no daily_return .* funds\.parquet"):
        read_canonical(canonical_dir)


@pytest.mark.parametrize("how", ["empty", "deleted"])
def test_holdings_are_optional(fixture_universe: Universe, canonical_dir: Path, how: str) -> None:
    """docs/data-format.md: holdings.parquet is optional; empty or absent loads with no holdings."""
    path = canonical_dir / "holdings.parquet"
    if how == "empty":
        _empty(path)
    else:
        path.unlink()
    loaded = read_canonical(canonical_dir)
    assert loaded.holdings.empty and set(HOLDING_COLUMNS) <= set(loaded.holdings.columns)
    pd.testing.assert_frame_equal(loaded.returns, fixture_universe.returns, check_freq=False)


def test_empty_benchmarks_load_as_no_series(canonical_dir: Path) -> None:
    _empty(canonical_dir / "benchmarks.parquet")
    loaded = read_canonical(canonical_dir)
    columns = list(loaded.benchmarks.columns)
    assert loaded.benchmarks.empty and columns == [n for n in BENCHMARK_NAMES if n in columns]
    assert set(CORE_BENCHMARKS) <= set(columns)
