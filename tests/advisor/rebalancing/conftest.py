"""Fixtures for the rebalancing tests (helpers live in rebalance_helpers.py)."""

from __future__ import annotations

import pytest

from products.loading import load_universe
from tests.advisor.rebalancing.rebalance_helpers import simple_targets


@pytest.fixture(scope="session")
def universe():
    return load_universe(None)


@pytest.fixture(scope="session")
def targets(universe):
    return simple_targets(universe)
