"""Bank-scale nightly runs: a 10 M-customer book through the health check and rebalancing in bounded memory,
throughput per core against the in-memory path, 1 vs 2 workers, and cold starts with and without the
research context cache.

    python benchmarks/bench_nightly.py [--customers 10000000] [--partitions 200] [--compare 1000000]
                                       [--data DIR] [--work /tmp/bench-nightly] [--steps generate,run,compare,cold]

Every measured command runs as a child process (exactly what an operator types); its wall time and the
peak of the summed resident memory of its whole process tree (client, Dask scheduler, nannies, workers)
are sampled every 0.2 s. The load average is printed with each number: the machine's 2 cores are shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-02-13"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def run(cmd: list[str], env: dict[str, str] | None = None, label: str = "") -> dict:
    """Run `cmd`, sampling the summed RSS of its process tree; wall seconds, peak GB, load, stdout."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    before = load()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=REPO)
    root = psutil.Process(proc.pid)
    peak_total = peak_single = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            sizes = []
            for p in tree:
                with contextlib.suppress(psutil.Error):
                    sizes.append(p.memory_info().rss)
            peak_total = max(peak_total, sum(sizes))
            peak_single = max(peak_single, max(sizes, default=0))
        except psutil.Error:
            pass
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if proc.returncode not in (0,):
        print(stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{label or cmd[:4]} failed with exit code {proc.returncode}")
    result = {"label": label, "seconds": round(wall, 2), "cpu_seconds": round(cpu, 1),
              "peak_tree_gb": round(peak_total / 1e9, 2), "peak_process_gb": round(peak_single / 1e9, 2),
              "load_before": before, "load_after": load(), "stdout": stdout}
    print(f"  {label:<56} {wall:8.1f} s  cpu {cpu:7.1f} s  peak tree {peak_total / 1e9:5.2f} GB  "
          f"(one process {peak_single / 1e9:4.2f})  load {before} → {result['load_after']}", flush=True)
    return result


def advisor(*args: str) -> list[str]:
    return [sys.executable, "-m", "advisor", *args]


def json_tail(text: str) -> dict:
    start = text.find("{")
    return json.loads(text[start:]) if start >= 0 else {}


def step_generate(args, work: Path, results: dict) -> None:
    print(f"\n# {args.customers:,} customers → partitioned book ({args.partitions} partitions)")
    book = work / "book"
    if book.exists():
        shutil.rmtree(book)
    r = run(advisor("demo-data", "customers", "--n", str(args.customers), "--seed", "1", "--partitions",
                    str(args.partitions), "--out", str(book), "--as-of", AS_OF, "--mean-holdings", "8",
                    *data_args(args), "--json"), label="generate (streamed, 250k customers per chunk)")
    made = json_tail(r["stdout"])
    r["customers"], r["lots"] = made.get("customers"), made.get("lots")
    print(f"  book: {made.get('customers', 0):,} customers, {made.get('lots', 0):,} lots, "
          f"{sum(f.stat().st_size for f in book.rglob('*.parquet')) / 1e9:.2f} GB on disk")
    results["generate"] = r


def data_args(args) -> list[str]:
    return ["--data", str(args.data)] if args.data else []


def nightly(args, book: Path, out: Path, job: str, workers: int, label: str) -> dict:
    r = run(advisor("nightly", "run", job, "--book", str(book), "--out", str(out), "--as-of", AS_OF, "--scheduler",
                    "local", "--workers", str(workers), "--force", *data_args(args), "--json"), label=label)
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "run.json").read_text())
    r["customers"] = summary.get("customers")
    r["worker_peak_gb"] = round(max(summary.get("peak_rss_mb_per_worker", {0: 0}).values()) / 1024, 2)
    readiness = manifest.get("workers", {}).get("readiness", {})
    r["worker_ready"] = {k: v.get("context_seconds") for k, v in readiness.items()}
    r["partitions"] = partition_stats(out)
    r["per_customer_ms"] = round(1000 * r["seconds"] / max(r["customers"] or 1, 1), 4)
    r["cpu_ms_per_customer"] = round(1000 * r["cpu_seconds"] / max(r["customers"] or 1, 1), 4)
    print(f"    {r['customers']:,} customers: {r['customers'] / r['seconds']:,.0f} customers/s "
          f"({r['customers'] / r['seconds'] / workers:,.0f} per worker), {r['cpu_ms_per_customer']} ms CPU per "
          f"customer; worker peak {r['worker_peak_gb']} GB")
    return r


