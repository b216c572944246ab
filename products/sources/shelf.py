"""A bank's shelf table (`zs_fee.csv`): fee tiers, risk levels and SIP minimums per fund.

The table has one block of rows per fund; only the first row carries 产品代码 (forward-filled here).
Each row may hold one subscription tier (认申购费率 text + 买费率 value) and one redemption tier
(赎回费率 text + 卖费率 value). Tier texts come in many spellings, all normalized to a lower bound:

* amounts: ``5万以下`` · ``5万(含)-1000万`` · ``1000万及以上`` · ``M<100万`` · ``100万≤M<300万`` ·
  ``50万元以上（含50万元）-200万元以下`` — 万 = 10,000 yuan;
* holding periods: ``1年以内`` · ``1年(含)-2年`` · ``7-30日`` · ``Y<7天`` · ``6个月(含)-1年`` — 1 year =
  365 days, 1 month = 365/12 days (rounded);
* values: ``1.80%`` (rate), ``1000元`` / ``1,000元/笔`` / ``每笔1000元`` (flat fee per purchase), plain
  numbers (``1.2`` = 1.2 %, ``0.012`` = 1.2 %: values ≥ 0.1 are percent, smaller ones fractions);
* back-end classes (后端, or a subscription tiered by holding period) charge on redemption by holding
  time; they are marked `back_end` and kept out of the purchasable universe;
* tiers marked 认购 (IPO subscription) are dropped when the fund also lists 申购 or unmarked tiers;
  unmarked tiers are dropped when explicitly marked 申购 tiers exist (they were the 认购 ones).

Tier i's upper bound is tier i+1's lower bound, so every block must start at 0 and ascend. Whatever
cannot be parsed is reported (code, row, text) and that part of the schedule falls back to the default;
nothing raises.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from products.errors import BadInputError, DataError
from products.fees import FeeSchedule, RedemptionTier, SubscriptionTier, default_schedule
from products.taxonomy import RiskLevel
from products.validation import issues_frame

SOURCE = "zs_fee.csv"
_COLUMNS = ["code", "name", "type_text", "risk_text", "sip_text", "sub_tier", "sub_fee", "red_tier", "red_fee"]
_AMOUNT_UNITS = {"亿": 1e8, "万元": 1e4, "万": 1e4, "元": 1.0}
_DAY_UNITS = {"个月": 365 / 12, "月": 365 / 12, "年": 365.0, "天": 1.0, "日": 1.0}
_QTY = re.compile(r"(\d+(?:\.\d+)?)\s*(个月|万元|亿|万|元|年|天|日|月)?")
_NO_FEE = {"", "无", "不收费", "免", "0", "无限制"}


@dataclass(frozen=True)
class ShelfEntry:
    """One fund's shelf data. `subscription` / `redemption` are None where the rows could not be parsed."""

    code: str
    name: str
    type_text: str
    risk_level: int | None
    min_sip: float | None
    back_end: bool
    subscription: tuple[SubscriptionTier, ...] | None
    redemption: tuple[RedemptionTier, ...] | None

    def schedule(self, fund_type: str, share_class: str = "") -> FeeSchedule:
        """The shelf's tiers on top of the type default (running costs always come from the default)."""
        base = default_schedule(fund_type, share_class)
        return FeeSchedule(
            subscription=self.subscription or base.subscription,
            redemption=self.redemption or base.redemption,
            management_fee=base.management_fee, custody_fee=base.custody_fee,
            sales_service_fee=base.sales_service_fee, money_market=base.money_market,
        )


@dataclass(frozen=True)
class ShelfTable:
    entries: dict[str, ShelfEntry]
    issues: pd.DataFrame = field(default_factory=issues_frame)

    def __len__(self) -> int:
        return len(self.entries)

    def purchasable(self) -> dict[str, ShelfEntry]:
        """Entries a customer can buy (front-end classes only)."""
        return {c: e for c, e in self.entries.items() if not e.back_end}


class TierError(ValueError):
    """A tier text or value that cannot be read."""


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip()
    text = text.replace("《", "≤").replace("》", "≥").replace("–", "-").replace("—", "-").replace("至", "-")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return re.sub(r"\((个月|天|日|年|万元|万|元)\)", r"\1", text)


