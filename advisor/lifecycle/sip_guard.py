"""Holds on SIP debits (定投暂停扣款): a stored plan is advice executed at every debit, so suitability is
checked before each debit, over a whole book — the one rule every door uses (nightly batch, API).

An active plan is **held** (its next debits are not made; the bank's debit run reads the holds) when:

* ``assessment_expired`` — the customer's risk assessment has expired (on its expiry day, as everywhere:
  `risk.validity.expired_mask`) or there is none: no purchase may rely on it;
* ``above_level`` — a fund of the plan is now above the customer's allowed level (the customer was
  re-assessed lower, or the fund was re-rated up; lowest category: R1 only — `risk.suitability.is_suitable`);
* ``fund_closed`` — a fund of the plan no longer takes subscriptions (or left the fund list).

One reason per plan, in that order (without a valid assessment nothing else can be judged). Paused and
stopped plans are not checked. A plan's funds are its legs (`codes`) and the funds its ledger rows bought
(`plan_id` on the ledger).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from products.universe import Universe

REASONS: tuple[str, ...] = ("assessment_expired", "above_level", "fund_closed")
TRADABLE_STATUS = ("open", "limited")
HOLD_COLUMNS = ("customer_id", "plan_id", "reason", "codes", "allowed_max", "expires_on", "as_of")


def plan_fund_pairs(plans: pd.DataFrame, ledger: pd.DataFrame | None = None,
                    codes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(plan row, fund code) of every fund of each plan, vectorized: its `codes` column (the plan's legs), its
    `funds` column (codes, or universe positions given `codes`: what the nightly run found on the ledger) and
    its rows in `ledger`."""
    rows: list[np.ndarray] = []
    found: list[np.ndarray] = []
    position = pd.Series(np.arange(len(plans)), index=plans.index)
    for column in ("codes", "funds"):
        if column not in plans.columns:
            continue
        items = plans[column].explode().dropna()
        if not len(items):
            continue
        values = items.to_numpy(dtype=object)
        numeric = np.fromiter((isinstance(v, int | np.integer) for v in values), dtype=bool, count=len(values))
        text = values.astype(str).astype(object)  # object: a code may be longer than the numbers it replaces
        if codes is not None and numeric.any():
            text[numeric] = np.asarray(codes, dtype=object)[values[numeric].astype(np.int64)].astype(str)
        rows.append(position.loc[items.index].to_numpy())
        found.append(text)
    if ledger is not None and len(ledger) and "plan_id" in ledger.columns:
        by = ledger.loc[ledger["plan_id"].notna(), ["plan_id", "code"]].astype(str).drop_duplicates()
        where = pd.Index(plans["plan_id"].astype(str)).get_indexer(by["plan_id"])
        rows.append(where[where >= 0])
        found.append(by["code"].to_numpy(dtype=object)[where >= 0])
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    pairs = pd.DataFrame({"row": np.concatenate(rows), "code": np.concatenate(found).astype(object)}).drop_duplicates()
    return pairs["row"].to_numpy(dtype=np.int64), pairs["code"].to_numpy(dtype=object)