def partition_stats(out: Path) -> dict:
    """Per-partition figures from the status files: the worker's peak RSS after each partition (flat in
    the size of the book when memory is bounded) and the median seconds of each phase."""
    records = [json.loads(p.read_text()) for p in sorted((out / "_status").glob("*.json"))]
    done = [r for r in records if r.get("status") == "ok"]
    if not done:
        return {"done": 0}
    peaks = [r["peak_rss_mb"] for r in done]
    return {"done": len(done), "customers": sum(r["customers"] for r in done),
            "lots": sum(r["lots"] for r in done),
            "worker_peak_mb": {"min": min(peaks), "median": statistics.median(peaks), "max": max(peaks)},
            "median_seconds": {k: statistics.median(r["seconds"][k] for r in done)
                               for k in ("context", "read", "run", "write")}}


def step_run(args, work: Path, results: dict) -> None:
    print(f"\n# the {args.customers:,}-customer book on a local Dask cluster of 2 workers")
    for job in args.jobs:
        results[f"run_{job}"] = nightly(args, work / "book", work / f"out-{job}", job, 2, f"{job}, 2 workers")


def step_compare(args, work: Path, results: dict) -> None:
    n = args.compare
    print(f"\n# {n:,} customers: the in-memory path vs partitions on 1 and 2 workers")
    flat, book = work / "flat", work / "book-compare"
    for path in (flat, book):
        if path.exists():
            shutil.rmtree(path)
    run(advisor("demo-data", "customers", "--n", str(n), "--seed", "2", "--out", str(flat), "--as-of", AS_OF,
                "--mean-holdings", "8", *data_args(args), "--json"), label="generate flat files")
    run(advisor("nightly", "partition", "--customers", str(flat / "customers.parquet"), "--holdings",
                str(flat / "holdings.parquet"), "--out", str(book), "--json"), label="partition the flat files")
    out = results.setdefault("compare", {})
    for job in args.jobs:
        if job == "health_check":
            cmd = advisor("diagnose", "--customers", str(flat / "customers.parquet"), "--holdings",
                          str(flat / "holdings.parquet"), "--out", str(work / "inmem-report.parquet"), "--as-of",
                          AS_OF, *data_args(args), "--json")
        else:
            cmd = advisor("rebalance", "--customers", str(flat / "customers.parquet"), "--holdings",
                          str(flat / "holdings.parquet"), "--out", str(work / "inmem-trades.parquet"), "--as-of",
                          AS_OF, *data_args(args), "--json")
        inmem = run(cmd, label=f"{job}: in-memory path (whole book, both cores)")
        one = nightly(args, book, work / f"cmp-{job}-1", job, 1, f"{job}: partitions, 1 worker")
        two = nightly(args, book, work / f"cmp-{job}-2", job, 2, f"{job}: partitions, 2 workers")
        out[job] = {"in_memory": inmem, "workers_1": one, "workers_2": two,
                    "speedup_2_vs_1": round(one["seconds"] / two["seconds"], 2),
                    "wall_vs_in_memory": round(inmem["seconds"] / two["seconds"], 2),
                    "cpu_vs_in_memory": round(inmem["cpu_seconds"] / two["cpu_seconds"], 2)}
        print(f"    2 vs 1 worker: {out[job]['speedup_2_vs_1']}× faster; partitions on 2 workers vs the in-memory path "
              f"on 2 cores: wall {out[job]['wall_vs_in_memory']}×, CPU (throughput per core) "
              f"{out[job]['cpu_vs_in_memory']}×")


