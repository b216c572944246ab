"""`load_universe` dispatch: canonical, shared, fixture layouts; clear errors for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from products.errors import DataError
from products.loading import load_universe


def test_fixture_layout_and_cache(fixture_small: Path) -> None:
    universe = load_universe(fixture_small)
    assert universe.source.startswith("fixture:")
    assert len(universe.funds) == 27
    assert load_universe(fixture_small) is universe  # cached per path and mtime


def test_canonical_layout_via_env(fixture_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from products.canonical import write_canonical

    write_canonical(load_universe(fixture_small), tmp_path / "canon")
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path / "canon"))
    universe = load_universe(None)
    assert universe.source.startswith("fixture:")  # the manifest keeps where the data came from
    assert universe.version == load_universe(fixture_small).version


def test_shared_layout(real_universe) -> None:
    assert real_universe.source.startswith("shared:")


def test_unrecognized_and_missing_directories(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_universe(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="neither a canonical"):
        load_universe(tmp_path / "empty")


def test_canonical_rewritten_in_place_is_reloaded(fixture_small: Path, tmp_path: Path) -> None:
    import os

    from products.canonical import write_canonical

    universe = load_universe(fixture_small)
    out = tmp_path / "canon"
    write_canonical(universe, out)
    first = load_universe(out)
    write_canonical(universe, out)
    manifest = out / "manifest.json"
    os.utime(manifest, ns=(manifest.stat().st_atime_ns, manifest.stat().st_mtime_ns + 10**9))
    assert load_universe(out) is not first
