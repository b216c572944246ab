"""Batch formats: every bad row is rejected with a reason naming the field, the rest is used."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from advisor import batch_io
from products.errors import BadInputError, DataError

AS_OF = date(2026, 3, 1)


def customers_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["A1", "A2", "A3", "A4", "A2", " A6 "],
        "risk_level": ["C3", "c2", "C9", "C5", "C1", "C4"],
        "assessment_expires_on": ["2027-01-01", "2025-01-01", "2027-01-01", "not a date", "2027-01-01", None],
        "age": [30, 40, 50, 60, 70, 45],
        "horizon_years": [3, 1, 5, 2, 1, 3],
        "monthly_expenses": [5000, 8000, 3000, 4000, 2000, 6000],
        "cash": [10000, None, 0, 5, 1, -3],
        "insurance": [None, 0, 1000, None, None, None],
    })


def test_read_customers_rejects_bad_rows_with_reasons():
    clean, rejects = batch_io.read_customers(customers_frame())
    assert clean["customer_id"].tolist() == ["A1", "A2"]
    assert clean["risk_level"].tolist() == [3, 2]
    assert clean.loc[1, "cash"] == 0.0  # missing cash counts as none
    assert np.isnan(clean.loc[0, "insurance"])  # missing insurance stays "not declared"
    by_row = rejects.set_index("row")
    assert by_row.loc[2, "field"] == "risk_level" and "C9" in by_row.loc[2, "reason"]
    assert by_row.loc[3, "field"] == "assessment_expires_on"
    assert by_row.loc[4, "reason"].startswith("duplicate customer_id")
    assert by_row.loc[5, "field"] == "cash"
    assert set(rejects.columns) >= {"customer_id", "row", "field", "reason"}


def test_read_holdings_rejects_each_kind_of_bad_row(demo_universe):
    code = str(demo_universe.funds.index[5])
    frame = pd.DataFrame({
        "customer_id": ["A1", "A1", "A1", "A1", "A1", "", "A1"],
        "code": [code, "999999", code, code, code, code, code],
        "shares": [100.0, 10.0, -5.0, None, 1.0, 1.0, 2.0],
        "amount": [None, None, None, None, None, None, None],
        "purchase_date": ["2025-01-01", "2025-01-01", "2025-01-01", "2025-01-01", "2025-13-45", "2025-01-01",
                          "2027-01-01"],
    })
    clean, rejects = batch_io.read_holdings(frame, universe=demo_universe, as_of=AS_OF)
    assert clean["row"].tolist() == [0]
    reasons = dict(zip(rejects["row"], rejects["reason"], strict=True))
    assert reasons[1] == "unknown fund code"
    assert reasons[2] == "negative shares"
    assert reasons[3] == "neither shares nor amount given"
    assert "purchase_date" in reasons[4]
    assert reasons[5] == "customer_id is empty"
    assert "after" in reasons[6]


def test_csv_keeps_leading_zeros_and_trims(tmp_path, demo_universe):
    path = tmp_path / "holdings.csv"
    path.write_text("customer_id,code,shares,amount,purchase_date\n c1 ,000118,10,,2025-01-02\n")
    clean, rejects = batch_io.read_holdings(path)
    assert rejects.empty
    assert clean.loc[0, "code"] == "000118" and clean.loc[0, "customer_id"] == "c1"


def test_missing_columns_and_files_are_clear_errors(tmp_path):
    with pytest.raises(BadInputError, match="risk_level"):
        batch_io.read_customers(pd.DataFrame({"customer_id": ["x"]}))
    with pytest.raises(DataError, match="does not exist"):
        batch_io.read_holdings(tmp_path / "nope.parquet")
    with pytest.raises(BadInputError, match="shares or an amount"):
        batch_io.read_holdings(pd.DataFrame({"customer_id": ["x"], "code": ["1"], "purchase_date": ["2025-01-01"]}))


def test_value_lots_prices_shares_at_the_latest_unit_nav(demo_universe):
    codes = demo_universe.funds.index[[0, 10, 40]]
    lots = pd.DataFrame({"customer_id": ["a", "a", "b"], "code": list(codes), "shares": [100.0, np.nan, 10.0],
                         "amount": [np.nan, 500.0, 999.0],
                         "purchase_date": pd.to_datetime(["2026-02-01", "2025-03-01", "2020-03-01"])})
    valued = batch_io.value_lots(demo_universe, lots, AS_OF)
    nav = demo_universe.unit_nav[codes[2]].dropna().iloc[-1]
    assert valued["fund_idx"].tolist() == [0, 10, 40]
    assert valued.loc[0, "value"] == pytest.approx(100.0)  # money-market NAV 1
    assert valued.loc[1, "value"] == 500.0  # amount when no shares
    assert valued.loc[2, "value"] == pytest.approx(10.0 * nav)  # shares win over a stale amount
    assert valued["holding_days"].tolist() == [28, 365, (AS_OF - date(2020, 3, 1)).days]
    assert "value" not in lots.columns  # input untouched


def test_orphan_lots_are_rejected_with_the_reason():
    customers = pd.DataFrame({"customer_id": ["a"]})
    lots = pd.DataFrame({"customer_id": ["a", "b", "c"], "row": [0, 1, 2]})
    rejected_customers = pd.DataFrame({"customer_id": ["b"]})
    kept, rejects = batch_io.reject_orphans(customers, lots, rejected_customers)
    assert kept["customer_id"].tolist() == ["a"]
    assert rejects["reason"].tolist() == ["customer row was rejected", "customer_id not in customers table"]


def test_integer_risk_levels_are_read_as_c_levels_and_only_codes_are_zero_padded(tmp_path, demo_universe):
    """A Parquet with risk_level stored as integers 1–5 means C1–C5 (it used to be zero-padded like a fund
    code to '000003' and rejected); other levels are rejected with a clear reason; ids are not padded."""
    path = tmp_path / "customers.parquet"
    pd.DataFrame({"customer_id": [42, 43, 44, 45], "risk_level": [3, 5, 7, 0]}).to_parquet(path)
    clean, rejects = batch_io.read_customers(path)
    assert clean["customer_id"].tolist() == ["42", "43"]
    assert clean["risk_level"].tolist() == [3, 5]
    by_row = rejects.set_index("row")
    assert "'7'" in by_row.loc[2, "reason"] and "C1–C5" in by_row.loc[2, "reason"]
    assert "000007" not in by_row.loc[2, "reason"] and 3 in by_row.index
    floats = pd.DataFrame({"customer_id": ["a", "b", "c"], "risk_level": [2.0, 2.5, np.nan]})
    clean, rejects = batch_io.read_customers(floats)
    assert clean["risk_level"].tolist() == [2]
    assert sorted(rejects["row"]) == [1, 2]
    text = pd.DataFrame({"customer_id": ["a"], "risk_level": ["4"]})
    assert batch_io.read_customers(text)[0]["risk_level"].tolist() == [4]
    code = int(str(demo_universe.funds.index[5]))  # codes stored as integers still get their zeros back
    lots = pd.DataFrame({"customer_id": [7], "code": [code], "amount": [10.0], "purchase_date": ["2025-01-02"]})
    clean, rejects = batch_io.read_holdings(lots, universe=demo_universe, as_of=AS_OF)
    assert rejects.empty and clean.loc[0, "code"] == str(demo_universe.funds.index[5])
    assert clean.loc[0, "customer_id"] == "7"
    lots["code"] = [118]
    assert batch_io.read_holdings(lots)[0].loc[0, "code"] == "000118"


def test_lowest_category_rows_are_coerced_to_c1_and_flagged(tmp_path):
    """risk_level C3 + lowest_category true is a contradiction: the row is kept as C1 (R1 only), flagged."""
    frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "risk_level": ["C3", "C1", "C5", "C4"],
                          "lowest_category": ["true", "true", "false", None]})
    clean, rejects = batch_io.read_customers(frame)
    assert rejects.empty
    assert clean["risk_level"].tolist() == [1, 1, 5, 4]
    assert clean["lowest_category"].tolist() == [True, True, False, False]
    assert clean["risk_level_coerced"].tolist() == [True, False, False, False]
    path = tmp_path / "customers.parquet"
    pd.DataFrame({"customer_id": ["x"], "risk_level": [4], "lowest_category": [True]}).to_parquet(path)
    clean, _ = batch_io.read_customers(path)
    assert clean.loc[0, "risk_level"] == 1 and bool(clean.loc[0, "risk_level_coerced"])
