"""Shared fixtures. Real-data tests read `ADVISOR_SHARED_DATA` (default ../shared/data).

Where the data is absent the real-data tests skip on a developer machine and fail under CI (`CI` set),
so a CI run can never pass without having exercised them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# No background grid runs (advisor.simulation.record) from any test, module fixture or subprocess the suite
# starts; the tests of that job switch it on for themselves.
os.environ["ADVISOR_SIMULATED_RECORDS"] = "off"


def shared_data_dir() -> Path | None:
    raw = os.environ.get("ADVISOR_SHARED_DATA") or str(REPO_ROOT.parent / "shared" / "data")
    path = Path(raw)
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve()
    return path if (path / "cn_funds").is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        message = ("real data not found: set ADVISOR_SHARED_DATA to the shared data folder "
                   "(expected cn_funds/, fixture_small/, benchmarks/)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def fixture_small(shared_data: Path) -> Path:
    return shared_data / "fixture_small"


@pytest.fixture(scope="session")
def real_universe(shared_data: Path):
    """The full real universe (509 funds), loaded once per test session."""
    from products.loading import load_universe

    return load_universe(shared_data)


@pytest.fixture(scope="session")
def demo_universe():
    """The embedded deterministic demo universe."""
    from products.demo import demo_universe as build

    return build()


@pytest.fixture(scope="session")
def context_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The research context cache of this test session (never the developer's ~/.cache)."""
    return tmp_path_factory.mktemp("context-cache")


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch: pytest.MonkeyPatch, context_cache_dir: Path) -> None:
    """Tests choose their data explicitly; a developer's ADVISOR_DATA_DIR must not leak in, and context
    caches go to the session's temporary directory."""
    monkeypatch.delenv("ADVISOR_DATA_DIR", raising=False)
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(context_cache_dir))
