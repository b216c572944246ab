"""The policy's simulated track record, as a proposal shows it (`historical`).

The advisory rules allow past performance only over more than a year, with volatility and maximum
drawdown. A proposal therefore shows the walk-forward record of its level and horizon (labelled as
simulated, with its span), not a backtest of today's funds on the window they were picked on.

Records are computed by a simulation run over the standard grid, kept in memory per universe version and
policy, and on disk (the service's cache directory, `ADVISOR_CACHE_DIR`) keyed by universe version, policy
settings and the code's fingerprint. `walk_forward_record` only looks records up — a proposal never runs
the simulator and never waits for it. When the doors (the API at start, the CLI) have told this module where
their data lives (`know_data_dir`) and no record exists for the served data and the default policy, the
first lookup starts ONE background job (`python -m advisor.simulation.record_job`, lower CPU priority, a
lock file against duplicates across processes) that runs the grid and saves the records; until they are
saved a proposal says its simulated record is being computed (`history_note(None, pending=True)`), and
later lookups pick the file up. `ADVISOR_SIMULATED_RECORDS=off` disables the job (the tests do).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from advisor.fallback import Note
from products.universe import Universe

MIN_RECORD_DAYS = 366  # calendar days: shown past performance must cover more than one year
SWITCH_ENV = "ADVISOR_SIMULATED_RECORDS"  # "background" (default): compute missing records; "off": never
RECHECK_SECONDS = 5.0  # a missing record is looked for on disk again at most this often (a job may save it)
STALE_LOCK_SECONDS = 4 * 3600  # a job lock older than this, or whose process is gone, no longer counts
log = logging.getLogger(__name__)
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
_CHECKED: dict[str, float] = {}  # record key → when a missing record was last looked for on disk
_DATA_DIRS: dict[str, str | None] = {}  # universe version → its data directory (None: the embedded demo)
_STARTED: dict[str, float] = {}  # record key → when this process started its job (once per process)
STARTING_SECONDS = 60.0  # a job just started counts as running until it has taken its lock


def know_data_dir(universe: Universe, data_dir: str | os.PathLike[str] | None) -> None:
    """Tell the record module where the served universe was loaded from (the API at start, the CLI), so a
    missing record can be computed in the background from the same data."""
    _DATA_DIRS[universe.version] = None if data_dir is None else str(Path(data_dir).resolve())


def prepare_records(universe: Universe, data_dir: str | os.PathLike[str] | None) -> None:
    """At a door's start: remember where the data lives and, when the default policy has no record for it,
    start computing one in the background now (proposals say so until it is saved)."""
    know_data_dir(universe, data_dir)
    walk_forward_record(universe, 3, "medium", _default_key())


def _default_key() -> tuple:
    from advisor.proposal import ProposalConfig

    return ProposalConfig().key()


def _lock_path(key: str) -> Path:
    return cache_dir() / "records" / f"{key}.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def job_running(key: str) -> bool:
    """Whether a record job for `key` holds its lock (a live process, not older than `STALE_LOCK_SECONDS`)."""
    path = _lock_path(key)
    try:
        pid = int(path.read_text(encoding="utf-8").split()[0])
        age = time.time() - path.stat().st_mtime
    except (OSError, ValueError, IndexError):
        return False
    return age < STALE_LOCK_SECONDS and _pid_alive(pid)


def _job_command(data_dir: str | None, key: str) -> list[str]:
    command = [sys.executable, "-m", "advisor.simulation.record_job", "--key", key]
    return command + (["--data", data_dir] if data_dir else [])


def _start_job(universe: Universe, key: str) -> bool:
    """Start the background job computing the records of `universe` under the default policy (once)."""
    if os.environ.get(SWITCH_ENV, "background").strip().lower() in ("off", "0", "false", "no"):
        return False
    if universe.version not in _DATA_DIRS or key in _STARTED or job_running(key):
        return False
    folder = cache_dir() / "records"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stale = _lock_path(key)
        if stale.exists():
            stale.unlink(missing_ok=True)  # its process is gone (job_running said so)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                                           os.environ.get("PYTHONPATH")]))}
        with (folder / f"{key}.log").open("ab") as out:
            subprocess.Popen(_job_command(_DATA_DIRS[universe.version], key), stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    except OSError as err:  # a read-only cache directory or no way to start a process: no record, not an error
        log.warning("simulated record job not started (%s)", err)
        return False
    _STARTED[key] = time.monotonic()
    log.info("simulated record job started for universe %s (key %s)", universe.version, key)
    return True


def records_pending(universe: Universe, proposal_key: tuple) -> bool:
    """Whether the records of this universe and policy are being computed (a job is running for them)."""
    key = _KEYS.get((universe.version, str(universe.as_of), proposal_key)) or record_key(universe, proposal_key)
    if _RECORDS.get(key):
        return False
    just_started = time.monotonic() - _STARTED.get(key, -1e9) < STARTING_SECONDS and not _load(key)
    return job_running(key) or (just_started and not _lock_path(key).exists())


def walk_forward_record(universe: Universe, level: int, horizon: str, proposal_key: tuple) -> dict[str, Any] | None:
    """The simulated record for (level, horizon bucket) under this policy and data, or None if none was
    computed. A dictionary lookup once warm (proposal latency is unchanged)."""
    if _DISABLED.get():
        return None
    memo = (universe.version, str(universe.as_of), proposal_key)
    key = _KEYS.get(memo)
    if key is None:
        key = _KEYS[memo] = record_key(universe, proposal_key)
    if key not in _RECORDS or (_RECORDS[key] is None and time.monotonic() - _CHECKED.get(key, 0.0) > RECHECK_SECONDS):
        with _LOCK:
            if _RECORDS.get(key) is None:
                _RECORDS[key] = _load(key)
                _CHECKED[key] = time.monotonic()
    records = _RECORDS[key]
    if not records:
        if records is None and proposal_key == _default_key():
            _start_job(universe, key)
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
        _CHECKED.clear()
        _STARTED.clear()


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def history_note(record: dict[str, Any] | None, pending: bool = False) -> Note:
    """The proposal's past-performance sentence: the simulated record with its span, or why there is none
    (`pending`: it is being computed)."""
    if record is None and pending:
        return Note("history_computing", "本策略的模拟业绩（按历史数据逐月重演，超过一年）正在计算中，稍后即可查看；"
                                         "在此之前不展示历史业绩。",
                    "The simulated record of this strategy (replayed month by month on past data, over more than "
                    "a year) is being computed and will be shown shortly; until then no past performance is shown.")
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