def _purchase_kind(text: str) -> str:
    """'ipo' for 认购-only tiers, 'buy' for 申购 (or both), '' when unmarked."""
    if "认" in text and "申" in text:
        return "buy"
    if "认购" in text:
        return "ipo"
    return "buy" if "申购" in text else ""


def parse_bound(text: str) -> tuple[float, str]:
    """Lower bound of a tier text and its dimension ('amount' yuan or 'days'). Raises `TierError`."""
    t = _normalize(text)
    t = re.sub(r"[((]?(认、申购|认申购|认购|申购|提前到期|非提前到期)[))]?", "", t)
    t = re.sub(r"\((含)?[^()]*\)", lambda m: " " if m.group(0) != "(含)" else "", t)
    quantities = [(float(m.group(1)), m.group(2) or "", m.start(), m.end()) for m in _QTY.finditer(t)]
    if not quantities:
        raise TierError(f"no number in tier {text!r}")
    units = [u for _, u, _, _ in quantities]
    for i in range(len(units) - 2, -1, -1):  # "1-2年": a bare number takes the unit that follows
        if not units[i]:
            units[i] = units[i + 1]
    if not units[-1] and not all(v == 0 for v, *_ in quantities):
        raise TierError(f"no unit in tier {text!r}")
    unit = units[0] or units[-1]
    if unit in _DAY_UNITS:
        scale, kind = _DAY_UNITS[unit], "days"
    else:
        scale, kind = _AMOUNT_UNITS.get(unit, 1.0), "amount"
    first_value, _, _, end = quantities[0]
    distinct = {(v, u) for (v, *_), u in zip(quantities, units, strict=True)}
    if len(distinct) >= 2:
        return round(first_value * scale), kind
    rest = t[end:]
    if re.search(r"以上|≥|>", t) or "≤" in rest:
        return round(first_value * scale), kind
    if re.search(r"以下|以内|内|<|未满|不满|≤", t) or first_value == 0:
        return 0.0, kind
    raise TierError(f"cannot tell whether {text!r} is a lower or an upper bound")


def parse_fee_value(text: str) -> tuple[float, float | None]:
    """(rate, flat fee or None) from ``1.80%`` / ``1000元`` / ``1,000元/笔`` / ``0.012`` / ``不收费``."""
    t = _normalize(text)
    t = re.sub(r"[((](认购|申购)[))]", "", t)
    if t in _NO_FEE:
        return 0.0, None
    m = re.search(r"\d+(?:\.\d+)?", t)
    if m is None:
        raise TierError(f"no number in fee {text!r}")
    value = float(m.group(0))
    if "元" in t:
        return 0.0, value
    rate = round(value / 100, 10) if ("%" in t or value >= 0.1) else value
    if not 0 <= rate < 1:
        raise TierError(f"fee {text!r} is not a rate below 100%")
    return rate, None


