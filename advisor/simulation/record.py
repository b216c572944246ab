"""The policy's simulated track record, as a proposal shows it (`historical`).

The advisory rules allow past performance only over more than a year, with volatility and maximum
drawdown. A proposal therefore shows the walk-forward record of its level and horizon (labelled as
simulated, with its span), not a backtest of today's funds on the window they were picked on.

Records are computed by a simulation run (`advisor backtest` over the standard grid), kept in memory per
universe version and policy, and on disk (the service's cache directory, `ADVISOR_CACHE_DIR`)
keyed by universe version, policy settings and the code's fingerprint. `walk_forward_record` only looks
records up — a proposal never runs the simulator.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from advisor.fallback import Note
from products.universe import Universe

MIN_RECORD_DAYS = 366  # calendar days: shown past performance must cover more than one year
_DISABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("records_disabled", default=False)
_RECORDS: dict[str, dict[str, dict[str, Any]] | None] = {}  # record key → {"C3/medium": record} or None (none)
_LOCK = threading.Lock()


@contextmanager
def records_disabled() -> Iterator[None]:
    """Inside a simulation: proposals on point-in-time universes look nothing up."""
    token = _DISABLED.set(True)
    try:
        yield
    finally:
        _DISABLED.reset(token)


def cache_dir() -> Path:
    """The service's cache directory (`advisor.context_cache.cache_dir`: `ADVISOR_CACHE_DIR`, else the user
    cache), where records live under `simulation/`."""
    from advisor.context_cache import cache_dir as service_cache_dir

    return service_cache_dir(None) / "simulation"


def record_key(universe: Universe, proposal_key: tuple) -> str:
    from advisor.simulation.config import SIMULATOR_VERSION, code_fingerprint

    text = repr((universe.version, str(universe.as_of), proposal_key, SIMULATOR_VERSION, code_fingerprint()))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _path(key: str) -> Path:
    return cache_dir() / "records" / f"{key}.json"


def _load(key: str) -> dict[str, dict[str, Any]] | None:
    path = _path(key)
    if not path.exists():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    records = payload.get("records") if isinstance(payload, dict) else None
    return records if isinstance(records, dict) else None


_KEYS: dict[tuple, str] = {}


def walk_forward_record(universe: Universe, level: int, horizon: str, proposal_key: tuple) -> dict[str, Any] | None:
    """The simulated record for (level, horizon bucket) under this policy and data, or None if none was
    computed. A dictionary lookup once warm (proposal latency is unchanged)."""
    if _DISABLED.get():
        return None
    memo = (universe.version, str(universe.as_of), proposal_key)
    key = _KEYS.get(memo)
    if key is None:
        key = _KEYS[memo] = record_key(universe, proposal_key)
    if key not in _RECORDS:
        with _LOCK:
            if key not in _RECORDS:
                _RECORDS[key] = _load(key)
    records = _RECORDS[key]
    if not records:
        return None
    found = records.get(f"C{level}/{horizon}")
    return dict(found) if found is not None else None


def policy_record(universe: Universe, level: object, horizon_years: float, *,
                  config: Any = None) -> dict[str, Any] | None:
    """The policy's simulated record for a customer level (C1–C5 or 1–5) and horizon in years — the same
    figures a proposal's `historical` block shows (annual return, volatility, max drawdown, recovery, span,
    turnover and fees, labelled simulated) — or None when no grid was run on this data and policy. The public
    entry for pages and reports; pair it with `history_note(record)` for the zh/en sentence."""
    from advisor.model_portfolios import horizon_bucket
    from advisor.proposal import ProposalConfig
    from risk.levels import parse_customer_level

    lvl = int(parse_customer_level(level, field="level"))
    key = (config or ProposalConfig()).key()
    return walk_forward_record(universe, lvl, horizon_bucket(horizon_years), key)


def register_records(universe: Universe, proposal_key: tuple, records: dict[str, dict[str, Any]],
                     meta: dict[str, Any] | None = None, persist: bool = True) -> Path | None:
    """Keep `records` ({"C3/medium": {...}}) for this universe and policy; on disk too when `persist`."""
    key = record_key(universe, proposal_key)
    with _LOCK:
        _RECORDS[key] = dict(records)
    if not persist:
        return None
    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"meta": meta or {}, "records": records}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
        tmp.replace(path)
    except OSError:
        return None
    return path


def forget_records() -> None:
    """Drop the in-memory records (tests; a process that reloads its data)."""
    with _LOCK:
        _RECORDS.clear()
        _KEYS.clear()


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def history_note(record: dict[str, Any] | None) -> Note:
    """The proposal's past-performance sentence: the simulated record with its span, or why there is none."""
    if record is None:
        return Note("history_unavailable", "本策略尚无超过一年的模拟业绩记录，暂不展示历史业绩。",
                    "This strategy has no simulated record of more than a year yet, so no past performance is shown.")
    return Note("history",
                f"本策略模拟业绩（{record['start']}至{record['end']}，按每个时点当时可得的数据逐月模拟，含申购赎回费用，"
                f"并非真实投资业绩）：年化收益{_pct(record['annual_return'])}，年化波动"
                f"{_pct(record['annual_volatility'])}，最大回撤{_pct(record['max_drawdown'])}。",
                f"Simulated record of this strategy ({record['start']} to {record['end']}, replayed month by month on "
                f"the data known at each date, fees included; not actual results): "
                f"{_pct(record['annual_return'])} a year, volatility {_pct(record['annual_volatility'])}, max "
                f"drawdown {_pct(record['max_drawdown'])}.")
