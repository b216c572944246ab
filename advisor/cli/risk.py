"""CLI commands: `advisor risk ...` — questionnaire, assessment, automatic profiling, suitability checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.common import JsonFlag, handle_errors, parse_as_of, print_json
from products.errors import BadInputError

out = Console()
risk_app = typer.Typer(help="Risk profiling (风险测评): questionnaire, assessment, automatic profiling, suitability.",
                       no_args_is_help=True)


@risk_app.command("questionnaire")
@handle_errors
def questionnaire_cmd(
    version: Annotated[str | None, typer.Option("--version", help="Questionnaire version (default: latest).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh or en (table output).")] = "zh",
    as_json: JsonFlag = False,
) -> None:
    """Print the risk questionnaire (questions, options and their scores)."""
    from risk.questionnaire import load_questionnaire

    qn = load_questionnaire(version)
    if as_json:
        print_json(qn.to_dict())
        return
    text = "text_zh" if lang == "zh" else "text_en"
    out.print(f"[bold]{getattr(qn, 'title_' + ('zh' if lang == 'zh' else 'en'))}[/] ({qn.version})")
    for q in qn.questions:
        out.print(f"\n[bold]{q.id}[/] [dim]{q.dimension}[/] {getattr(q, text)}")
        for o in q.options:
            out.print(f"   {o.id}. {getattr(o, text)} [dim]({o.score:g})[/]")


@risk_app.command("assess")
@handle_errors
def assess_cmd(
    answers: Annotated[Path, typer.Option("--answers", help="JSON: question id → option id; optional \"facts\", "
                                          "\"customer_id\", or {\"refused\": true}.")],
    facts: Annotated[Path | None, typer.Option("--facts", help="JSON of customer facts (age, annual_income, "
                                               "financial_assets, debts, dependents, civil_capacity, ...).")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Questionnaire version (default: latest).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Assessment date YYYY-MM-DD (default: now).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a completed questionnaire into a C1–C5 level with five dimension scores."""
    from risk.answers_io import read_answer_file
    from risk.questionnaire import load_questionnaire
    from risk.scoring import assess

    parsed = read_answer_file(answers, facts)
    result = assess(parsed.answers, parsed.facts, today=parse_as_of(as_of), questionnaire=load_questionnaire(version),
                    customer_id=parsed.customer_id)
    payload = result.to_dict()
    if as_json:
        print_json(payload)
        return
    out.print(f"[bold]{payload['level']} {payload['level_name_zh']}[/] ({payload['level_name_en']})  "
              f"score {payload['score']:.1f}  confidence {payload['confidence']:.2f}  "
              f"max product {payload['max_product_level']}"
              + ("  [bold red]lowest category[/]" if payload["lowest_category"] else ""))
    table = Table("dimension", "score")
    for name, value in payload["dimensions"].items():
        table.add_row(name, f"{value:.1f}")
    out.print(table)
    for flag in payload["flags"]:
        out.print(f"[yellow]{flag['code']}[/]: {flag['text_zh']}")
    out.print(f"valid until {payload['expires_on']} (questionnaire {payload['questionnaire_version']})")


