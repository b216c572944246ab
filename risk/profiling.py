"""Automatic risk profiling of existing customers (老客户智能画像), vectorized over customers.

From KYC facts and observed behaviour, infer the five dimension scores (0–100), a confidence for each,
and the evidence behind them (bit codes with zh/en text). The rules are transparent weighted averages of
interpolated components, documented in docs/risk-methodology.md §7, so a relationship manager can see
why. The questionnaire stays the legal level; the inferred level only raises flags:
- `level_gap`: the inferred level differs from the stated (questionnaire) level by 2 or more;
- `behaviour_more_cautious_than_stated` / `behaviour_bolder_than_stated`: what the customer did
  contradicts the stated attitude (e.g. a C4/C5 who sold in a drawdown or stopped their SIP);
- `held_above_stated_level`: the customer has held products above the stated level.

All steps are numpy operations over whole columns; evidence text is decoded once per distinct bitmask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from products.errors import BadInputError
from risk.config import DEFAULT_CONFIG, DIMENSIONS, RiskConfig
from risk.rules import apply_level_rules
from risk.tiers import customer_tiers

KYC_NUMERIC = ("age", "annual_income", "financial_assets", "debts", "dependents", "max_risk_held_months",
               "years_investing", "sip_continuity", "typical_holding_days", "stated_risk_attitude")
KYC_LIMITS = {"age": (0, 130), "annual_income": (0, 1e11), "financial_assets": (0, 1e12), "debts": (0, 1e12),
              "dependents": (0, 30), "max_risk_held_months": (0, 1200), "years_investing": (0, 100),
              "sip_continuity": (0, 1), "typical_holding_days": (0, 36500), "stated_risk_attitude": (0, 100)}
PRIOR_SCORE = 30.0  # a dimension with no evidence at all: a cautious prior, confidence 0
OBJECTIVE_RELIABILITY = 0.6  # the objective is only indirectly revealed by behaviour

OCCUPATIONS: dict[str, str] = {
    "civil_servant": "civil_servant", "公务员": "civil_servant", "事业单位": "civil_servant",
    "soe_employee": "soe_employee", "国企员工": "soe_employee",
    "employee": "employee", "企业职员": "employee", "职员": "employee",
    "professional": "professional", "专业人士": "professional",
    "finance": "finance", "金融从业": "finance", "金融从业人员": "finance",
    "self_employed": "self_employed", "个体户": "self_employed", "私营业主": "self_employed",
    "farmer": "farmer", "农民": "farmer",
    "retired": "retired", "退休": "retired", "离退休": "retired",
    "student": "student", "学生": "student",
    "unemployed": "unemployed", "无业": "unemployed", "失业": "unemployed",
    "other": "other", "其他": "other",
}
DRAWDOWN_BEHAVIOUR = {"sold": 0, "卖出": 0, "held": 1, "持有": 1, "bought_more": 2, "加仓": 2,
                      "none": -1, "无": -1, "": -1}
FINANCIAL_CAPACITY_ADJUST = {"civil_servant": 5.0, "soe_employee": 5.0, "unemployed": -15.0, "student": -15.0,
                             "retired": -10.0}


@dataclass(frozen=True)
class Evidence:
    code: str
    dimension: str
    text_zh: str
    text_en: str


EVIDENCE: tuple[Evidence, ...] = (
    Evidence("FC_HIGH_INCOME", "financial_capacity", "年收入30万元以上", "yearly income of ¥300k or more"),
    Evidence("FC_LOW_INCOME", "financial_capacity", "年收入不足5万元", "yearly income below ¥50k"),
    Evidence("FC_LARGE_ASSETS", "financial_capacity", "金融资产200万元以上", "financial assets of ¥2M or more"),
    Evidence("FC_SMALL_ASSETS", "financial_capacity", "金融资产不足5万元", "financial assets below ¥50k"),
    Evidence("FC_HIGH_DEBT", "financial_capacity", "负债超过金融资产与年收入之和",
             "debts exceed financial assets plus a year's income"),
    Evidence("FC_MANY_DEPENDENTS", "financial_capacity", "供养3人及以上", "supports 3 or more dependents"),
    Evidence("FC_UNSTABLE_OCCUPATION", "financial_capacity", "无稳定职业收入", "no stable occupational income"),
    Evidence("FC_RETIRED", "financial_capacity", "已退休", "retired"),
    Evidence("KE_LONG_EXPERIENCE", "knowledge_experience", "投资经验5年以上", "investing for 5 years or more"),
    Evidence("KE_NO_EXPERIENCE", "knowledge_experience", "无投资经验", "no investment experience"),
    Evidence("KE_HELD_HIGH_RISK", "knowledge_experience", "曾持有R4及以上产品满1年",
             "held R4+ products for at least a year"),
    Evidence("KE_FINANCE_PROFESSIONAL", "knowledge_experience", "金融从业人员", "works in finance"),
    Evidence("OB_GROWTH_HOLDINGS", "objective", "曾持有R4及以上产品（追求增长）", "has held R4+ products (growth)"),
    Evidence("OB_CAPITAL_PRESERVATION", "objective", "仅持有R1产品或存款（保本为主）",
             "only R1 products or deposits (capital preservation)"),
    Evidence("OB_REGULAR_SIP", "objective", "坚持定投（长期积累）", "keeps up a regular SIP (long-term saving)"),
    Evidence("HL_SHORT_HOLDING", "horizon_liquidity", "产品平均持有期不足半年",
             "typical holding period under 6 months"),
    Evidence("HL_LONG_HOLDING", "horizon_liquidity", "产品平均持有期2年以上", "typical holding period of 2+ years"),
    Evidence("HL_ADVANCED_AGE", "horizon_liquidity", "年满65周岁", "aged 65 or older"),
    Evidence("HL_THIN_SAVINGS", "horizon_liquidity", "金融资产不足半年收入（流动性储备薄弱）",
             "financial assets below half a year's income (thin reserve)"),
    Evidence("RA_SOLD_IN_DRAWDOWN", "risk_attitude", "市场回撤时卖出", "sold during a market drawdown"),
    Evidence("RA_HELD_IN_DRAWDOWN", "risk_attitude", "市场回撤时继续持有", "held on through a market drawdown"),
    Evidence("RA_BOUGHT_IN_DRAWDOWN", "risk_attitude", "市场回撤时加仓", "bought more during a market drawdown"),
    Evidence("RA_SIP_STOPPED", "risk_attitude", "定投中断（扣款完成率不足50%）",
             "SIP interrupted (under 50% of payments made)"),
    Evidence("RA_LONG_HIGH_RISK", "risk_attitude", "持有R4及以上产品满2年", "held R4+ products for 2 years or more"),
)
EVIDENCE_BIT = {e.code: i for i, e in enumerate(EVIDENCE)}

PROFILE_FLAGS: dict[str, tuple[str, str]] = {
    "level_gap": ("画像等级与问卷等级相差2级及以上", "inferred level differs from the questionnaire level by 2+"),
    "behaviour_more_cautious_than_stated": ("实际行为比问卷所述更保守（如回撤时卖出、定投中断）",
                                            "behaviour more cautious than stated (sold in a drawdown, SIP stopped)"),
    "behaviour_bolder_than_stated": ("实际行为比问卷所述更激进（如长期持有高风险产品、回撤时加仓）",
                                     "behaviour bolder than stated (long high-risk holdings, bought in drawdowns)"),
    "held_above_stated_level": ("曾持有高于问卷等级的产品", "has held products above the questionnaire level"),
}


def _interp(x: np.ndarray, xp: list[float], fp: list[float]) -> np.ndarray:
    return np.interp(x, xp, fp)  # NaN in → NaN out (masked by the callers)


def _log10(x: np.ndarray) -> np.ndarray:
    return np.log10(np.maximum(x, 1.0))


def _combine(parts: list[tuple[float, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean over the components present (non-NaN); confidence = weight present / total weight."""
    weights = np.array([w for w, _ in parts])
    values = np.vstack([v for _, v in parts])
    present = ~np.isnan(values)
    w = np.where(present, weights[:, None], 0.0)
    total = w.sum(axis=0)
    mean = np.divide((w * np.nan_to_num(values)).sum(axis=0), total, out=np.full(total.shape, PRIOR_SCORE),
                     where=total > 0)
    return mean, total / weights.sum()


