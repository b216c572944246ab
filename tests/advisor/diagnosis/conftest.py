"""Fixtures for the health-check tests: the demo universe's diagnosis context."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ctx(demo_universe):
    from advisor.diagnosis import diagnosis_context

    return diagnosis_context(demo_universe)
