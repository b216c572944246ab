"""One contract for every door: the same request through the CLI and the API gets the same answer or refusal."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from tests.api.conftest import assess, new_customer_id

RUNNER = CliRunner()

REFUSED = [
    ({"amount": 50_000.123, "horizon_years": 3}, "amount"),
    ({"amount": 2e9, "horizon_years": 3}, "amount"),
    ({"amount": 0, "horizon_years": 3}, "amount"),
    ({"amount": 10_000, "horizon_years": 0}, "horizon_years"),
    ({"amount": 10_000, "horizon_years": 60}, "horizon_years"),
    ({"amount": 10_000, "horizon_years": 3, "target_return": 1.5}, "target_return"),
]


def cli_propose(level: str, body: dict) -> tuple[int, str]:
    args = ["propose", "--level", level, "--amount", str(body["amount"]), "--horizon-years",
            str(body["horizon_years"]), "--json"]
    if body.get("target_return") is not None:
        args += ["--target-return", str(body["target_return"])]
    result = RUNNER.invoke(app, args)
    return result.exit_code, result.output


@pytest.mark.parametrize(("body", "field"), REFUSED)
def test_both_doors_refuse_the_same_inputs_naming_the_field(client, tokens, body, field):
    cid = new_customer_id()
    level = assess(client, tokens, cid)["level"]
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["details"]["field"].split(".")[-1] == field
    code, output = cli_propose(level, body)
    assert code == 2 and field in output, output


def test_both_doors_give_the_same_proposal(client, tokens):
    cid = new_customer_id()
    level = assess(client, tokens, cid)["level"]
    body = {"amount": 50_000.12, "horizon_years": 2.5, "target_return": 0.04}
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=body)
    assert response.status_code == 201, response.text
    code, output = cli_propose(level, body)
    assert code == 0, output
    cli = json.loads(output)
    api = response.json()["proposal"]
    assert [(line["code"], line["amount"], line["fee"]) for line in cli["lines"]] == [
        (line["code"], line["amount"], line["fee"]) for line in api["lines"]]
    assert cli["amount"] == api["amount"] == 50_000.12
