"""Research on a universe whose optional tables are empty: "unavailable" with a note, never a stack trace."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from products.errors import BadInputError
from products.research import (
    holdings_overlap,
    holdings_tilts,
    look_through,
    portfolio_look_through,
    research_card,
    style_analysis,
)
from products.research.lookthrough import NO_DATA, NO_HOLDINGS_NOTE, NON_STOCK
from products.universe import HOLDING_COLUMNS, Universe

EQUITY, SIBLING, BOND = "100001", "100002", "200001"


@pytest.fixture(scope="module", params=["empty_rows", "no_columns"])
def no_holdings(synthetic_universe: Universe, request) -> Universe:
    """Holdings with zero rows (same schema, as read from an empty holdings.parquet) or no table at all."""
    empty = synthetic_universe.holdings.iloc[:0] if request.param == "empty_rows" else pd.DataFrame()
    assert request.param == "no_columns" or list(empty.columns) == HOLDING_COLUMNS
    return dataclasses.replace(synthetic_universe, holdings=empty)


@pytest.fixture(scope="module")
def no_benchmarks(synthetic_universe: Universe) -> Universe:
    """Benchmarks with the style columns but no rows (an empty benchmarks.parquet)."""
    return dataclasses.replace(synthetic_universe,
                               benchmarks=synthetic_universe.benchmarks.iloc[:0])


def test_look_through_without_holdings_is_empty_with_a_note(no_holdings: Universe) -> None:
    result = look_through(no_holdings, [EQUITY, BOND])
    assert result.notes == (NO_HOLDINGS_NOTE,)
    assert result.top_stocks.empty
    assert list(result.industries.index) == [EQUITY, BOND]
    assert result.industries.loc[EQUITY, NO_DATA] == 1.0  # equity fund: unknown, not invented
    assert result.industries.loc[BOND, NON_STOCK] == 1.0
    assert (result.summary["source"] == "none").all()
    everything = look_through(no_holdings)
    assert everything.industries.empty and everything.notes == (NO_HOLDINGS_NOTE,)


def test_overlap_and_portfolio_without_holdings(no_holdings: Universe) -> None:
    overlap = holdings_overlap(no_holdings, [EQUITY, SIBLING, BOND])
    assert overlap.attrs["notes"] == [NO_HOLDINGS_NOTE]
    assert overlap.loc[EQUITY, SIBLING] == 1.0  # share classes are one portfolio by definition
    assert np.isnan(overlap.loc[EQUITY, BOND]) and np.isnan(overlap.loc[BOND, BOND])
    portfolio = portfolio_look_through(no_holdings, pd.Series({EQUITY: 0.6, BOND: 0.4}))
    assert portfolio["notes"] == [NO_HOLDINGS_NOTE]
    assert portfolio["stocks"].empty and portfolio["shared_stocks"].empty
    assert portfolio["industries"].to_dict() == pytest.approx({NO_DATA: 0.6, NON_STOCK: 0.4})
    tilts = holdings_tilts(no_holdings, [EQUITY])
    assert tilts["boards"].loc[EQUITY].isna().all()


def test_research_card_without_holdings(no_holdings: Universe) -> None:
    card = research_card(no_holdings, EQUITY)
    assert card["look_through"]["unavailable"] == NO_HOLDINGS_NOTE
    assert card["look_through"]["top_stocks"] == [] and card["look_through"]["quarter"] is None
    assert card["style"]["holdings"] is None
    assert card["style"]["r_squared"] is not None  # returns-based style does not need holdings


def test_look_through_notes_funds_without_their_own_data(synthetic_universe: Universe) -> None:
    result = look_through(synthetic_universe, [EQUITY, BOND])
    assert result.notes == (f"no holdings disclosed for {BOND} / 未披露持仓",)
    assert look_through(synthetic_universe, [EQUITY]).notes == ()


def test_style_without_benchmarks_is_unavailable(no_benchmarks: Universe) -> None:
    with pytest.raises(BadInputError, match="style unavailable") as err:
        style_analysis(no_benchmarks, [EQUITY])
    assert err.value.code == "style_basis_missing"
    card = research_card(no_benchmarks, EQUITY)
    assert "style unavailable" in card["style"]["unavailable"]
    assert card["style"]["weights"] == {} and card["style"]["r_squared"] is None
    assert card["style"]["holdings"]["boards"]  # holdings-based style still works
    assert card["look_through"]["top_stocks"]


def test_style_with_all_missing_benchmark_values(synthetic_universe: Universe) -> None:
    blank = synthetic_universe.benchmarks.copy()
    blank.loc[:, :] = np.nan
    with pytest.raises(BadInputError, match="style unavailable"):
        style_analysis(dataclasses.replace(synthetic_universe, benchmarks=blank), [EQUITY])
