"""The RM pages in a real browser: Debian's Chromium driven by Playwright against a live uvicorn.

Every page loads at a phone and a desktop width without console errors or failed requests, the charts
are drawn (not blank) on screen and in print, the worklist's order is the API's, another RM's client is a
404, and the report downloads as a PDF. Screenshots of every page (and the PDF's pages) are written to
`build/screenshots/` (or `ADVISOR_SCREENSHOT_DIR`), which git ignores, for a person to look at.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.auth import Role, mint_token
from api.settings import Settings
from tests.api.conftest import insert_expired_assessment
from tests.api.live_server import REPO, LiveServer
from tests.api.rm_book import RM, Book, pdf_text, require_tool, seed_book

SECRET = "browser-test-secret-0123456789abcdef0123"
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = Path(os.environ.get("ADVISOR_SCREENSHOT_DIR") or REPO / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[LiveServer, str]]:
    folder = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{folder / 'advisor.db'}"
    live = LiveServer(db_url, SECRET, folder / "server.log")
    live.start()
    yield live, db_url
    live.kill()


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(jwt_secret=SECRET, demo=True)


@pytest.fixture(scope="module")
def book(server, settings) -> Book:
    live, db_url = server
    ops = {"Authorization": f"Bearer {mint_token(settings, Role.OPS, 'ops-browser')}"}
    with httpx.Client(base_url=live.url, timeout=120) as client:
        return seed_book(client, ops, "br", lambda cid: insert_expired_assessment(db_url, cid),
                         lambda cid: {"Authorization": f"Bearer {mint_token(settings, Role.CUSTOMER, cid)}"})


@pytest.fixture(scope="module")
def browser():
    executable = require_tool("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed (pip install -e '.[dev]')")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def rm_token(settings) -> str:
    return mint_token(settings, Role.RM, RM)


class Watched:
    """A page whose console errors, uncaught exceptions and failed requests are collected."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.expect_error = False
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 and not self.expect_error else None)

    def _failed(self, request) -> None:
        """A request that failed; one the browser cancelled because the page moved on (the favicon of a page
        left before it arrived, under load) is no fault of the page."""
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:
            self.problems.append(f"request failed ({failure}): {request.url}")


def signed_in(browser, live: LiveServer, token: str, width: str):
    """A browser context signed in through the login form, as an RM would."""
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, base_url=live.url, locale="zh-CN")
    watched = Watched(context.new_page())
    page = watched.page
    page.goto("/rm")
    assert "/rm/login" in page.url
    page.fill("textarea[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/rm")
    return context, watched


def assert_charts_drawn(page, names: set[str]) -> None:
    """Each chart has a real size on the page and its pixels are not one flat colour."""
    from PIL import Image

    drawn = set()
    for chart in page.query_selector_all("svg.chart"):
        box = chart.bounding_box()
        name = chart.get_attribute("data-chart")
        assert box is not None and box["width"] > 150 and box["height"] > 80, (name, box)
        pixels = Image.open(io.BytesIO(chart.screenshot())).convert("RGB").resize((64, 32))
        assert len(pixels.getcolors(maxcolors=64 * 32)) > 8, f"chart {name} looks blank"
        drawn.add(name)
    assert drawn == names


def test_worklist_in_the_browser_matches_the_api(browser, server, book, rm_token):
    live, _ = server
    context, watched = signed_in(browser, live, rm_token, "desktop")
    rows = watched.page.eval_on_selector_all("#worklist tbody tr", "rows => rows.map(r => r.dataset.customer)")
    api = httpx.get(f"{live.url}/v1/rm/clients", headers={"Authorization": f"Bearer {rm_token}"}).json()
    assert rows == [c["customer_id"] for c in api["items"]]
    watched.page.select_option("select[name=flag]", "risk_mismatch")  # filters submit on change (app.js)
    watched.page.wait_for_url("**flag=risk_mismatch**")
    filtered = watched.page.eval_on_selector_all("#worklist tbody tr", "rows => rows.map(r => r.dataset.customer)")
    assert book.mismatch in filtered and book.calm not in filtered
    assert watched.problems == []
    context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_renders_cleanly(browser, server, book, rm_token, screenshots, width):
    live, _ = server
    context, watched = signed_in(browser, live, rm_token, width)
    page = watched.page
    all_charts = {"allocation", "industries", "style", "value", "record"}
    pages = [
        ("worklist", "/rm", set()),
        ("client-mixed", f"/rm/clients/{book.mixed}", all_charts),
        ("client-mismatch", f"/rm/clients/{book.mismatch}", all_charts),
        ("client-expired", f"/rm/clients/{book.expired}", {"allocation", "industries", "style", "value"}),
        ("client-never", f"/rm/clients/{book.never}", set()),
        ("client-mixed-en", f"/rm/clients/{book.mixed}?lang=en", all_charts),
        ("report-checkup", f"/rm/clients/{book.mixed}/report?lang=zh", all_charts),
        ("report-proposal", f"/rm/clients/{book.calm}/report?kind=proposal", {"record", "allocation", "style",
                                                                            "value"}),
    ]
    for name, path, charts in pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        page.wait_for_load_state("load")
        if charts:
            assert_charts_drawn(page, charts)
        page.screenshot(path=str(screenshots / f"{name}-{width}.png"), full_page=True)
    assert watched.problems == []
    context.close()


def test_charts_survive_printing(browser, server, book, rm_token, screenshots):
    live, _ = server
    context, watched = signed_in(browser, live, rm_token, "desktop")
    page = watched.page
    page.goto(f"/rm/clients/{book.mixed}")
    page.emulate_media(media="print")
    assert page.eval_on_selector(".topbar", "el => getComputedStyle(el).display") == "none"
    assert_charts_drawn(page, {"allocation", "industries", "style", "value", "record"})
    page.screenshot(path=str(screenshots / "client-mixed-print.png"), full_page=True)
    assert watched.problems == []
    context.close()


def test_foreign_client_is_not_found(browser, server, book, rm_token):
    live, _ = server
    context, watched = signed_in(browser, live, rm_token, "phone")
    watched.expect_error = True
    response = watched.page.goto(f"/rm/clients/{book.foreign}")
    assert response is not None and response.status == 404
    assert book.foreign not in watched.page.inner_text("main")
    context.close()


def test_report_pdf_downloads_from_the_page(browser, server, book, rm_token, screenshots, tmp_path):
    live, _ = server
    context, watched = signed_in(browser, live, rm_token, "desktop")
    page = watched.page
    page.goto(f"/rm/clients/{book.mixed}")
    href = page.get_attribute("a[href*='report.pdf?kind=checkup']", "href")
    response = context.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pages, text = pdf_text(response.body(), tmp_path)
    assert pages >= 4 and "财富体检报告" in text and "风险提示" in text
    target = screenshots / "report-checkup.pdf"
    target.write_bytes(response.body())
    subprocess.run([require_tool("pdftoppm"), "-r", "60", "-png", str(target),
                    str(screenshots / "report-checkup-page")], check=True)
    context.close()
