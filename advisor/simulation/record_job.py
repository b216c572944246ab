"""The background job that computes the proposals' simulated records for the served data.

    python -m advisor.simulation.record_job --key KEY [--data DIR]

Started by `advisor.simulation.record` when a proposal finds no record (never by hand; `advisor backtest`
does the same and more). It takes the lock file of its record key, loads the data the way the doors do
(context cache first), checks the data is still the one the key was made for, runs the standard grid
(`run_backtest`, every level × horizon × month, research cached under the service's cache directory) at a
lower CPU priority, saves the records, and releases the lock. A failure is logged beside the lock; the
next lookup after it may start a new job.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import time

log = logging.getLogger("advisor.simulation.record_job")


def compute_records(data_dir: str | None, key: str, workers: int | None = None) -> bool:
    """Run the grid on `data_dir` and save its records under `key`; False when the data no longer matches."""
    from advisor.context_cache import warm_universe
    from advisor.proposal import ProposalConfig
    from advisor.simulation.backtest import run_backtest, save_records
    from advisor.simulation.config import SimulationConfig
    from advisor.simulation.record import cache_dir, record_key

    universe = warm_universe(data_dir)
    if record_key(universe, ProposalConfig().key()) != key:
        log.warning("the data changed since the record was asked for: nothing computed")
        return False
    workers = workers or max(1, min(os.cpu_count() or 1, 2))
    config = SimulationConfig(workers=workers, cache_dir=cache_dir())
    clock = time.perf_counter()
    run = run_backtest(universe, config=config, comparisons=False)
    save_records(universe, run.payload, config)
    log.info("records saved for universe %s in %.0f s", universe.version, time.perf_counter() - clock)
    return True


def main(argv: list[str] | None = None) -> int:
    from advisor.simulation.record import _lock_path, job_running

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--key", required=True)
    parser.add_argument("--data", default=None)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    lock = _lock_path(args.key)
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        if job_running(args.key):
            log.info("another job computes these records")
            return 0
        lock.unlink(missing_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        with contextlib.suppress(OSError):
            os.nice(10)  # customers' requests come first
        compute_records(args.data, args.key, args.workers)
    except Exception:  # logged beside the lock for the operator; the service keeps saying "none yet"
        log.exception("simulated record job failed")
        return 1
    finally:
        lock.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