def hold_plans(universe: Universe, plans: pd.DataFrame, customers: pd.DataFrame, as_of: date,
               ledger: pd.DataFrame | None = None) -> pd.DataFrame:
    """The holds of a book's active plans (module docstring): one row per held plan, `HOLD_COLUMNS`, indexed
    by the plan's position in `plans` (plan ids are a customer's own: two customers may share one).

    `customers`: customer_id, risk_level (C1–C5 or 1–5; missing = no assessment), lowest_category,
    assessment_expires_on. Vectorized (a night's plans of a million customers)."""
    from risk.suitability import is_suitable
    from risk.validity import expired_mask

    if plans is None or not len(plans):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in HOLD_COLUMNS})
    status = plans["status"].astype(str) if "status" in plans.columns else pd.Series("active", index=plans.index)
    plans = plans[status.eq("active").to_numpy()]
    cust = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    cust = cust.set_index("customer_id")
    ids = plans["customer_id"].astype(str)
    where = cust.index.get_indexer(ids)
    known = where >= 0
    at = np.maximum(where, 0)
    level = _levels(cust["risk_level"])[at] if "risk_level" in cust.columns else np.zeros(len(ids), np.int64)
    level = np.where(known, level, 0)
    lowest = (np.where(known, cust["lowest_category"].fillna(False).astype(bool).to_numpy()[at], False)
              if "lowest_category" in cust.columns else np.zeros(len(ids), bool))
    expiry = (pd.to_datetime(cust["assessment_expires_on"], errors="coerce").to_numpy(dtype="datetime64[ns]")[at]
              if "assessment_expires_on" in cust.columns else np.full(len(ids), np.datetime64("NaT"), "datetime64[ns]"))
    expiry = np.where(known, expiry, np.datetime64("NaT"))
    expired = expired_mask(expiry, as_of) | (level < 1)
    allowed = np.where(lowest, 1, level)
    # per (plan, fund): the fund's current level and whether it takes subscriptions
    pair_row, pair_code = plan_fund_pairs(plans, ledger, universe.codes)
    fund = universe.index_of(pair_code) if len(pair_code) else np.zeros(0, dtype=np.int64)
    present = fund >= 0
    risk = np.where(present, universe.funds["risk_level"].to_numpy(dtype=np.int64)[np.maximum(fund, 0)], 1)
    fund_status = universe.funds["status"].astype(str).to_numpy()[np.maximum(fund, 0)]
    closed_pair = ~present | ~np.isin(fund_status, TRADABLE_STATUS)
    above_pair = present & ~is_suitable(np.maximum(level[pair_row], 1), np.clip(risk, 1, 5), lowest[pair_row])
    above = np.bincount(pair_row[above_pair], minlength=len(plans)) > 0
    closed = np.bincount(pair_row[closed_pair], minlength=len(plans)) > 0
    reason = np.where(expired, "assessment_expired",
                      np.where(above, "above_level", np.where(closed, "fund_closed", ""))).astype(object)
    held = np.flatnonzero(reason != "")
    named = (above_pair & (reason[pair_row] == "above_level")) | (closed_pair & (reason[pair_row] == "fund_closed"))
    order = np.lexsort((pair_code[named].astype(str), pair_row[named]))
    named_row, named_code = pair_row[named][order], pair_code[named][order]
    cut = np.searchsorted(named_row, held)
    stop = np.searchsorted(named_row, held, side="right")
    codes = [named_code[a:b].tolist() for a, b in zip(cut.tolist(), stop.tolist(), strict=True)]
    when = expiry[held]
    days = np.datetime_as_string(when.astype("datetime64[D]"), unit="D").astype(object)
    return pd.DataFrame({
        "customer_id": ids.to_numpy(object)[held], "plan_id": plans["plan_id"].astype(str).to_numpy(object)[held],
        "reason": reason[held], "codes": codes,
        "allowed_max": np.where(allowed[held] >= 1, np.char.add("R", allowed[held].astype(str)).astype(object), None),
        "expires_on": np.where(np.isnat(when), None, days),
        "as_of": str(as_of)}, index=held)


