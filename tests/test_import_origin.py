"""The tests exercise this checkout's packages, never another checkout's (editable installs, tests/api)."""

from __future__ import annotations

from pathlib import Path

import advisor
import api
import api.app
import products
import risk

REPO = Path(__file__).resolve().parents[1]


def test_packages_resolve_to_this_checkout():
    for module in (api, api.app, products, risk, advisor):
        assert Path(module.__file__).resolve().is_relative_to(REPO), module.__file__
    assert Path(api.__file__).resolve().parent == REPO / "api"
