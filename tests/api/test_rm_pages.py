"""The RM pages over HTTP: sessions and roles, the worklist against the API, the review's content, the PDF.

The pages must show what the JSON routes compute (same core functions), never another RM's client, and no
strategy without a valid assessment. The browser itself is exercised in `test_browser.py`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

from api.auth import Role
from api.web.session import SESSION_COOKIE
from tests.api.conftest import insert_expired_assessment
from tests.api.rm_book import OTHER_RM, RM, pdf_text, seed_book

SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    """Pages read through the same repositories as the API (covered on both databases); SQLite keeps it quick."""
    return f"sqlite:///{tmp_path_factory.mktemp('pages') / 'advisor.db'}"


@pytest.fixture(scope="module")
def book(client, tokens, db_url):
    return seed_book(client, tokens.ops(), "pg", lambda cid: insert_expired_assessment(db_url, cid), tokens.customer)


@pytest.fixture(scope="module")
def rm(tokens):
    return tokens.rm(RM)


class _Text(HTMLParser):
    """Visible text of a page (scripts, styles and charts' SVG left out) and the order of rows."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.rows: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "svg"):
            self._skip += 1
        values = dict(attrs)
        if tag == "tr" and "data-customer" in values:
            self.rows.append(str(values["data-customer"]))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


# --- sessions and roles -------------------------------------------------------------------------------

def test_a_page_without_a_session_asks_to_sign_in(client, book):
    response = client.get("/rm/clients/" + book.calm, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/rm/login?next=%2Frm%2Fclients%2F{book.calm}"
    login = client.get(response.headers["location"])
    assert login.status_code == 200 and 'name="token"' in login.text


def test_login_sets_a_session_that_ends_with_the_token(client, tokens, settings, book):
    from api.auth import mint_token

    token = mint_token(settings, Role.RM, RM, ttl_minutes=30)
    response = client.post("/rm/login", data={"token": f"Bearer {token}", "next": f"/rm/clients/{book.calm}"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/rm/clients/{book.calm}"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))
    assert 29 * 60 <= max_age <= 30 * 60
    page = client.get(f"/rm/clients/{book.calm}", cookies={SESSION_COOKIE: token})
    assert page.status_code == 200 and book.calm in page.text
    out = client.post("/rm/logout", cookies={SESSION_COOKIE: token}, follow_redirects=False)
    assert out.status_code == 303 and f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]


def test_an_expired_session_goes_back_to_login(client, settings):
    from api.auth import mint_token

    stale = mint_token(settings, Role.RM, RM, ttl_minutes=-1)
    response = client.get("/rm", cookies={SESSION_COOKIE: stale}, follow_redirects=False)
    assert response.status_code == 303 and "reason=token_expired" in response.headers["location"]
    assert "会话已过期" in client.get(response.headers["location"]).text


def test_login_refuses_bad_tokens_customers_and_foreign_redirects(client, tokens, settings):
    from api.auth import mint_token

    assert client.post("/rm/login", data={"token": "not-a-token"}).status_code == 401
    customer = mint_token(settings, Role.CUSTOMER, "pg-calm")
    refused = client.post("/rm/login", data={"token": customer})
    assert refused.status_code == 403 and SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    rm_token = mint_token(settings, Role.RM, RM)
    for target in ("//evil.example/rm", "https://evil.example/", "/v1/rm/clients"):
        response = client.post("/rm/login", data={"token": rm_token, "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/rm"
    cross_site = client.post("/rm/login", data={"token": rm_token}, headers={"Origin": "https://evil.example"},
                             follow_redirects=False)
    assert cross_site.status_code == 403


def test_customers_may_not_open_the_workspace(client, tokens, book):
    response = client.get("/rm", headers=tokens.customer(book.calm))
    assert response.status_code == 403 and "text/html" in response.headers["content-type"]


def test_an_rm_never_sees_another_rms_client(client, rm, book):
    foreign = client.get(f"/rm/clients/{book.foreign}", headers=rm)
    missing = client.get("/rm/clients/pg-does-not-exist", headers=rm)
    assert foreign.status_code == 404 and missing.status_code == 404
    assert visible(foreign.text).parts == visible(missing.text).parts  # no hint whether the client exists
    for path in ("/report", "/report.pdf"):
        assert client.get(f"/rm/clients/{book.foreign}{path}", headers=rm).status_code == 404
    assert book.foreign not in client.get("/rm", headers=rm).text


def test_ops_name_the_rm_and_may_open_any_client(client, tokens, book):
    ops = tokens.ops()
    assert "rm_id" in client.get("/rm", headers=ops).text
    listed = visible(client.get(f"/rm?rm_id={OTHER_RM}", headers=ops).text).rows
    assert listed == [book.foreign]
    assert client.get(f"/rm/clients/{book.foreign}", headers=ops).status_code == 200


# --- worklist -----------------------------------------------------------------------------------------

def test_worklist_order_is_the_apis(client, rm, book):
    api = [c["customer_id"] for c in client.get("/v1/rm/clients", headers=rm).json()["items"]]
    page = visible(client.get("/rm", headers=rm).text).rows
    assert page == api
    assert set(page) == {book.calm, book.mismatch, book.mixed, book.expired, book.never}
    assert page.index(book.never) < page.index(book.calm) and page.index(book.mismatch) < page.index(book.calm)


def test_worklist_filters_and_search(client, rm, book):
    api = {c["customer_id"]: c for c in client.get("/v1/rm/clients", headers=rm).json()["items"]}
    mismatched = visible(client.get("/rm?flag=risk_mismatch", headers=rm).text).rows
    assert mismatched and all("risk_mismatch" in api[c]["flags"] for c in mismatched)
    assert book.mismatch in mismatched and book.calm not in mismatched
    assert visible(client.get("/rm?q=MIXED", headers=rm).text).rows == [book.mixed]
    level = api[book.calm]["level"]
    assert set(visible(client.get(f"/rm?level={level}", headers=rm).text).rows) == {
        c for c, v in api.items() if v["level"] == level}


# --- client review ------------------------------------------------------------------------------------

def test_review_shows_the_apis_health_check_and_plan(client, rm, book):
    page = client.get(f"/rm/clients/{book.mismatch}", headers=rm)
    assert page.status_code == 200
    text = " ".join(visible(page.text).parts)
    diagnosis = client.post(f"/v1/customers/{book.mismatch}/diagnosis", headers=rm, json={}).json()["result"]
    assert f"{diagnosis['health_score']:.0f}" in text
    for finding in diagnosis["findings"]:
        assert finding["title_zh"] in text and finding["explanation_zh"] in text
    plan = client.post(f"/v1/customers/{book.mismatch}/rebalance", headers={**rm, "Accept-Language": "zh, en"},
                       json={}).json()["plan"]
    assert plan["reason"]["zh"] in text
    assert plan["trades"]
    for trade in plan["trades"]:
        assert f"{trade['amount']:,.2f}" in text and trade["code"] in text
        assert trade["reason_zh"] in text  # why this order, in words
    assert "持仓风险高于客户等级" in text  # the worklist's flag, in words
    english = " ".join(visible(client.get(f"/rm/clients/{book.mismatch}?lang=en", headers=rm).text).parts)
    client.get("/rm?lang=zh", headers=rm)  # back to Chinese for the other tests
    assert all(trade["reason_en"] in english for trade in plan["trades"])


def test_review_has_every_chart_and_the_policy_record(client, rm, book):
    html = client.get(f"/rm/clients/{book.mixed}", headers=rm).text
    charts = re.findall(r'<svg class="chart"[^>]*data-chart="(\w+)"', html)
    assert set(charts) == {"allocation", "industries", "style", "value", "record"}
    for name in charts:
        svg = html[html.index(f'data-chart="{name}"'):]
        svg = svg[: svg.index("</svg>")]
        assert len(re.findall(r'<path [^>]*d="M', svg)) >= 5, name  # drawn, not an empty frame
    text = " ".join(visible(html).parts)
    assert "策略历史模拟表现" in text and "最大回撤" in text and "年化波动" in text
    assert "样本内" in text  # the funds' own backtest is labelled in-sample, not the strategy's record


def test_the_record_shown_is_the_policys_simulation_beside_the_funds_backtest(client, rm, book, settings):
    """The strategy's record is the policy's walk-forward simulation (the proposal's `historical`, or the
    sentence saying there is none yet); the chart is the proposed funds' constant-weight backtest."""
    from datetime import date

    from advisor.proposal import historical_backtest
    from advisor.simulation.record import history_note
    from api.web.review import build_review

    state = client.app.state.advisor
    with state.sessions() as session:
        review = build_review(state, session, book.mixed, date.today())
    assert review.simulated == history_note(review.proposal["historical"]).to_dict()
    html = client.get(f"/rm/clients/{book.mixed}", headers=rm).text
    assert review.simulated["zh"] in " ".join(visible(html).parts)
    u = state.universe
    lines = review.proposal["lines"]
    direct = historical_backtest(_proposal_context(u), u.index_of([x["code"] for x in lines]),
                                 np.array([x["weight"] for x in lines]))
    assert review.record is not None and direct["n_days"] == len(review.record.dates)
    # the chart is drawn from the published line weights (rounded to 6 decimals): agreement to ~1e-6
    assert review.record.annual_return == pytest.approx(direct["annual_return"], abs=1e-5)
    assert review.record.annual_volatility == pytest.approx(direct["annual_volatility"], abs=1e-5)
    assert review.record.max_drawdown == pytest.approx(direct["max_drawdown"], abs=1e-5)
    assert (review.record.dates[-1] - review.record.dates[0]).days > 365


def _proposal_context(universe):
    from advisor.proposal import ProposalConfig, _context

    return _context(universe, ProposalConfig())


def test_holdings_are_the_after_purchase_returns(client, rm, book):
    """The holdings table shows what `advisor plan returns` computes for the same lots (advisor.lifecycle)."""
    from datetime import date

    from advisor.lifecycle.book import customer_tables, load_book
    from advisor.lifecycle.report import customer_returns
    from api.web.review import build_review

    state = client.app.state.advisor
    with state.sessions() as session:
        review = build_review(state, session, book.mixed, date.today())
    lots = client.get(f"/v1/customers/{book.mixed}/holdings", headers=rm).json()["holdings"]
    customers, holdings, _ = customer_tables({"customer_id": book.mixed, "risk_level": "C3", "holdings": lots})
    expected = customer_returns(load_book(state.universe, customers, holdings=holdings, as_of=date.today()), 0)
    by_code = {f["code"]: f for f in expected["funds"]}
    assert {h["code"] for h in review.holdings} == {lot["code"] for lot in lots}
    for row in review.holdings:
        for key in ("market_value", "cost_basis", "holding_gain", "holding_return"):
            assert row[key] == by_code[row["code"]][key], (row["code"], key)
    assert sum(h["weight"] for h in review.holdings) == pytest.approx(1.0)
    assert review.totals["market_value"] == pytest.approx(sum(h["market_value"] for h in review.holdings), abs=0.02)
    text = " ".join(visible(client.get(f"/rm/clients/{book.mixed}", headers=rm).text).parts)
    for row in review.holdings:
        assert f"{row['market_value']:,.2f}" in text and f"{row['holding_gain']:,.2f}" in text


def test_no_strategy_without_a_valid_assessment(client, rm, book):
    for cid, why in ((book.expired, "已于"), (book.never, "尚未完成")):
        page = client.get(f"/rm/clients/{cid}", headers=rm)
        assert page.status_code == 200
        text = " ".join(visible(page.text).parts)
        assert "在重新测评前不提供调仓建议或配置方案" in text and why in text
        assert 'id="chart-record"' not in page.text and "一键配置方案" not in text
    expired = " ".join(visible(client.get(f"/rm/clients/{book.expired}", headers=rm).text).parts)
    assert "风险测评已过期" in expired and "发现的问题" in expired  # the health check is still shown
    assert "同期模型组合" not in expired  # no model beside the curve either
    never = " ".join(visible(client.get(f"/rm/clients/{book.never}", headers=rm).text).parts)
    assert "财富体检需按客户的风险等级" in never


def test_chinese_pages_carry_no_code_identifiers(client, rm, book):
    for path in ["/rm", *(f"/rm/clients/{c}" for c in (book.calm, book.mismatch, book.mixed, book.expired,
                                                          book.never)), f"/rm/clients/{book.mixed}/report"]:
        text = " ".join(visible(client.get(path, headers=rm).text).parts)
        assert not SNAKE_CASE.findall(text), (path, SNAKE_CASE.findall(text)[:5])


def test_english_switch_sticks(client, rm, book):
    english = client.get(f"/rm/clients/{book.mixed}?lang=en", headers=rm)
    assert "Risk disclosures" in english.text and "风险提示" not in english.text
    assert "advisor_lang=en" in english.headers["set-cookie"]
    again = client.get("/rm", headers=rm, cookies={"advisor_lang": "en"})
    assert "Client worklist" in again.text
    assert "客户清单" in client.get("/rm?lang=zh", headers=rm).text


def test_pages_load_nothing_from_elsewhere(client, rm, book):
    html = client.get(f"/rm/clients/{book.mixed}", headers=rm)
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html.text)
    assert "default-src 'self'" in html.headers["content-security-policy"]
    for asset in re.findall(r'(?:src|href)="(/rm/static/[^"]+)"', html.text):
        assert client.get(asset).status_code == 200


def test_bad_amount_names_the_field(client, rm, book):
    response = client.get(f"/rm/clients/{book.mixed}?amount=lots", headers=rm)
    assert response.status_code == 422 and response.json()["details"]["field"] == "query.amount"


# --- printable report ---------------------------------------------------------------------------------

def test_checkup_report_pdf(client, rm, book, tmp_path):
    response = client.get(f"/rm/clients/{book.mixed}/report.pdf", headers=rm)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pages, text = pdf_text(response.content, tmp_path)
    state = client.app.state.advisor
    assert pages >= 4
    first = text.split("\f")[0]
    for expected in ("财富体检报告", book.mixed, "报告日期", state.universe.version, state.model_version, RM):
        assert expected in first, expected
    compact = re.sub(r"\s+", "", text)
    diagnosis = client.post(f"/v1/customers/{book.mixed}/diagnosis", headers=rm, json={}).json()["result"]
    for finding in diagnosis["findings"]:
        assert finding["title_zh"] in compact
    for heading in ("风险测评", "持仓与收益", "财富体检", "配置分析", "调仓建议", "策略历史模拟表现", "风险提示",
                    "客户签字"):
        assert heading in compact, heading
    assert "风险提示" in text.split("\f")[pages - 1]  # the disclosures close the report, with the signatures
    assert f"{pages}/{pages}" in compact


def test_proposal_report_pdf_in_english(client, rm, book, tmp_path):
    response = client.get(f"/rm/clients/{book.calm}/report.pdf?kind=proposal&lang=en&amount=50000", headers=rm)
    assert response.status_code == 200
    pages, text = pdf_text(response.content, tmp_path)
    compact = " ".join(text.split())
    assert pages >= 2 and "Asset allocation proposal" in compact and "Risk disclosures" in compact
    assert "¥50,000" in compact


# --- 陪伴 alerts and the RM's follow-ups (advisor.lifecycle.alerts, stored by the nightly import) -------------

def test_alert_follow_ups_flag_the_worklist_and_show_on_the_review(client, rm, book):
    from api import lifecycle_store

    task = {"customer_id": book.calm, "rm_id": RM, "kind": "drawdown", "severity": "critical",
            "dedupe_key": "drawdown:pages", "as_of": "2026-02-13", "title_zh": "持仓回撤超出承受范围",
            "text_zh": "客户持仓自高点回撤18%，超出其风险等级的承受范围，请尽快联系客户。",
            "title_en": "Drawdown beyond tolerance",
            "text_en": "The holdings fell 18% from their peak, beyond the level's tolerance; call the customer.",
            "details": "{}"}
    note = {**task, "kind": "fund_event", "severity": "warning", "dedupe_key": "fund_event:pages",
            "title_zh": "基金暂停申购", "text_zh": "您持有的一只基金暂停申购。", "title_en": "Fund closed to purchases",
            "text_en": "A fund you hold stopped taking purchases."}
    with client.app.state.advisor.sessions() as session:
        lifecycle_store.store_alerts(session, [task, note], [task])
        session.commit()
    api = {c["customer_id"]: c for c in client.get("/v1/rm/clients", headers=rm).json()["items"]}
    assert "alert_tasks" in api[book.calm]["flags"] and api[book.calm]["details"]["alert_tasks"] == 1
    worklist = client.get("/rm", headers=rm).text
    row = worklist[worklist.index(f'data-customer="{book.calm}"'):]
    assert "陪伴提醒待跟进（1）" in row[: row.index("</tr>")]
    assert visible(worklist).rows == [c for c in api]  # still the API's order

    text = " ".join(visible(client.get(f"/rm/clients/{book.calm}", headers=rm).text).parts)
    assert "待跟进事项" in text and task["text_zh"] in text and note["title_zh"] in text and note["text_zh"] in text
    english = " ".join(visible(client.get(f"/rm/clients/{book.calm}?lang=en", headers=rm).text).parts)
    client.get("/rm?lang=zh", headers=rm)
    assert task["text_en"] in english and note["text_en"] in english and "Alert follow-ups open (1)" in english