def _column(kyc: pd.DataFrame, name: str) -> np.ndarray:
    if name not in kyc.columns:
        return np.full(len(kyc), np.nan)
    return pd.to_numeric(kyc[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _factorized(kyc: pd.DataFrame, name: str) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 = missing) and stripped text of the distinct values; text work happens per distinct value."""
    codes, uniques = pd.factorize(kyc[name], use_na_sentinel=True)
    return codes, [str(u).strip() for u in uniques]


def _codes(kyc: pd.DataFrame, name: str, mapping: dict, default: object) -> pd.Series:
    """Map a text column through `mapping` (case-insensitive) on its distinct values only."""
    if name not in kyc.columns:
        return pd.Series(np.full(len(kyc), default, dtype=object), index=kyc.index)
    codes, uniques = _factorized(kyc, name)
    mapped = np.array([*(mapping.get(u.lower()) for u in uniques), default], dtype=object)
    return pd.Series(mapped[np.where(codes < 0, len(uniques), codes)], index=kyc.index)


def _risk_levels(kyc: pd.DataFrame, name: str) -> np.ndarray:
    """Parse a column of R/C levels (1–5, "R3", "C3"); 0 = never held; NaN = unknown; -1 = invalid."""
    if name not in kyc.columns:
        return np.full(len(kyc), np.nan)
    col = kyc[name]
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(values) | np.isin(values, [0, 1, 2, 3, 4, 5]), values, -1.0)
    codes, uniques = _factorized(kyc, name)
    parsed = []
    for text in uniques:
        upper = text.upper()
        digits = upper[1:] if upper[:1] in ("R", "C") else upper
        digits = digits[:-2] if digits.endswith(".0") else digits
        parsed.append(float(digits) if digits in {"0", "1", "2", "3", "4", "5"} else -1.0)
    table = np.array([*parsed, np.nan])
    return table[np.where(codes < 0, len(uniques), codes)]


def _parse(kyc: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every input column parsed once: numbers as float (NaN = missing or not a number), levels, codes."""
    parsed = {name: _column(kyc, name) for name in KYC_NUMERIC}
    parsed["max_risk_held"] = _risk_levels(kyc, "max_risk_held")
    parsed["risk_level"] = _risk_levels(kyc, "risk_level")
    parsed["occupation"] = _codes(kyc, "occupation", OCCUPATIONS, "other").to_numpy()  # None = unknown text
    parsed["drawdown_behaviour"] = _codes(kyc, "drawdown_behaviour", DRAWDOWN_BEHAVIOUR, -1).to_numpy()
    return parsed


def _check(kyc: pd.DataFrame, parsed: dict[str, np.ndarray]) -> pd.DataFrame:
    """rejects[customer_id, row, field, reason], vectorized per check."""
    if "customer_id" not in kyc.columns:
        raise BadInputError("kyc: missing column customer_id", details={"field": "customer_id"})
    problems: list[pd.DataFrame] = []
    ids = kyc["customer_id"]

    def add(mask: np.ndarray, field: str, reason: str) -> None:
        if mask.any():
            rows = np.flatnonzero(mask)
            problems.append(pd.DataFrame({"customer_id": ids.iloc[rows].astype("string").to_numpy(),
                                          "row": rows, "field": field, "reason": reason}))

    id_text = ids if pd.api.types.is_string_dtype(ids) else ids.astype("string")
    add((id_text.isna() | id_text.str.strip().eq("").fillna(True)).to_numpy(dtype=bool), "customer_id",
        "missing customer id")
    add((id_text.duplicated(keep="first") & id_text.notna()).to_numpy(dtype=bool), "customer_id",
        "duplicate customer id")
    for name, (low, high) in KYC_LIMITS.items():
        if name not in kyc.columns:
            continue
        values = parsed[name]
        add(np.isnan(values) & kyc[name].notna().to_numpy(), name, "not a number")
        add(~np.isnan(values) & ((values < low) | (values > high)), name, f"out of range {low:g}–{high:g}")
    for name in ("max_risk_held", "risk_level"):
        add(parsed[name] == -1, name, "not a risk level 0–5 / R1–R5 / C1–C5")
    if "drawdown_behaviour" in kyc.columns:
        add(pd.isna(parsed["drawdown_behaviour"]), "drawdown_behaviour", "expected sold, held, bought_more or none")
    if "occupation" in kyc.columns:
        add(pd.isna(parsed["occupation"]), "occupation",
            "unknown occupation code: " + ", ".join(sorted(set(OCCUPATIONS.values()))))
    if not problems:
        return pd.DataFrame({"customer_id": pd.Series(dtype="string"), "row": pd.Series(dtype="int64"),
                             "field": pd.Series(dtype="string"), "reason": pd.Series(dtype="string")})
    return pd.concat(problems, ignore_index=True).sort_values(["row", "field"], ignore_index=True)


def _split(kyc: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray], pd.DataFrame]:
    parsed = _parse(kyc) if "customer_id" in kyc.columns else {}
    rejects = _check(kyc, parsed)
    if not len(rejects):
        return kyc.reset_index(drop=True), parsed, rejects
    good = np.ones(len(kyc), dtype=bool)
    good[rejects["row"].to_numpy(dtype=np.int64)] = False
    return (kyc.loc[good].reset_index(drop=True), {k: v[good] for k, v in parsed.items()}, rejects)


