"""Synthetic KYC + behaviour rows for benchmarks, tests and demos (no real customer data exists here).

Columns follow `risk.profiling` (docs/risk-methodology.md §7). Values are drawn with plausible
correlations (income ↔ assets, age ↔ experience, risk held ↔ drawdown behaviour), vectorized.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_OCCUPATIONS = np.array(["employee", "civil_servant", "soe_employee", "professional", "finance", "self_employed",
                         "farmer", "retired", "student", "unemployed", "other"], dtype=object)
_OCCUPATION_P = np.array([0.34, 0.08, 0.1, 0.08, 0.03, 0.12, 0.06, 0.12, 0.03, 0.02, 0.02])


def synthetic_kyc(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 86, n)
    income = np.round(np.exp(rng.normal(11.6, 0.8, n)), -2)
    assets = np.round(income * np.exp(rng.normal(0.3, 1.1, n)) * (1 + (age - 18) / 30), -2)
    debts = np.where(rng.random(n) < 0.4, np.round(income * rng.gamma(1.5, 1.5, n), -2), 0.0)
    years = np.clip(np.round(rng.gamma(1.5, 2.5, n) * np.minimum(1, (age - 18) / 20), 1), 0, None)
    max_risk = np.where(years == 0, 0, rng.integers(1, 6, n))
    held_months = np.where(max_risk > 0, rng.integers(1, 97, n), 0)
    behaviour = np.array(["sold", "held", "bought_more"], dtype=object)[
        np.clip(np.round(rng.normal((max_risk - 1) / 2.5, 0.7, n)), 0, 2).astype(int)]
    behaviour = np.where(years < 1, None, behaviour)
    sip = np.where(rng.random(n) < 0.35, np.round(rng.beta(4, 1.5, n), 2), np.nan)
    holding = np.clip(np.round(np.exp(rng.normal(5.5, 1.0, n))), 1, 7300)
    occupation = rng.choice(_OCCUPATIONS, n, p=_OCCUPATION_P)
    occupation = np.where((age >= 62) & (rng.random(n) < 0.8), "retired", occupation)
    occupation = np.where((age < 60) & (occupation == "retired"), "employee", occupation)
    occupation = np.where((age >= 28) & (occupation == "student"), "employee", occupation).astype(object)
    stated = np.clip(max_risk + rng.integers(-1, 2, n), 1, 5)
    return pd.DataFrame({
        "customer_id": pd.array([f"C{i:08d}" for i in range(n)], dtype="string"),
        "age": age, "annual_income": income, "financial_assets": assets, "debts": debts,
        "dependents": rng.integers(0, 5, n), "occupation": occupation,
        "max_risk_held": max_risk, "max_risk_held_months": held_months, "years_investing": years,
        "drawdown_behaviour": behaviour, "sip_continuity": sip, "typical_holding_days": holding,
        "risk_level": np.array(["C1", "C2", "C3", "C4", "C5"], dtype=object)[stated - 1],
    })
