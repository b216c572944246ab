"""The proposal endpoint under concurrent load on uvicorn, beside a FastAPI + PyPortfolioOpt baseline.

Both servers run as uvicorn subprocesses on 127.0.0.1 (one worker each, one at a time) and get the same
load: `wrk` (Debian package `wrk`) when installed, else an asyncio keep-alive HTTP client in this process.
Request count and time are bounded (`--duration`, `--max-requests`). Amounts vary per request
(1,000–500,000 yuan, three horizons), so no two consecutive requests are alike.

* ours: `POST /v1/customers/{id}/proposals` — JWT check, the customer's stored assessment, the core's
  compiled proposal (`advisor.proposal.propose`), the proposal appended to SQLite, JSON answer.
* baseline: `POST /baseline/proposals` — what a developer would write first: FastAPI + PyPortfolioOpt,
  estimates (`mean_historical_return`, Ledoit–Wolf) prepared once at start-up, but per request an
  `EfficientFrontier` over the funds the level may hold, `efficient_risk` at the level's volatility and a
  `DiscreteAllocation` of the amount. No storage, no auth: it is the lower bound of that approach.

    python benchmarks/bench_api.py [--duration 10] [--connections 8] [--workers 2] [--max-requests 20000]

The machine has 2 cores shared by the server, the load generator and whatever else runs: say so when
recording numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789abcdef0123456789"
CUSTOMER = "bench-customer"
LEVEL_VOL = {1: 0.02, 2: 0.05, 3: 0.09, 4: 0.14, 5: 0.20}

class BaselineBody(BaseModel):
    amount: float = Field(gt=0)
    horizon_years: float = Field(gt=0)
    level: int = Field(3, ge=1, le=5)


# --------------------------------------------------------------------------------------------------
# baseline app (imported by the uvicorn subprocess as `bench_api:baseline_app`)
# --------------------------------------------------------------------------------------------------


def make_baseline_app():
    from fastapi import FastAPI
    from pypfopt import DiscreteAllocation, EfficientFrontier, expected_returns, risk_models

    from products.loading import load_universe

    universe = load_universe(os.environ.get("ADVISOR_DATA_DIR") or None)
    prices = universe.total_return_index().ffill().dropna(axis=1, how="all").iloc[-756:]
    prices = prices.loc[:, prices.notna().all()]
    mu_all = expected_returns.mean_historical_return(prices)
    cov_all = risk_models.CovarianceShrinkage(prices).ledoit_wolf()
    levels = universe.funds["risk_level"].reindex(prices.columns).astype(int)
    latest = prices.iloc[-1]
    app = FastAPI()

    @app.post("/baseline/proposals")
    def baseline(body: BaselineBody) -> dict:
        codes = levels.index[levels <= body.level]
        ef = EfficientFrontier(mu_all[codes], cov_all.loc[codes, codes], weight_bounds=(0, 0.3))
        try:
            ef.efficient_risk(LEVEL_VOL[body.level])
        except Exception:
            ef = EfficientFrontier(mu_all[codes], cov_all.loc[codes, codes], weight_bounds=(0, 0.3))
            ef.min_volatility()
        weights = ef.clean_weights()
        allocation, leftover = DiscreteAllocation(weights, latest[codes] * 1000, body.amount).greedy_portfolio()
        return {"weights": {k: v for k, v in weights.items() if v > 0}, "lots": allocation, "leftover": leftover}

    return app


if os.environ.get("BENCH_API_BASELINE") == "1":
    baseline_app = make_baseline_app()

# --------------------------------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: list[str], env: dict[str, str], ready_path: str, log: Path) -> tuple[subprocess.Popen, int]:
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", *args, "--host", "127.0.0.1", "--port", str(port),
                                "--log-level", "warning", "--no-access-log"],
                               cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status_code < 500:
                return process, port
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("server did not start")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


# --------------------------------------------------------------------------------------------------
# load generators
# --------------------------------------------------------------------------------------------------

WRK_SCRIPT = """
math.randomseed(7)
local horizons = {0.5, 3, 8}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%s
request = function()
  local amount = math.random(10, 5000) * 100
  local body = string.format('{"amount": %%d, "horizon_years": %%s%%s}', amount, horizons[math.random(1, 3)], "%s")
  return wrk.format(nil, "%s", nil, body)
