"""What the embedding app negotiates: language of texts, compression, revalidation, one way to page."""

from __future__ import annotations

import gzip

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from api.negotiation import BOTH, EN, ZH, language_of, pick_language
from tests.api.conftest import assess, new_customer_id


@pytest.mark.parametrize(("header", "language"), [
    (None, ZH), ("zh-CN", ZH), ("zh-CN,zh;q=0.9,en;q=0.8", ZH), ("en-US,en;q=0.9", EN), ("en", EN),
    ("zh-CN, en", BOTH), ("*", BOTH), ("fr-FR", ZH), ("en;q=0, zh", ZH), ("en;q=oops", ZH)])
def test_accept_language(header, language):
    assert language_of(header) == language


def test_only_pairs_are_filtered():
    value = {"title_zh": "标题", "title_en": "Title", "level_name_zh": "平衡型", "note": {"zh": "中", "en": "en"},
             "items": [{"explanation_zh": "解释", "explanation_en": "why"}], "en": "kept: no zh beside it"}
    assert pick_language(value, EN) == {"title_en": "Title", "note": {"en": "en"}, "items": [{"explanation_en": "why"}],
                                        "level_name_zh": "平衡型", "en": "kept: no zh beside it"}
    assert pick_language(value, ZH)["items"] == [{"explanation_zh": "解释"}]
    assert pick_language(value, BOTH) == value


def test_the_language_of_customer_texts_follows_accept_language(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    body = {"amount": 100_000, "horizon_years": 3}
    zh = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=body)
    en = client.post(f"/v1/customers/{cid}/proposals", headers={**tokens.customer(cid), "Accept-Language": "en"},
                     json=body)
    both = client.post(f"/v1/customers/{cid}/proposals",
                       headers={**tokens.customer(cid), "Accept-Language": "zh-CN, en"}, json=body)
    assert zh.headers["content-language"] == "zh-CN" and "Accept-Language" in zh.headers["vary"]
    notes = [n for r in (zh, en, both) for n in r.json()["proposal"]["explanations"]]
    assert notes
    assert all("zh" in n and "en" not in n for n in zh.json()["proposal"]["explanations"])
    assert all("en" in n and "zh" not in n for n in en.json()["proposal"]["explanations"])
    assert all("en" in n and "zh" in n for n in both.json()["proposal"]["explanations"])


def test_reference_data_revalidates_with_etag(client, tokens):
    for path in ("/v1/funds", "/v1/funds/leaderboard", "/v1/risk/questionnaire", "/v1/model-portfolios"):
        first = client.get(path, headers=tokens.ops())
        assert first.status_code == 200, (path, first.text)
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "private, no-cache"
        again = client.get(path, headers={**tokens.ops(), "If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", path
    questionnaire = client.get("/v1/risk/questionnaire", headers=tokens.ops())
    revalidate = {**tokens.ops(), "If-None-Match": questionnaire.headers["etag"], "Accept-Language": "en"}
    english = client.get("/v1/risk/questionnaire", headers=revalidate)
    assert english.status_code == 200, "the English questionnaire is another representation"
    assert english.headers["etag"] != questionnaire.headers["etag"]


def test_large_answers_are_compressed(client, tokens):
    response = client.get("/v1/funds?limit=200", headers={**tokens.ops(), "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert response.json()["items"]
    raw = client.get("/v1/funds?limit=200", headers={**tokens.ops(), "Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_every_list_pages_the_same_way(client, tokens):
    for path in ("/v1/funds", "/v1/funds/leaderboard", "/v1/rms/rm-none/clients"):
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path}{sep}limit=2&offset=1", headers=tokens.ops())
        assert response.status_code == 200, (path, response.text)
        page = response.json()["page"]
        assert page["limit"] == 2 and page["offset"] == 1 and page["total"] >= len(response.json()["items"])
        assert len(response.json()["items"]) <= 2
        too_big = client.get(f"{path}{sep}limit=201", headers=tokens.ops())
        assert too_big.status_code == 422 and too_big.json()["details"]["field"] == "query.limit"


def test_unknown_leaderboard_category_is_refused_by_both_doors(client, tokens):
    response = client.get("/v1/funds/leaderboard?category=xyz", headers=tokens.ops())
    assert response.status_code == 422 and response.json()["details"]["field"].endswith("category")
    result = CliRunner().invoke(app, ["funds", "rank", "--category", "xyz"])
    assert result.exit_code == 2 and "category" in result.output


def test_max_risk_level_is_written_the_same_in_both_doors(client, tokens):
    as_text = client.get("/v1/funds?max_risk_level=R3&limit=200", headers=tokens.ops()).json()
    as_number = client.get("/v1/funds?max_risk_level=3&limit=200", headers=tokens.ops()).json()
    assert as_text == as_number and all(f["risk_level"] <= "R3" for f in as_text["items"])
    bad = client.get("/v1/funds?max_risk_level=R9", headers=tokens.ops())
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "query.max_risk_level"
    assert CliRunner().invoke(app, ["funds", "list", "--max-risk", "3", "--json"]).exit_code == 0
