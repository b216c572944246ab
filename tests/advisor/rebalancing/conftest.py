"""Fixtures for the rebalancing tests (helpers live in rebalance_helpers.py)."""

from __future__ import annotations

import pytest
from rebalance_helpers import simple_targets

from products.loading import load_universe


@pytest.fixture(scope="session")
def universe():
    return load_universe(None)


@pytest.fixture(scope="session")
def targets(universe):
    return simple_targets(universe)