def step_cold(args, work: Path, results: dict) -> None:
    print("\n# cold starts: a one-shot CLI command and a worker, without and with the context cache")
    data = args.canonical or args.data
    empty = Path(tempfile.mkdtemp(prefix="no-cache-"))
    cache = work / "cache"
    if cache.exists():
        shutil.rmtree(cache)
    propose = advisor("propose", "--level", "C3", "--amount", "100000", "--horizon-years", "3", "--json",
                      *(["--data", str(data)] if data else []))
    worker = [sys.executable, "-c", "import sys; from benchmarks.bench_nightly import ready_worker; "
                                    f"ready_worker({str(data)!r} if {bool(data)} else None)"]
    out = results.setdefault("cold", {})
    def timed(cmd: list[str], cache_dir: Path, label: str, times: int) -> list[list[float]]:
        """[wall, CPU] seconds of each run: on the shared machine CPU seconds are the steady figure."""
        runs = [run(cmd, {"ADVISOR_CACHE_DIR": str(cache_dir)}, label) for _ in range(times)]
        return [[r["seconds"], r["cpu_seconds"]] for r in runs]

    out["propose_without"] = timed(propose, empty, "propose, no cache", 2)
    out["worker_without"] = timed(worker, empty, "worker ready, no cache", 2)
    build = run(advisor("cache", "build", "--json", *(["--data", str(data)] if data else [])),
                {"ADVISOR_CACHE_DIR": str(cache)}, "advisor cache build")
    out["build"] = build["seconds"]
    out["cache_mb"] = round(json_tail(build["stdout"]).get("bytes", 0) / 1e6, 1)
    out["propose_with"] = timed(propose, cache, "propose, from the cache", 5)
    out["worker_with"] = timed(worker, cache, "worker ready, from the cache", 5)
    for key in ("propose_without", "worker_without", "propose_with", "worker_with"):
        wall = statistics.median(w for w, _ in out[key])
        cpu = statistics.median(c for _, c in out[key])
        print(f"    {key}: median {wall:.2f} s wall, {cpu:.2f} s CPU (runs {out[key]})")
    shutil.rmtree(empty, ignore_errors=True)


def ready_worker(data: str | None) -> None:
    """What a worker does before its first partition: the universe, the health check's context and the
    rebalancing targets of every group — from the cache when there is one, else built."""
    from advisor.context_cache import warm_universe
    from advisor.diagnosis import diagnosis_context
    from advisor.proposal import target_fund_weights

    universe = warm_universe(data)
    diagnosis_context(universe)
    for level in range(1, 6):
        for years in (0.5, 2.0, 5.0):
            target_fund_weights(universe, level, years)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=200)
    parser.add_argument("--compare", type=int, default=1_000_000, help="customers of the per-core comparison")
    parser.add_argument("--data", type=Path, default=None, help="universe for the runs (default: demo)")
    parser.add_argument("--canonical", type=Path, default=None, help="canonical real data for the cold starts")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-nightly")
    parser.add_argument("--steps", default="generate,run,compare,cold")
    parser.add_argument("--jobs", default="health_check,rebalance")
    args = parser.parse_args()
    args.jobs = [j for j in args.jobs.split(",") if j]
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 1e9:.0f} GB; load {load()}; "
          f"work dir {args.work}")
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "customers": args.customers}
    steps = {"generate": step_generate, "run": step_run, "compare": step_compare, "cold": step_cold}
    env_cache = args.work / "run-cache"
    os.environ.setdefault("ADVISOR_CACHE_DIR", str(env_cache))
    for name in args.steps.split(","):
        steps[name](args, args.work, results)
        for value in results.values():
            if isinstance(value, dict):
                value.pop("stdout", None)
        (args.work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults: {args.work / 'results.json'}")


if __name__ == "__main__":
    main()
