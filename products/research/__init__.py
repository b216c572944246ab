"""Fund research: the 8-dimension leaderboard, holdings look-through, and investment style.

Public entry points (all vectorized across funds; a single fund is a batch of one):

* `leaderboard(universe, as_of=None, weights=None)` – peer-group percentiles on 8 dimensions, composite
  score and 1–5 stars (`products.research.leaderboard`).
* `fund_look_through`, `look_through`, `holdings_overlap`, `portfolio_look_through` – industry and stock
  exposures from quarterly top-10 holdings (`products.research.lookthrough`).
* `style_analysis`, `rolling_style`, `holdings_tilts` – returns-based style (Sharpe 1992) and
  holdings-based tilts (`products.research.style`).
* `research_card(universe, code, as_of=None)` – one fund's research summary as a JSON-ready dict
  (merged into `advisor funds show CODE --json`).

Formulas: docs/research-methodology.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from products.errors import BadInputError
from products.research._common import PEER_GROUP_NAMES_ZH, PEER_GROUP_OF_TYPE, to_timestamp
from products.research.leaderboard import (
    DEFAULT_WEIGHTS,
    DIMENSION_NAMES_ZH,
    DIMENSIONS,
    assign_stars,
    leaderboard,
    peer_groups,
)
from products.research.lookthrough import (
    NO_HOLDINGS_NOTE,
    clean_holdings,
    fund_look_through,
    holdings_overlap,
    look_through,
    portfolio_look_through,
)
from products.research.style import (
    STYLE_NAMES,
    STYLE_NAMES_ZH,
    bond_style_label,
    holdings_tilts,
    rolling_style,
    style_analysis,
)
from products.universe import Universe

__all__ = [
    "DEFAULT_WEIGHTS",
    "DIMENSIONS",
    "DIMENSION_NAMES_ZH",
    "PEER_GROUP_NAMES_ZH",
    "PEER_GROUP_OF_TYPE",
    "STYLE_NAMES",
    "STYLE_NAMES_ZH",
    "assign_stars",
    "clean_holdings",
    "fund_look_through",
    "holdings_overlap",
    "holdings_tilts",
    "leaderboard",
    "look_through",
    "peer_groups",
    "portfolio_look_through",
    "research_card",
    "rolling_style",
    "style_analysis",
]

TOP_STOCKS_IN_CARD = 10
STYLE_R_SQUARED_CAUTION = 0.6  # below this (but explained) the card says how much is unexplained
TILTS_IN_CARD = 3


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def research_card(universe: Universe, code: str, as_of: date | str | pd.Timestamp | None = None) -> dict[str, Any]:
    """One fund's research summary: leaderboard dimensions and stars, look-through, style.

    Keys: `as_of`, `category`, `rated`, `score`, `stars`, `dimensions` (the eight percentiles by name),
    `look_through` {`as_of`, `quarter`, `source`, `equity_share`, `concentration`, `industries`,
    `top_stocks`, `issues`, `notes`}, `style` {`weights` by style name, `r_squared`, `drift`, `window_end`,
    `holdings` {`boards`, `overweight`, `underweight`}}. Missing parts are None / empty, never invented;
    a part the data cannot support (no holdings, no style benchmarks) carries `unavailable` with the reason.
    """
    code = str(code)
    universe.fund(code)  # NotFoundError for unknown codes
    ts = to_timestamp(as_of)
    board = leaderboard(universe, ts)
    card: dict[str, Any] = {"as_of": board.attrs.get("as_of")}
    if code in board.index:
        row = board.loc[code]
        card.update({
            "category": row["category"], "category_zh": PEER_GROUP_NAMES_ZH.get(row["category"], row["category"]),
            "rated": bool(row["rated"]), "score": _num(row["score"]),
            "stars": None if pd.isna(row["stars"]) else int(row["stars"]),
            "history_years": _num(row["history_years"]),
            "dimensions": {d: _num(row[d]) for d in DIMENSIONS},
        })
    else:
        card.update({"category": None, "rated": False, "score": None, "stars": None, "history_years": None,
                     "dimensions": dict.fromkeys(DIMENSIONS)})
    if not card["rated"]:
        card["unrated_reason"] = "under 3 years of history / 成立或数据不足3年"
    card["look_through"] = _look_through_card(universe, code, ts)
    card["style"] = _style_card(universe, code, ts)
    return card


def _look_through_card(universe: Universe, code: str, as_of: pd.Timestamp | None) -> dict[str, Any]:
    result = look_through(universe, [code], None, as_of)
    summary = result.summary.loc[code]
    industries = result.industries.loc[code]
    industries = industries[industries > 0].sort_values(ascending=False)
    top = result.top_stocks[result.top_stocks["code"] == code].head(TOP_STOCKS_IN_CARD)
    quarter_end = summary.get("as_of")
    card: dict[str, Any] = {
        "as_of": None if pd.isna(quarter_end) else pd.Timestamp(quarter_end).date().isoformat(),
        "quarter": None if pd.isna(summary.get("quarter")) else str(summary["quarter"]),
        "source": summary.get("source"),
        "equity_share": _num(summary.get("equity_share")),
        "concentration": _num(summary.get("top10_share")),
        "industries": {str(k): float(v) for k, v in industries.items()},
        "top_stocks": [
            {"stock_code": r.stock_code, "stock_name": r.stock_name, "market": r.market,
             "industry": r.industry, "weight": float(r.weight)}
            for r in top.itertuples(index=False)
        ],
        "issues": result.issues.to_dict(orient="records"),
        "notes": list(result.notes),
    }
    if NO_HOLDINGS_NOTE in result.notes:
        card["unavailable"] = NO_HOLDINGS_NOTE
    return card


def _style_card(universe: Universe, code: str, as_of: pd.Timestamp | None) -> dict[str, Any]:
    """Returns-based style (unavailable without style benchmarks) and holdings tilts (None without holdings)."""
    card: dict[str, Any] = {"method": "returns-based style analysis (Sharpe 1992), weekly returns, 52-week window"}
    try:
        style = style_analysis(universe, [code], as_of=as_of).loc[code]
    except BadInputError as err:  # no usable style basis (e.g. a universe without benchmark series)
        card.update({"weights": {}, "r_squared": None, "drift": None, "window_end": None,
                     "unavailable": err.message})
    else:
        weights = {s: _num(style[s]) for s in STYLE_NAMES if _num(style[s]) is not None}
        r2 = _num(style["r_squared"])
        card.update({
            "weights": weights, "r_squared": r2, "unexplained": _num(style["unexplained"]),
            "explained": bool(style["explained"]), "drift": _num(style["drift"]),
            "window_end": None if pd.isna(style["window_end"])
            else pd.Timestamp(style["window_end"]).date().isoformat(),
        })
        if r2 is not None and not card["explained"]:
            card["warning"] = {
                "code": "style_unexplained",
                "zh": f"风格指数只能解释该基金{r2:.0%}的收益波动（R²），风格结论不可靠，不列示风格权重。",
                "en": f"The style series explain only {r2:.0%} of this fund's return variance (R²): its style "
                      "cannot be read from returns, so no weights are shown (they are not cash).",
            }
        elif r2 is not None and r2 < STYLE_R_SQUARED_CAUTION:
            card["warning"] = {
                "code": "style_low_r_squared",
                "zh": f"风格指数解释该基金{r2:.0%}的收益波动（R²），其余{1 - r2:.0%}无法由风格解释，风格权重仅供参考。",
                "en": f"The style series explain {r2:.0%} of this fund's return variance (R²); the other "
                      f"{1 - r2:.0%} is unexplained, so read the weights with care.",
            }
        duration, equity = _num(style.get("duration_years")), _num(style.get("equity_share"))
        if duration is not None and equity is not None:
            card["bond_style"] = {
                "duration_years": duration, "equity_share": equity,
                "label_zh": bond_style_label(duration, equity, "zh"),
                "label_en": bond_style_label(duration, equity, "en"),
                "method": "returns-based estimate: 10-year treasury weight × 8 years; equity styles' weight",
            }
    tilts = holdings_tilts(universe, [code], None, as_of)
    boards = tilts["boards"]
    if code in boards.index and boards.loc[code].notna().any():
        tilt = tilts["industry_tilt"].loc[code].dropna().sort_values()
        card["holdings"] = {
            "boards": {k: _num(v) for k, v in boards.loc[code].items()},
            "overweight": {k: float(v) for k, v in tilt[tilt > 0].iloc[::-1].head(TILTS_IN_CARD).items()},
            "underweight": {k: float(v) for k, v in tilt[tilt < 0].head(TILTS_IN_CARD).items()},
        }
    else:
        card["holdings"] = None
    return card