def read_shelf_rows(path: str | Path) -> pd.DataFrame:
    """The raw table with normalized column names, `row` (CSV record number, header = 1), codes filled."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", on_bad_lines="skip")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read shelf table {path}: {err}", details={"path": str(path)}) from err
    if raw.shape[1] < 9:
        raise DataError(f"shelf table {path} has {raw.shape[1]} columns; expected at least 9 (产品代码 … 卖费率)",
                        code="missing_column", details={"columns": list(raw.columns)})
    frame = raw.iloc[:, :9].copy()
    frame.columns = _COLUMNS
    frame = frame.apply(lambda c: c.str.strip())
    frame["row"] = np.arange(len(frame)) + 2
    code = frame["code"].where(frame["code"] != "")
    frame["block"] = code.notna().cumsum()
    frame["code"] = code.ffill()
    for col in ("name", "type_text", "risk_text", "sip_text"):
        frame[col] = frame[col].where(frame[col] != "").groupby(frame["block"]).transform("first").fillna("")
    return frame.loc[frame["code"].notna()].reset_index(drop=True)


Row = dict[str, object]


def _tiers(block: list[Row], tier_col: str, fee_col: str, what: str,
           problems: list[dict]) -> tuple[list[tuple[float, float, float | None]], str] | None:
    """[(lower, rate, flat)] and the dimension for one fee column of a block, or None (reported)."""
    rows = [(int(r["row"]), str(r[tier_col]), str(r[fee_col])) for r in block if r[tier_col] or r[fee_col]]
    if not rows:
        return None
    if what == "subscription":
        # explicit 申购 tiers win; else unmarked tiers (the 申购 ones beside marked 认购 tiers); else 认购
        kinds = [_purchase_kind(t) for _, t, _ in rows]
        for wanted in ("buy", ""):
            if wanted in kinds:
                rows = [r for r, k in zip(rows, kinds, strict=True) if k == wanted]
                break
    code = str(block[0]["code"])
    out: list[tuple[float, float, float | None]] = []
    dims: set[str] = set()
    for row, tier_text, fee_text in rows:
        try:
            rate, flat = parse_fee_value(fee_text)
            if _normalize(tier_text) in _NO_FEE:
                if len(rows) > 1:
                    raise TierError(f"tier {tier_text!r} without bounds in a block of {len(rows)} tiers")
                lower, dim = 0.0, ""
            else:
                lower, dim = parse_bound(tier_text)
                dims.add(dim)
        except TierError as err:
            problems.append({"code": code, "row": row, "check": "unparsed_fee", "severity": "warning",
                             "message": f"{what}: {err}; default {what} schedule used", "source": SOURCE})
            return None
        out.append((lower, rate, flat))
    lowers = [t[0] for t in out]
    if lowers[0] != 0 or any(b <= a for a, b in itertools.pairwise(lowers)) or len(dims) > 1:
        problems.append({"code": code, "row": rows[0][0], "check": "unparsed_fee", "severity": "warning",
                         "source": SOURCE,
                         "message": f"{what}: tiers {[t for _, t, _ in rows]} do not ascend from 0 in one unit; "
                                    f"default {what} schedule used"})
        return None
    return out, (dims.pop() if dims else "")


def _entry(block: list[Row], problems: list[dict]) -> ShelfEntry:
    first = block[0]
    code = str(first["code"])
    risk: int | None = None
    if first["risk_text"]:
        try:
            risk = int(RiskLevel.parse(first["risk_text"]))
        except BadInputError:
            problems.append({"code": code, "row": int(first["row"]), "check": "unparsed_fee", "severity": "warning",
                             "message": f"risk level {first['risk_text']!r} not recognized", "source": SOURCE})
    sip_text = str(first["sip_text"])
    sip = float(sip_text) if re.fullmatch(r"\d+(?:\.\d+)?", sip_text) else None

    sub = _tiers(block, "sub_tier", "sub_fee", "subscription", problems)
    red = _tiers(block, "red_tier", "red_fee", "redemption", problems)
    back_end = "后端" in str(first["name"]) or (sub is not None and sub[1] == "days")
    subscription = None
    if sub is not None and not back_end:
        bounds = [*(t[0] for t in sub[0][1:]), math.inf]
        subscription = tuple(SubscriptionTier(u, rate, flat) for u, (_, rate, flat) in zip(bounds, sub[0],
                                                                                            strict=True))
    redemption = None
    if red is not None:
        if red[1] == "amount":
            problems.append({"code": code, "row": int(first["row"]), "check": "unparsed_fee",
                             "severity": "warning", "source": SOURCE,
                             "message": "redemption tiers are amounts, not holding periods; default used"})
        else:
            bounds = [*(t[0] for t in red[0][1:]), math.inf]
            redemption = tuple(RedemptionTier(u, rate) for u, (_, rate, _) in zip(bounds, red[0], strict=True))
    return ShelfEntry(code=code, name=str(first["name"]), type_text=str(first["type_text"]), risk_level=risk,
                      min_sip=sip, back_end=back_end, subscription=subscription, redemption=redemption)


def parse_shelf(path: str | Path) -> ShelfTable:
    """Every fund block of a shelf table; unparseable parts are reported in `ShelfTable.issues`."""
    frame = read_shelf_rows(path)
    problems: list[dict] = []
    entries: dict[str, ShelfEntry] = {}
    blocks: dict[int, list[Row]] = {}
    for record in frame.to_dict("records"):
        blocks.setdefault(int(record["block"]), []).append(record)
    for block in blocks.values():
        code = str(block[0]["code"])
        if code in entries:
            problems.append({"code": code, "row": int(block[0]["row"]), "check": "unparsed_fee",
                             "severity": "warning", "source": SOURCE,
                             "message": "fund listed twice; first block kept"})
            continue
        entries[code] = _entry(block, problems)
    return ShelfTable(entries=entries, issues=issues_frame(problems))
