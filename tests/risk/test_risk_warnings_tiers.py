"""Mismatch warnings, confirmation records and customer tiers."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import pytest

from products.errors import BadInputError, SuitabilityError
from risk.config import RiskConfig
from risk.tiers import customer_tier, customer_tiers, tier_index
from risk.warnings import WARNING_TEXT_VERSION, mismatch_warning, record_confirmation, senior_warning

WHEN = datetime(2026, 5, 4, 10, 30)


def test_warning_names_levels_and_product_in_both_languages() -> None:
    warning = mismatch_warning("C2", "R4", "110011", "易方达中小盘")
    assert warning.version == WARNING_TEXT_VERSION
    assert "C2（稳健型）" in warning.text_zh and "R4（中高风险）" in warning.text_zh and "110011" in warning.text_zh
    assert "C2 (cautious)" in warning.text_en and "R4 (medium-high risk)" in warning.text_en
    assert "65" in senior_warning().text_zh


def test_confirmation_record_is_frozen_evidence() -> None:
    record = record_confirmation("cust-1", "110011", "C2", "R4", channel="app", confirmed_at=WHEN,
                                 product_name="易方达中小盘")
    assert record.customer_level == "C2" and record.product_level == "R4"
    assert record.text_shown == mismatch_warning("C2", "R4", "110011", "易方达中小盘").text_zh
    assert record.warning_text_version == WARNING_TEXT_VERSION and record.channel == "app"
    assert record.to_dict()["confirmed_at"] == "2026-05-04T10:30:00+00:00"
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.product_code = "x"  # type: ignore[misc]


def test_no_confirmation_unlocks_lowest_category_or_wealth_products() -> None:
    with pytest.raises(SuitabilityError, match="lowest risk category"):
        record_confirmation("c", "p", "C1", "R2", channel="app", lowest_category=True)
    with pytest.raises(SuitabilityError, match="wealth-management"):
        record_confirmation("c", "p", "C3", "R4", channel="branch", kind="wealth_management")
    with pytest.raises(BadInputError, match="no mismatch confirmation is needed"):
        record_confirmation("c", "p", "C4", "R3", channel="app")
    with pytest.raises(BadInputError, match="channel"):
        record_confirmation("c", "p", "C2", "R3", channel="fax")


def test_tiers_follow_the_domain_thresholds() -> None:
    amounts = [0, 49_999, 50_000, 499_999, 500_000, 2_000_000, 5_999_999, 6_000_000, 1e9]
    assert customer_tiers(amounts).tolist() == ["ordinary", "ordinary", "mid", "mid", "affluent", "hnw", "hnw",
                                                "private_banking", "private_banking"]
    assert customer_tier(10_000, RiskConfig(tier_floors=(5_000, 10_000, 20_000, 30_000))) == "affluent"
    assert tier_index(np.full(1000, 3e6)).tolist() == [3] * 1000


def test_tiers_reject_bad_amounts_by_row() -> None:
    with pytest.raises(BadInputError, match="row 2"):
        customer_tiers([1.0, 2.0, -5.0])
    with pytest.raises(BadInputError, match="row 0"):
        customer_tiers([np.nan])
