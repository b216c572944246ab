"""The RM workspace: page times and weight, and the PDF report by WeasyPrint beside headless Chromium.

In one run, on the demo universe with a seeded book of clients:

* worklist and client-review pages through the app (median of `--repeat` requests after one warm-up):
  server time, HTML bytes and gzip bytes, the static files they load, and the charts' share of both;
* the report PDF: ours (`/report.pdf`, WeasyPrint in-process) beside what a developer would otherwise pick,
  headless Chromium printing the same report HTML — started per request (`chromium --print-to-pdf`) and
  kept warm (Playwright `page.pdf()` on a running browser); the page HTML is built once and shared;
* page weight against a client-side chart library: the ECharts bundle a page would have to load
  (`--echarts PATH` to its `echarts.min.js`, measured from the npm package; else the size recorded below).

    python benchmarks/bench_rm_pages.py [--clients 40] [--repeat 5]

The machine has 2 cores shared with other work: record `uptime` with the numbers.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

ECHARTS_MIN_JS_BYTES = 1_121_883  # echarts 6.1.0 dist/echarts.min.js (npm pack), 368,997 bytes gzipped
ECHARTS_MIN_JS_GZIP = 368_997


def seed(client, ops: dict[str, str], n: int, customer) -> list[str]:
    funds = client.get("/v1/funds?limit=200", headers=ops).json()["items"]
    qn = client.get("/v1/risk/questionnaire", headers=ops).json()
    ids = []
    for i in range(n):
        cid = f"bench-{i:04d}"
        pick = "ABCDE"[i % 5]
        answers = {q["id"]: pick if pick in [o["id"] for o in q["options"]] else q["options"][-1]["id"]
                   for q in qn["questions"]}
        client.put(f"/v1/customers/{cid}", headers=ops, json={"rm_ids": ["bench-rm"], "age": 30 + i % 40,
                                                              "cash": 10_000 * (i % 7), "horizon_years": 1 + i % 5})
        client.post(f"/v1/customers/{cid}/risk-assessments", headers=customer(cid), json={"answers": answers})
        lots = [{"code": funds[(i * 7 + k * 13) % len(funds)]["code"], "amount": 10_000 + 5_000 * k,
                 "purchase_date": f"202{3 + k % 3}-0{1 + k}-15"} for k in range(1 + i % 5)]
        client.put(f"/v1/customers/{cid}/holdings", headers=ops, json={"holdings": lots})
        ids.append(cid)
    return ids


def bulk_book(state, template_id: str, n: int, rm_id: str) -> None:
    """`n` more clients for `rm_id`, copies of one seeded client (its assessment and lots), written in bulk."""
    from api import repositories
    from api.models import Customer, Holding, RiskAssessment, RmAssignment

    with state.sessions() as session:
        assessment = repositories.latest_assessment(session, template_id)
        lots = repositories.holdings_of(session, [template_id])
        now = repositories.utcnow()
        for i in range(n):
            cid = f"bulk-{i:06d}"
            session.add(Customer(id=cid, age=40 + i % 30, cash=5_000.0 * (i % 9), deposits=0.0, wealth_products=0.0,
                                 insurance=0.0, horizon_years=1 + i % 5, created_at=now, updated_at=now))
            session.add(RmAssignment(rm_id=rm_id, customer_id=cid, created_at=now))
            session.add(RiskAssessment(id=repositories.new_id(), customer_id=cid, level=1 + i % 5,
                                       score=assessment.score, lowest_category=False, assessed_at=now,
                                       expires_on=assessment.expires_on, questionnaire_version="v1",
                                       answers={}, facts={}, result={}, created_by_role="ops", created_by="bench",
                                       created_at=now))
            for lot in lots:
                session.add(Holding(customer_id=cid, code=lot.code, shares=lot.shares,
                                    amount=(lot.amount or 0.0) * (1 + i % 4), purchase_date=lot.purchase_date))
        session.commit()


def timed(call, repeat: int) -> tuple[float, object]:
    call()
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--book", type=int, default=2000, help="a second RM's book size for the worklist at scale")
    parser.add_argument("--echarts", type=Path, default=None, help="path to echarts.min.js to measure")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import Role, mint_token
    from api.settings import Settings
    from api.web import charts
    from products.demo import demo_universe

    print(f"load average before: {os.getloadavg()}")
    folder = Path(tempfile.mkdtemp(prefix="bench-rm-"))
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.db'}", demo=True,
                        jwt_secret="bench-secret-0123456789abcdef0123456789", warm_up=True)
    app = create_app(settings, universe=demo_universe())
    with TestClient(app) as client:
        ops = {"Authorization": f"Bearer {mint_token(settings, Role.OPS, 'bench-ops')}"}
        rm = {"Authorization": f"Bearer {mint_token(settings, Role.RM, 'bench-rm')}"}
        ids = seed(client, ops, args.clients,
                   lambda cid: {"Authorization": f"Bearer {mint_token(settings, Role.CUSTOMER, cid)}"})
        richest = max(ids, key=lambda c: len(client.get(f"/v1/customers/{c}/holdings", headers=ops).json()["holdings"]))

        print(f"\n== pages ({args.clients} clients, median of {args.repeat}) ==")
        t_api, _ = timed(lambda: client.get("/v1/rm/clients?limit=500", headers=rm), args.repeat)
        t_list, page = timed(lambda: client.get("/rm", headers=rm), args.repeat)
        print(f"worklist JSON (GET /v1/rm/clients)   {t_api * 1000:8.0f} ms")
        print(f"worklist page (/rm)                  {t_list * 1000:8.0f} ms  {len(page.content):>9,} B "
              f"({len(gzip.compress(page.content)):,} B gzip)")
        t_diag, _ = timed(lambda: client.post(f"/v1/customers/{richest}/diagnosis", headers=rm, json={}), args.repeat)
        t_page, page = timed(lambda: client.get(f"/rm/clients/{richest}", headers=rm), args.repeat)
        html = page.content
        svg_bytes = sum(len(s) for s in page.text.split("<svg")[1:])
        print(f"health check JSON (one client)       {t_diag * 1000:8.0f} ms")
        print(f"client review page ({richest})     {t_page * 1000:8.0f} ms  {len(html):>9,} B "
              f"({len(gzip.compress(html)):,} B gzip); charts {svg_bytes:,} B")
        static = sum(len(client.get(p).content) for p in ("/rm/static/app.css", "/rm/static/app.js"))
        print(f"static files loaded by every page    {static:>20,} B (cached by the browser)")
        echarts = args.echarts.stat().st_size if args.echarts else ECHARTS_MIN_JS_BYTES
        echarts_gz = len(gzip.compress(args.echarts.read_bytes())) if args.echarts else ECHARTS_MIN_JS_GZIP
        print(f"ECharts bundle a client-side page would add: {echarts:,} B ({echarts_gz:,} B gzip) "
              f"= {echarts_gz / len(gzip.compress(html)):.1f}x this page's gzip weight")

        from api.web.i18n import translator
        from api.web.review import build_review
        from api.web.views import review_charts

        state = app.state.advisor
        with state.sessions() as session:
            t_review, review = timed(lambda: build_review(state, session, richest, date.today()), args.repeat)
        from api.web import views

        def draw_fresh() -> dict[str, str]:
            views._CHARTS.clear()  # time the drawing, not the cache
            return review_charts(review, translator("zh"))

        t_charts, drawn = timed(draw_fresh, args.repeat)
        t_cached, _ = timed(lambda: review_charts(review, translator("zh")), args.repeat)
        print(f"  of which: review data {t_review * 1000:.0f} ms, {len(drawn)} charts {t_charts * 1000:.0f} ms drawn "
              f"({t_charts / max(len(drawn), 1) * 1000:.0f} ms each, matplotlib {charts.matplotlib.__version__}), "
              f"{t_cached * 1000:.1f} ms from the cache")

        if args.book:
            bulk_book(state, richest, args.book, "bench-big-rm")
            big = {"Authorization": f"Bearer {mint_token(settings, Role.RM, 'bench-big-rm')}"}
            from api.worklist import flag_cache

            cache = flag_cache(state)

            def cold(path: str):
                cache._items.clear()  # every client checked again, as after new data or on a new day
                return client.get(path, headers=big)

            t_cold_api, _ = timed(lambda: cold("/v1/rm/clients?limit=200"), max(1, args.repeat // 2))
            t_big_api, _ = timed(lambda: client.get("/v1/rm/clients?limit=200", headers=big), args.repeat)
            t_big, page = timed(lambda: client.get("/rm", headers=big), args.repeat)
            print(f"worklist of {args.book:,} clients: first request of the day (no cached flags) JSON "
                  f"{t_cold_api * 1000:.0f} ms; then JSON {t_big_api * 1000:.0f} ms, page {t_big * 1000:.0f} ms "
                  f"({len(page.content):,} B, 50 a page)")
            with state.sessions() as session:
                from api.worklist import worklist

                t_core, _ = timed(lambda: worklist(state, session, "bench-big-rm"), args.repeat)
            print(f"  of which the worklist function (storage reads + cached flags): {t_core * 1000:.0f} ms")

        print("\n== report PDF ==")
        t_ours, pdf = timed(lambda: client.get(f"/rm/clients/{richest}/report.pdf", headers=rm), args.repeat)
        report_html = client.get(f"/rm/clients/{richest}/report", headers=rm).text
        print(f"ours: WeasyPrint, whole request      {t_ours * 1000:8.0f} ms  {len(pdf.content):>9,} B")
        from api.web.pdf import html_to_pdf

        t_weasy, _ = timed(lambda: html_to_pdf(report_html, "bench"), args.repeat)
        print(f"ours: WeasyPrint, HTML -> PDF only   {t_weasy * 1000:8.0f} ms")
        chromium = shutil.which("chromium")
        if chromium is None:
            print("chromium not installed (bash scripts/browser.sh): no side-by-side")
            return
        source = folder / "report.html"
        source.write_text(report_html, encoding="utf-8")
        target = folder / "chromium.pdf"

        def cold() -> int:
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                            f"--print-to-pdf={target}", source.as_uri()], check=True, capture_output=True)
            return target.stat().st_size

        t_cold, size = timed(cold, args.repeat)
        print(f"Chromium started per request         {t_cold * 1000:8.0f} ms  {size:>9,} B  "
              f"({t_cold / t_weasy:.2f}x ours)")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()

            def warm() -> int:
                page.set_content(report_html, wait_until="load")
                return len(page.pdf(format="A4", print_background=True))

            t_warm, size = timed(warm, args.repeat)
            browser.close()
        print(f"Chromium kept warm (Playwright)      {t_warm * 1000:8.0f} ms  {size:>9,} B  "
              f"({t_warm / t_weasy:.2f}x ours)")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
