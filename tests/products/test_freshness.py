"""Stale data: the date a result is about against the date the data ends, one rule for every door."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from products.errors import StaleDataError
from products.freshness import REFUSE_DAYS, WARN_DAYS, freshness, resolve_as_of


def test_no_date_means_the_data_as_of_date(demo_universe) -> None:
    fresh = resolve_as_of(demo_universe, None)
    assert fresh.as_of == fresh.data_as_of == demo_universe.as_of and not fresh.stale
    assert fresh.to_dict()["days_beyond_data"] == 0


def test_a_date_beyond_the_data_warns_and_far_beyond_is_refused(demo_universe) -> None:
    end = demo_universe.as_of
    assert not resolve_as_of(demo_universe, end + timedelta(days=WARN_DAYS)).stale  # a long holiday is fine
    warned = resolve_as_of(demo_universe, end + timedelta(days=WARN_DAYS + 1))
    assert warned.stale and warned.warning["code"] == "stale_data"
    assert end.isoformat() in warned.warning["zh"] and end.isoformat() in warned.warning["en"]
    assert resolve_as_of(demo_universe, (end + timedelta(days=REFUSE_DAYS)).isoformat()).stale
    with pytest.raises(StaleDataError) as err:
        resolve_as_of(demo_universe, end + timedelta(days=REFUSE_DAYS + 1), field="as_of")
    assert err.value.details["field"] == "as_of" and err.value.details["data_as_of"] == end.isoformat()
    assert resolve_as_of(demo_universe, end - timedelta(days=400)).as_of == end - timedelta(days=400)


def test_results_served_now_are_never_refused_but_say_how_old_the_data_is(demo_universe) -> None:
    late = freshness(demo_universe, demo_universe.as_of + timedelta(days=300))
    assert late.stale and late.days_beyond_data == 300
    assert not freshness(demo_universe, demo_universe.as_of + timedelta(days=1)).stale
    assert freshness(demo_universe, date(2000, 1, 1)).days_beyond_data < 0
