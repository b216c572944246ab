"""The research context cache: a fresh process answers from it without rebuilding, never from a stale one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from advisor import context_cache
from products.loading import load_universe

REPO_ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, cache_dir: Path, **env: str) -> dict:
    """Run `code` in a fresh interpreter (the last line it prints is JSON) and return that JSON."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ADVISOR_CACHE_DIR": str(cache_dir), **env}
    environment.pop("ADVISOR_DATA_DIR", None)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=environment, cwd=REPO_ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The demo universe's context, built once into a cache directory of this module."""
    folder = tmp_path_factory.mktemp("ctx")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_CACHE_DIR", str(folder))
        meta = context_cache.build_cache(None, universe=load_universe(None))
    return folder, meta


def test_a_fresh_process_answers_from_the_cache_without_rebuilding(built):
    from advisor.diagnosis import diagnose_customer, diagnosis_context
    from advisor.proposal import propose, target_fund_weights

    folder, meta = built
    assert {"research", "proposal", "diagnosis", "model_portfolios", "selection"} <= set(meta["parts"])
    universe = load_universe(None)
    payload = {"customer_id": "c1", "risk_level": "C3", "age": 40, "cash": 5000.0,
               "holdings": [{"code": universe.funds.index[5], "amount": 20000.0, "purchase_date": "2024-01-02"},
                            {"code": universe.funds.index[30], "amount": 5000.0, "purchase_date": "2025-06-30"}]}
    expected = {
        "proposal": propose(universe, 3, 100_000, 3).to_dict()["lines"],
        "targets": target_fund_weights(universe, 4, 5.0).round(12).to_dict(),
        "health": diagnose_customer(diagnosis_context(universe), payload, as_of=universe.as_of)["health_score"],
    }
    found = _python(f"""
        import json, sys
        from advisor import context_cache
        # every builder is switched off: the answers must come from the cache
        import advisor.diagnosis.context as dctx, advisor.selection as sel, advisor.model_portfolios as mp
        import advisor.assumptions as am, products.research.leaderboard as lb
        def off(*a, **k):
            raise AssertionError("rebuilt instead of loaded")
        dctx.build_context = sel._select = mp._build_one = am._estimate = lb._dimensions = off
        universe = context_cache.warm_universe(None)
        from advisor.diagnosis import diagnose_customer, diagnosis_context
        from advisor.proposal import propose, target_fund_weights
        payload = {json.dumps(payload)}
        out = {{"proposal": propose(universe, 3, 100_000, 3).to_dict()["lines"],
                "targets": target_fund_weights(universe, 4, 5.0).round(12).to_dict(),
                "health": diagnose_customer(diagnosis_context(universe), payload, as_of=universe.as_of)["health_score"],
                "solver_modules": sorted(m for m in ("cvxpy", "pypfopt", "sklearn") if m in sys.modules)}}
        print(json.dumps(out))
    """, folder)
    assert found.pop("solver_modules") == []  # answered without importing a solver
    assert found == json.loads(json.dumps(expected))


def test_every_cached_store_is_found_and_filled(built):
    universe = load_universe(None)
    for store in context_cache.STORES:
        assert context_cache._target(store) is not None, f"{store.module}.{store.attribute} moved: update STORES"
        if store.kind != "thread":
            assert context_cache._capture(store, universe), f"{store.name} captured nothing"


def test_a_changed_source_or_code_never_loads_a_stale_context(built, tmp_path, monkeypatch):
    from products.canonical import write_canonical

    data = tmp_path / "canonical"
    write_canonical(load_universe(None), data)
    monkeypatch.delenv("ADVISOR_CACHE_DIR")
    assert context_cache.cache_dir(data) == data.resolve() / ".advisor-cache"  # beside canonical data
    key = context_cache.cache_key(data)
    assert context_cache.cache_key(data) == key  # stable
    manifest = data / "manifest.json"
    manifest.write_text(manifest.read_text())  # re-exported in place: new modification time
    os.utime(manifest, ns=(manifest.stat().st_atime_ns, manifest.stat().st_mtime_ns + 10**9))
    assert context_cache.cache_key(data).source != key.source
    monkeypatch.setattr(context_cache, "code_version", lambda: "another-code")
    assert context_cache.cache_key(data).code == "another-code"
    folder, _ = built
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(folder))
    assert context_cache.load(context_cache.cache_key(None)) is None  # built by other code: not used


def test_a_damaged_cache_file_is_rebuilt_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    key = context_cache.cache_key(None)
    (tmp_path / key.filename).write_bytes(b"\x80\x05garbage")
    assert context_cache.load(key) is None
    monkeypatch.setattr(context_cache, "_MEMO", {})
    universe = context_cache.warm_universe(None)
    assert len(universe.funds) > 0 and np.isfinite(universe.returns.to_numpy()).any()


def test_importing_the_service_loads_no_solver_library():
    found = _python("""
        import json, sys
        import advisor.proposal, advisor.diagnosis, advisor.rebalancing, advisor.cli, advisor.context_cache
        print(json.dumps(sorted(m for m in ("cvxpy", "pypfopt", "sklearn", "scipy.stats") if m in sys.modules)))
    """, REPO_ROOT / ".no-cache")
    assert found == []