def validate_kyc(kyc: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split KYC rows into (clean, rejects[customer_id, row, field, reason]); checks are vectorized."""
    clean, _, rejects = _split(kyc)
    return clean, rejects


def infer_profiles(kyc: pd.DataFrame, config: RiskConfig = DEFAULT_CONFIG, *,
                   evidence_text: bool = True) -> pd.DataFrame:
    """Infer five-dimension profiles; raises BadInputError naming the first bad row and field."""
    clean, parsed, rejects = _split(kyc)
    if len(rejects):
        first = rejects.iloc[0]
        raise BadInputError(f"kyc row {int(first['row'])} (customer {first['customer_id']}): {first['field']}: "
                            f"{first['reason']} ({len(rejects)} problem(s) in total)",
                            details={"row": int(first["row"]), "field": str(first["field"]),
                                     "customer_id": str(first["customer_id"])})
    return _infer(clean, parsed, config, evidence_text)


def profile_batch(kyc: pd.DataFrame, config: RiskConfig = DEFAULT_CONFIG, *,
                  evidence_text: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Batch form: profile the good rows, return (profiles, rejects) instead of stopping at a bad row."""
    clean, parsed, rejects = _split(kyc)
    return _infer(clean, parsed, config, evidence_text), rejects


def _infer(kyc: pd.DataFrame, parsed: dict[str, np.ndarray], config: RiskConfig,
           evidence_text: bool) -> pd.DataFrame:
    n = len(kyc)
    age, income, assets = parsed["age"], parsed["annual_income"], parsed["financial_assets"]
    debts, dependents = parsed["debts"], parsed["dependents"]
    held_months, years = parsed["max_risk_held_months"], parsed["years_investing"]
    sip, holding_days = parsed["sip_continuity"], parsed["typical_holding_days"]
    stated_attitude = parsed["stated_risk_attitude"]
    max_risk, stated_level = parsed["max_risk_held"], parsed["risk_level"]
    occupation = parsed["occupation"]
    behaviour = parsed["drawdown_behaviour"].astype(float)
    behaviour = np.where(behaviour < 0, np.nan, behaviour)

    risk_held = np.where(max_risk > 0, (max_risk - 1) / 4 * 100, np.where(max_risk == 0, 0.0, np.nan))
    duration_1y = np.where(max_risk == 0, 1.0, np.clip(held_months / 12, 0, 1))
    duration_2y = np.where(max_risk == 0, 1.0, np.clip(held_months / 24, 0, 1))
    wealth = np.nan_to_num(assets) + np.nan_to_num(income)
    has_wealth = ~np.isnan(assets) | ~np.isnan(income)
    debt_ratio = np.where(has_wealth & ~np.isnan(debts), debts / np.maximum(wealth, 1.0), np.nan)
    savings_years = np.where(~np.isnan(assets) & (income > 0), assets / np.where(income > 0, income, 1.0), np.nan)

    fc, fc_conf = _combine([
        (0.35, _interp(_log10(income), [4.48, 5.0, 5.48, 6.0], [0, 35, 65, 100]) + income * 0),
        (0.35, _interp(_log10(assets), [4.0, 4.7, 5.7, 6.3, 6.78], [0, 20, 50, 80, 100]) + assets * 0),
        (0.20, _interp(debt_ratio, [0, 0.5, 1, 2], [100, 60, 30, 0]) + debt_ratio * 0),
        (0.10, np.clip(100 - 20 * dependents, 0, 100)),
    ])
    occupation_adjust = pd.Series(occupation).map(FINANCIAL_CAPACITY_ADJUST).fillna(0.0).to_numpy(dtype=float)
    fc = np.clip(fc + np.where(fc_conf > 0, occupation_adjust, 0.0), 0, 100)

    finance_pro = occupation == "finance"
    ke, ke_conf = _combine([
        (0.5, _interp(years, [0, 1, 3, 5, 10], [0, 25, 50, 75, 100]) + years * 0),
        (0.4, risk_held * duration_1y),
        (0.1, np.where(finance_pro, 100.0, np.nan)),
    ])
    ke = np.clip(ke + np.where(finance_pro & (ke_conf > 0), 10.0, 0.0), 0, 100)

    ob, ob_conf = _combine([
        (0.5, risk_held),
        (0.3, _interp(age, [25, 45, 60, 75], [80, 65, 40, 15]) + age * 0),
        (0.2, 40 + 40 * sip),
    ])
    ob_conf = ob_conf * OBJECTIVE_RELIABILITY

    hl, hl_conf = _combine([
        (0.4, _interp(holding_days, [30, 180, 365, 730, 1460], [0, 25, 50, 75, 100]) + holding_days * 0),
        (0.3, _interp(age, [30, 55, 65, 75, 85], [100, 80, 55, 30, 10]) + age * 0),
        (0.3, _interp(savings_years, [0.1, 0.5, 1, 3], [10, 40, 70, 100]) + savings_years * 0),
    ])

    ra, ra_conf = _combine([
        (0.45, np.array([10.0, 65.0, 90.0])[np.nan_to_num(behaviour, nan=0).astype(int)] + behaviour * 0),
        (0.35, risk_held * duration_2y),
        (0.20, sip * 100),
    ])

    dims = {"financial_capacity": fc, "knowledge_experience": ke, "objective": ob, "horizon_liquidity": hl,
            "risk_attitude": ra}
    confs = {"financial_capacity": fc_conf, "knowledge_experience": ke_conf, "objective": ob_conf,
             "horizon_liquidity": hl_conf, "risk_attitude": ra_conf}
    score = sum(config.dimension_weights[d] * dims[d] for d in DIMENSIONS)
    minor = ~np.isnan(age) & (age < config.adult_age)
    outcome = apply_level_rules(score, dims, age, minor, config)
    inferred = outcome.level

    # Evidence bits (each a vectorized condition).
    conditions = {
        "FC_HIGH_INCOME": income >= 300_000, "FC_LOW_INCOME": income < 50_000,
        "FC_LARGE_ASSETS": assets >= 2_000_000, "FC_SMALL_ASSETS": assets < 50_000,
        "FC_HIGH_DEBT": debt_ratio > 1, "FC_MANY_DEPENDENTS": dependents >= 3,
        "FC_UNSTABLE_OCCUPATION": np.isin(occupation, ["unemployed", "student"]),
        "FC_RETIRED": occupation == "retired",
        "KE_LONG_EXPERIENCE": years >= 5, "KE_NO_EXPERIENCE": (years == 0) | ((max_risk == 0) & ~(years > 0)),
        "KE_HELD_HIGH_RISK": (max_risk >= 4) & (held_months >= 12), "KE_FINANCE_PROFESSIONAL": finance_pro,
        "OB_GROWTH_HOLDINGS": max_risk >= 4, "OB_CAPITAL_PRESERVATION": (max_risk == 0) | (max_risk == 1),
        "OB_REGULAR_SIP": sip >= 0.8,
        "HL_SHORT_HOLDING": holding_days < 180, "HL_LONG_HOLDING": holding_days >= 730,
        "HL_ADVANCED_AGE": age >= config.senior_age, "HL_THIN_SAVINGS": savings_years < 0.5,
        "RA_SOLD_IN_DRAWDOWN": behaviour == 0, "RA_HELD_IN_DRAWDOWN": behaviour == 1,
        "RA_BOUGHT_IN_DRAWDOWN": behaviour == 2, "RA_SIP_STOPPED": sip < 0.5,
        "RA_LONG_HIGH_RISK": (max_risk >= 4) & (held_months >= 24),
    }
    mask = np.zeros(n, dtype=np.int64)
    for code, cond in conditions.items():
        mask |= np.asarray(cond, dtype=np.int64) << EVIDENCE_BIT[code]

    has_stated = stated_level >= 1
    stated_bold = (has_stated & (stated_level >= 4)) | (stated_attitude >= 60)
    stated_cautious = (has_stated & (stated_level <= 2)) | (stated_attitude < 40)
    flag_cols = {
        "level_gap": has_stated & (np.abs(inferred - np.nan_to_num(stated_level)) >= 2),
        "behaviour_more_cautious_than_stated": stated_bold & ((behaviour == 0) | (sip < 0.5)),
        "behaviour_bolder_than_stated": stated_cautious & (((max_risk >= 4) & (held_months >= 12))
                                                           | (behaviour == 2)),
        "held_above_stated_level": has_stated & (max_risk > stated_level),
    }
    flag_mask = np.zeros(n, dtype=np.int64)
    for i, cond in enumerate(flag_cols.values()):
        flag_mask |= np.asarray(cond, dtype=np.int64) << i

    ids = kyc["customer_id"].reset_index(drop=True)
    out = pd.DataFrame({"customer_id": ids if pd.api.types.is_string_dtype(ids) else ids.astype("string")})
    for d in DIMENSIONS:
        out[d] = np.round(dims[d], 1)
        out[f"{d}_confidence"] = np.round(confs[d], 2)
    out["score"] = np.round(score, 1)
    out["inferred_level"] = inferred
    out["inferred_label"] = pd.Categorical.from_codes(inferred - 1, categories=["C1", "C2", "C3", "C4", "C5"])
    out["confidence"] = np.round(sum(config.dimension_weights[d] * confs[d] for d in DIMENSIONS), 2)
    out["senior"] = outcome.senior
    out["stated_level"] = pd.array(np.where(has_stated, stated_level, np.nan), dtype="Int64")
    out["level_gap"] = pd.array(np.where(has_stated, inferred - np.nan_to_num(stated_level), np.nan), dtype="Int64")
    for name, cond in flag_cols.items():
        out[f"flag_{name}"] = np.asarray(cond, dtype=bool)
    tiers = np.full(n, None, dtype=object)
    has_assets = ~np.isnan(assets)
    tiers[has_assets] = customer_tiers(assets[has_assets], config)
    out["tier"] = pd.array(tiers, dtype="string")
    out["evidence_mask"] = mask
    if evidence_text:
        out["evidence"] = _decode_column(mask, [e.code for e in EVIDENCE])
        out["flags"] = _decode_column(flag_mask, list(PROFILE_FLAGS))
    return out


def _decode_column(mask: np.ndarray, names: list[str]) -> pd.Categorical:
    """';'-joined names for each bitmask as a categorical: decoded once per distinct mask, 8 codes at a time."""
    inverse, uniques = pd.factorize(mask)  # hashing: O(n), no sort
    n_bytes = (len(names) + 7) // 8
    tables = [[";".join(names[8 * b + i] for i in range(8) if 8 * b + i < len(names) and value >> i & 1)
               for value in range(256)] for b in range(n_bytes)]
    texts = [";".join(part for b in range(n_bytes) if (part := tables[b][u >> (8 * b) & 255]))
             for u in uniques.tolist()]
    return pd.Categorical.from_codes(inverse, categories=pd.Index(texts, dtype=object))


def explain(evidence_mask: int) -> list[Evidence]:
    """The evidence items behind one customer's profile, for display (zh/en)."""
    return [e for i, e in enumerate(EVIDENCE) if int(evidence_mask) >> i & 1]


def explain_flags(flag_codes: str) -> list[dict[str, str]]:
    return [{"code": c, "text_zh": PROFILE_FLAGS[c][0], "text_en": PROFILE_FLAGS[c][1]}
            for c in str(flag_codes).split(";") if c in PROFILE_FLAGS]


def profile_card(row: Mapping[str, Any]) -> dict[str, Any]:
    """One customer's profile for a relationship manager: per dimension the score, confidence and the
    evidence behind it (zh/en), plus the flags. `row` is one row of `infer_profiles` (Series or dict)."""
    evidence = explain(int(row["evidence_mask"]))
    dimensions = {
        d: {"score": float(row[d]), "confidence": float(row[f"{d}_confidence"]),
            "evidence": [{"code": e.code, "text_zh": e.text_zh, "text_en": e.text_en}
                         for e in evidence if e.dimension == d]}
        for d in DIMENSIONS}
    flag_codes = [name for name in PROFILE_FLAGS if bool(row.get(f"flag_{name}", False))]
    stated = row.get("stated_level")
    return {
        "customer_id": str(row["customer_id"]),
        "inferred_level": f"C{int(row['inferred_level'])}",
        "stated_level": None if stated is None or pd.isna(stated) else f"C{int(stated)}",
        "score": float(row["score"]),
        "confidence": float(row["confidence"]),
        "senior": bool(row.get("senior", False)),
        "dimensions": dimensions,
        "flags": explain_flags(";".join(flag_codes)),
        "legal_note_zh": "画像结果仅供客户经理参考，客户的法定风险等级以风险测评问卷结果为准。",
        "legal_note_en": "The inferred profile informs the relationship manager only; the customer's legal "
                         "risk level is the questionnaire result.",
    }