def _day(value: Any) -> str | None:
    """A date as YYYY-MM-DD, None when missing or unreadable (NaN, NaT, ''). Called once per hold message:
    the usual inputs (an ISO day, a date) are read directly; pandas' parser (~1 ms a call, with its format
    guessing) only reads anything else."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    when = pd.to_datetime(pd.Series([value], dtype=object), errors="coerce").iloc[0]
    return None if pd.isna(when) else str(when.date())


def _levels(values: pd.Series) -> np.ndarray:
    """C1–C5 / 1–5 as ints; missing or unreadable = 0 (no assessment)."""
    text = values.astype("string").str.strip().str.upper().str.lstrip("C")
    return pd.to_numeric(text, errors="coerce").fillna(0).clip(0, 5).to_numpy(dtype=np.int64)


def plan_hold(universe: Universe, codes: Sequence[str], level: int | None, lowest_category: bool,
              expires_on: date | None, today: date) -> dict[str, Any]:
    """The rule for one stored plan (the API's doors): {ok, reason, allowed_max, above, closed}."""
    plans = pd.DataFrame({"customer_id": ["c"], "plan_id": ["p"], "codes": [list(codes)]})
    customers = pd.DataFrame({"customer_id": ["c"], "risk_level": [level], "lowest_category": [lowest_category],
                              "assessment_expires_on": [expires_on]})
    holds = hold_plans(universe, plans, customers, today)
    if not len(holds):
        allowed = 1 if lowest_category else int(level or 0)
        return {"ok": True, "reason": None, "allowed_max": f"R{allowed}", "above": [], "closed": []}
    row = holds.iloc[0]
    return {"ok": False, "reason": str(row["reason"]), "allowed_max": row["allowed_max"],
            "above": row["codes"] if row["reason"] == "above_level" else [],
            "closed": row["codes"] if row["reason"] == "fund_closed" else []}


HOLD_TEXT = {
    "assessment_expired": ("您的风险测评{since}，定投计划{plan}已暂停扣款；重新完成风险测评后可恢复。",
                           "Your risk assessment {since_en}, so the SIP plan {plan_en} is on hold (no debits); it "
                           "can resume once you are re-assessed."),
    "above_level": ("定投计划{plan}中的基金{codes}的风险等级已高于您可购买的等级（最高{allowed}），计划已暂停扣款，"
                    "请联系客户经理调整计划。",
                    "{codes_en} in the SIP plan {plan_en}: now above the level you may buy (up to {allowed}), so "
                    "the plan is on hold (no debits). Please ask your relationship manager to change it."),
    "fund_closed": ("定投计划{plan}中的基金{codes}已暂停申购，计划已暂停扣款，请更换基金后恢复。",
                    "{codes_en} in the SIP plan {plan_en}: no longer takes subscriptions, so the plan is on hold "
                    "(no debits) until the fund is replaced."),
}


def hold_texts(reason: str, name: str, codes: Sequence[str], allowed_max: str | None,
               expires_on: str | None = None, amount: float | None = None,
               labels: tuple[Sequence[str], Sequence[str]] | None = None) -> tuple[str, str]:
    """(zh, en) message of a hold, for the customer and the RM: the plan (name, amount a debit), the reason
    with its facts (the expiry date, the funds — `labels` (zh, en) name them, else their codes — and the level
    allowed) and what to do."""
    zh_funds, en_funds = labels if labels is not None else (list(codes), list(codes))
    each = f"每期¥{amount:,.2f}" if amount is not None and amount == amount else ""
    each_en = f"¥{amount:,.2f} a debit" if each else ""
    plan = f"“{name}”" if name else ""
    plan += f"（{each}）" if each else ""
    plan_en = (f"“{name}”" if name else "") + (f" ({each_en})" if each_en else "")
    day = _day(expires_on)
    since = f"已于{day}到期" if day else "尚未完成或已失效"
    since_en = f"expired on {day}" if day else "is missing"
    zh, en = HOLD_TEXT[reason]
    fill = {"plan": plan, "plan_en": plan_en, "codes": "、".join(zh_funds), "codes_en": ", ".join(en_funds),
            "allowed": allowed_max or "", "since": since, "since_en": since_en}
    return zh.format(**fill), " ".join(en.format(**fill).split())


def book_holds(book: Any) -> pd.DataFrame:
    """The holds of a nightly chunk (`advisor.lifecycle.alerts.AlertBook`: its plans, with `funds` from their
    ledger rows, and its customers), computed once per chunk for the holds output and the alert."""
    return book.memo("sip_holds", lambda: hold_plans(book.ctx.universe, book.plans, book.customers, book.as_of))


def holds_table(holds: pd.DataFrame) -> pd.DataFrame:
    """The holds as the bank's debit run reads them (`sip_holds.parquet`): every column text, `codes` joined
    by commas, so every chunk writes the same schema."""
    out = holds.assign(codes=holds["codes"].map(lambda c: ",".join(c) if isinstance(c, list) else ""))
    return out[list(HOLD_COLUMNS)].astype("string")