@risk_app.command("profile")
@handle_errors
def profile_cmd(
    kyc: Annotated[Path, typer.Option("--kyc", help="KYC + behaviour table (.parquet or .csv), one row per "
                                      "customer.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the profiles (.parquet or .csv).")],
    rejects_path: Annotated[Path | None, typer.Option("--rejects", help="Write rejected rows here "
                                                      "(.parquet or .csv).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Infer five-dimension profiles of existing customers in batch (老客户智能画像); bad rows are reported."""
    from advisor.batch_io import rejects_for_people
    from risk.answers_io import read_table, write_table
    from risk.profiling import profile_batch

    for option, path in (("--out", out_path), ("--rejects", rejects_path)):
        if path is not None and path.suffix.lower() not in (".parquet", ".pq", ".csv"):
            raise BadInputError(f"{option}: {path} must end in .parquet or .csv", details={"field": option})
    frame = read_table(kyc)
    profiles, rejects = profile_batch(frame)
    rejects = rejects_for_people(rejects)  # rows counted from 1, as in every rejects file
    write_table(profiles, out_path)
    if rejects_path is not None:
        write_table(rejects, rejects_path)
    levels = profiles["inferred_label"].value_counts().sort_index()
    summary = {
        "customers": len(frame), "profiled": len(profiles), "rejected_rows": int(rejects["row"].nunique()),
        "out": str(out_path), "levels": {str(k): int(v) for k, v in levels.items()},
        "flags": {c.removeprefix("flag_"): int(profiles[c].sum()) for c in profiles.columns if c.startswith("flag_")},
        "rejects": rejects.head(20).to_dict(orient="records"),
    }
    if as_json:
        print_json(summary)
        return
    out.print(f"profiled {summary['profiled']:,} of {summary['customers']:,} customers → {out_path}")
    out.print("levels: " + ", ".join(f"{k} {v:,}" for k, v in summary["levels"].items()))
    out.print("flags: " + ", ".join(f"{k} {v:,}" for k, v in summary["flags"].items()))
    for row in summary["rejects"]:
        out.print(f"[yellow]rejected[/] row {row['row']} ({row['customer_id']}): {row['field']}: {row['reason']}")


@risk_app.command("check")
@handle_errors
def check_cmd(
    customer_level: Annotated[str, typer.Option("--customer-level", help="C1–C5.")],
    product_level: Annotated[str, typer.Option("--product-level", help="R1–R5.")],
    kind: Annotated[str, typer.Option("--kind", help="fund or wealth_management (理财).")] = "fund",
    lowest_category: Annotated[bool, typer.Option("--lowest-category", help="The customer is in the lowest "
                                                  "category.")] = False,
    product_code: Annotated[str, typer.Option("--product-code", help="Shown in the warning text.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """May this customer buy this product on their own initiative? Prints the mismatch warning if needed."""
    from risk.suitability import PurchaseDecision, assess_purchase
    from risk.warnings import mismatch_warning

    verdict = assess_purchase(customer_level, product_level, kind, lowest_category)
    payload = verdict.to_dict()
    if verdict.decision is PurchaseDecision.WARN_AND_CONFIRM:
        warning = mismatch_warning(verdict.customer_level, verdict.product_level, product_code or "—")
        payload["warning"] = {"version": warning.version, "text_zh": warning.text_zh, "text_en": warning.text_en}
    if as_json:
        print_json(payload)
        return
    colour = {"allow": "green", "warn_and_confirm": "yellow", "block": "red"}[payload["decision"]]
    out.print(f"[bold {colour}]{payload['decision']}[/] customer {payload['customer_level']} (max "
              f"{payload['allowed_max_product_level']}), product {payload['product_level']} {payload['kind']}")
    if "warning" in payload:
        out.print(payload["warning"]["text_zh"])


@risk_app.command("confirm")
@handle_errors
def confirm_cmd(
    customer_id: Annotated[str, typer.Option("--customer-id")],
    product_code: Annotated[str, typer.Option("--product-code")],
    customer_level: Annotated[str, typer.Option("--customer-level", help="C1–C5.")],
    product_level: Annotated[str, typer.Option("--product-level", help="R1–R5.")],
    channel: Annotated[str, typer.Option("--channel", help="app, web, branch, phone or api.")] = "branch",
    kind: Annotated[str, typer.Option("--kind", help="fund or wealth_management (理财).")] = "fund",
    lowest_category: Annotated[bool, typer.Option("--lowest-category")] = False,
    product_name: Annotated[str | None, typer.Option("--product-name")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the text shown: zh or en.")] = "zh",
    as_json: JsonFlag = False,
) -> None:
    """Record that a customer saw the 风险不匹配警示 and insists on a fund above their level."""
    from risk.warnings import record_confirmation

    record = record_confirmation(customer_id, product_code, customer_level, product_level, channel=channel,
                                 kind=kind, lowest_category=lowest_category, product_name=product_name,
                                 language=lang)
    if as_json:
        print_json(record.to_dict())
        return
    out.print(record.text_shown)
    out.print(f"[green]confirmation recorded[/] {record.customer_id} {record.product_code} "
              f"{record.customer_level}→{record.product_level} {record.confirmed_at.isoformat()} ({record.channel})")


@risk_app.command("reassess")
@handle_errors
def reassess_cmd(
    previous: Annotated[Path, typer.Option("--previous", help="JSON of the previous assessment "
                                           "(output of `advisor risk assess --json`).")],
    facts: Annotated[Path | None, typer.Option("--facts", help="JSON of the customer's current facts.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to check on, YYYY-MM-DD (default: today).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Does this customer need a new risk assessment, and why (expiry, age band, income/assets, life event)?"""
    from risk.answers_io import read_json_file
    from risk.validity import reassessment_required

    prev = read_json_file(previous)
    if not isinstance(prev, dict):
        raise BadInputError(f"{previous}: expected a JSON object (an assessment)", details={"file": str(previous)})
    new_facts = read_json_file(facts) if facts is not None else None
    decision = reassessment_required(prev, new_facts, today=parse_as_of(as_of))
    if as_json:
        print_json(decision.to_dict())
        return
    out.print("[bold red]re-assessment required[/]" if decision.required else "[green]assessment still valid[/]")
    for reason in decision.reasons:
        out.print(f"  {reason.code}: {reason.text_zh}")


@risk_app.command("tier")
@handle_errors
def tier_cmd(
    financial_assets: Annotated[float, typer.Argument(help="Financial assets in yuan.")],
    as_json: JsonFlag = False,
) -> None:
    """Customer tier by financial assets (普通 / 中端 / 富裕 / 高净值 / 私人银行)."""
    from risk.tiers import TIER_NAMES_EN, TIER_NAMES_ZH, customer_tier

    tier = customer_tier(financial_assets)
    payload = {"financial_assets": financial_assets, "tier": tier, "tier_name_zh": TIER_NAMES_ZH[tier],
               "tier_name_en": TIER_NAMES_EN[tier]}
    if as_json:
        print_json(payload)
    else:
        out.print(f"{tier} {TIER_NAMES_ZH[tier]} ({TIER_NAMES_EN[tier]})")


def register(app: typer.Typer) -> None:
    """Add the `risk` command group to the main app."""
    app.add_typer(risk_app, name="risk")