end
"""


def run_wrk(port: int, path: str, headers: dict[str, str], extra_json: str, duration: float,
            connections: int) -> dict:
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT % (header_lines, extra_json, path))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--timeout", "60s", "--latency",
               "-s", str(script), f"http://127.0.0.1:{port}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120).stdout
    script.unlink()

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, flags=re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"tool": "wrk", "requests": total, "errors": errors, "rps": rps, "p50_ms": ms("50"),
            "p99_ms": ms("99"), "raw": out}


async def _asyncio_load(port: int, path: str, headers: dict[str, str], extra: dict, duration: float,
                        connections: int, max_requests: int) -> dict:
    rng = random.Random(7)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline and len(latencies) < max_requests:
            body = json.dumps({"amount": rng.randint(10, 5000) * 100, "horizon_years": rng.choice([0.5, 3, 8]),
                               **extra}).encode()
            request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{head}"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            start = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not status_line.split()[1].startswith(b"2"):
                errors += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    lat = np.array(latencies) * 1000
    return {"tool": "asyncio", "requests": len(lat), "errors": errors, "rps": len(lat) / elapsed,
            "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99))}


def load(port: int, path: str, headers: dict[str, str], extra: dict, args: argparse.Namespace) -> dict:
    if shutil.which("wrk") and not args.asyncio:
        extra_json = "".join(f', "{k}": {json.dumps(v)}' for k, v in extra.items()).replace('"', '\\"')
        return run_wrk(port, path, headers, extra_json, args.duration, args.connections)
    return asyncio.run(_asyncio_load(port, path, headers, extra, args.duration, args.connections,
                                     args.max_requests))


# --------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=20_000, help="asyncio client: cap on requests")
    parser.add_argument("--asyncio", action="store_true", help="use the asyncio client even if wrk exists")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers for both servers (one per core)")
    args = parser.parse_args()

    import httpx

    sys.path.insert(0, str(REPO))
    from api.auth import mint_token
    from api.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench_api_"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    if os.environ.get("ADVISOR_DATA_DIR"):
        base_env["ADVISOR_DATA_DIR"] = os.environ["ADVISOR_DATA_DIR"]
    base_env["PYTHONPATH"] = str(REPO)
    results = {}

    env = {**base_env, "ADVISOR_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "ADVISOR_JWT_SECRET": SECRET}
    workers = ["--workers", str(args.workers)]
    process, port = start_server(["api.app:create_app", "--factory", *workers], env, "/ready", tmp / "ours.log")
    try:
        settings = Settings(jwt_secret=SECRET, database_url="sqlite://")
        auth = {"Authorization": f"Bearer {mint_token(settings, 'customer', CUSTOMER, 120)}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=60) as http:
            qn = http.get("/v1/risk/questionnaire").json()
            answers = {q["id"]: q["options"][min(2, len(q["options"]) - 1)]["id"] for q in qn["questions"]}
            level = http.post(f"/v1/customers/{CUSTOMER}/risk-assessments", json={"answers": answers}).json()["level"]
            for _ in range(50):  # warm the connection pool and caches
                http.post(f"/v1/customers/{CUSTOMER}/proposals", json={"amount": 100_000, "horizon_years": 3})
        results["ours"] = load(port, f"/v1/customers/{CUSTOMER}/proposals", auth, {}, args)
        results["ours"]["level"] = level
    finally:
        stop(process)

    env = {**base_env, "BENCH_API_BASELINE": "1"}
    process, port = start_server(["--app-dir", str(REPO / "benchmarks"), "bench_api:baseline_app", *workers], env,
                                 "/docs",
                                 tmp / "baseline.log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for _ in range(5):
                http.post("/baseline/proposals", json={"amount": 100_000, "horizon_years": 3, "level": int(level[1])})
        results["baseline"] = load(port, "/baseline/proposals", {}, {"level": int(level[1])}, args)
    finally:
        stop(process)

    print(f"\nload: {results['ours']['tool']}, {args.connections} connections, {args.duration:.0f} s per server, "
          f"{args.workers} uvicorn worker(s) each, customer level {level}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'server':<44}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    names = {"ours": "ours: POST /v1/customers/{id}/proposals",
             "baseline": "baseline: FastAPI + PyPortfolioOpt per request"}
    for key in ("ours", "baseline"):
        r = results[key]
        print(f"{names[key]:<44}{r['requests']:>10}{r['errors']:>8}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}"
              f"{r['p99_ms']:>9.1f}")
    ratio = results["ours"]["rps"] / max(results["baseline"]["rps"], 1e-9)
    ok = results["ours"]["rps"] >= 500 and results["ours"]["p99_ms"] <= 50 and results["ours"]["errors"] == 0
    print(f"throughput ratio ours / baseline: {ratio:.1f}×; target ≥ 500 req/s, p99 ≤ 50 ms, no errors: "
          f"{'met' if ok else 'NOT met'}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
