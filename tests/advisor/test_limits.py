"""Input limits live once (`advisor.limits`): the core and the API's request schemas refuse the same values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from advisor import limits
from api.schemas.common import HorizonYears, Money, TargetReturn
from products.errors import BadInputError

MONEY = TypeAdapter(Money)
HORIZON = TypeAdapter(HorizonYears)
TARGET = TypeAdapter(TargetReturn)


def core_accepts(check, value) -> bool:
    try:
        check(value)
    except BadInputError as err:
        assert err.details["field"], "every refusal names its field"
        return False
    return True


def schema_accepts(adapter: TypeAdapter, value) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-10, max_value=2e9),
                 st.integers(min_value=-5, max_value=2_000_000_000).map(lambda c: c / 100)))
def test_money_limits_agree(value):
    assert core_accepts(limits.money, value) == schema_accepts(MONEY, value)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=60))
def test_horizon_limits_agree(value):
    assert core_accepts(limits.horizon_years, value) == schema_accepts(HORIZON, value)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=2))
def test_target_return_limits_agree(value):
    assert core_accepts(limits.target_return, value) == schema_accepts(TARGET, value)


@pytest.mark.parametrize(("value", "ok"), [(0.01, True), (50_000.12, True), (0.29, True), (1e9, True),
                                           (50_000.123, False), (0, False), (-1, False), (1e9 + 1, False),
                                           (math.inf, False), (True, False), ("12", True), ("abc", False)])
def test_money_rules(value, ok):
    assert core_accepts(limits.money, value) is ok


def test_zero_money_only_where_allowed():
    assert limits.money(0, "cash", allow_zero=True) == 0.0
    with pytest.raises(BadInputError) as err:
        limits.money(0, "cash")
    assert err.value.details["field"] == "cash"


@pytest.mark.parametrize(("value", "ok"), [(0.5, True), (50, True), (0, False), (50.01, False), (-1, False)])
def test_horizon_rules(value, ok):
    assert core_accepts(limits.horizon_years, value) is ok
