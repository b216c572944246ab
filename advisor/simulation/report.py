"""The backtest as a self-contained HTML page: tables and charts (inline SVG, nothing loaded at run time).

Charts per level × horizon: wealth of the policy composite against buy-and-hold and the passive ETF mix,
their drawdowns, and the policy's asset-class allocation over time. Texts are bilingual; chart labels
are short English words and numbers (no CJK font is needed on the server).
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import numpy as np

from advisor.assumptions import CLASSES
from advisor.simulation.backtest import Backtest
from advisor.simulation.comparisons import passive_mix
from products.taxonomy import ASSET_CLASS_NAMES_ZH, AssetClass
from products.universe import Universe

COLORS = {"policy": "#c0392b", "buy_and_hold": "#2c3e50", "passive": "#7f8c8d"}
CLASS_COLORS = ["#95a5a6", "#2980b9", "#c0392b", "#8e44ad", "#f1c40f"]


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _growth(returns: np.ndarray) -> np.ndarray:
    return np.cumprod(np.where(np.isfinite(returns), 1.0 + returns, 1.0))


def charts(run: Backtest, universe: Universe) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = run.result
    comp = run.groups.attrs["composite_returns"]
    groups = result.groups
    policy = groups[groups["kind"] == "policy"]
    passive, _ = passive_mix(result, universe)
    levels = sorted(policy["level"].unique())
    horizons = sorted(policy["horizon_years"].unique())
    dates = result.dates
    out = {}
    for name in ("wealth", "drawdown", "allocation"):
        fig, axes = plt.subplots(len(levels), len(horizons), figsize=(3.6 * len(horizons), 2.3 * len(levels)),
                                 squeeze=False, sharex=True)
        for i, level in enumerate(levels):
            for j, years in enumerate(horizons):
                ax = axes[i][j]
                ax.set_title(f"C{level} · {years:g}y", fontsize=9)
                ax.tick_params(labelsize=7)
                g = int(groups.index[(groups["level"] == level) & (groups["horizon_years"] == years)
                                     & (groups["kind"] == "policy")][0])
                twin = groups.index[(groups["level"] == level) & (groups["horizon_years"] == years)
                                    & (groups["kind"] == "buy_and_hold")]
                series = {"policy": comp[g]}
                if len(twin):
                    series["buy_and_hold"] = comp[int(twin[0])]
                key = f"C{level}/{years:g}"
                if key in passive.columns:
                    series["passive"] = passive[key].to_numpy()
                if name == "allocation":
                    cv = result.class_values[g]
                    total = cv.sum(axis=0)
                    share = np.divide(cv, total, out=np.zeros_like(cv), where=total > 0)
                    ax.stackplot(dates, share, colors=CLASS_COLORS, labels=list(CLASSES), linewidth=0)
                    ax.set_ylim(0, 1)
                    continue
                for label, r in series.items():
                    growth = _growth(r)
                    y = growth if name == "wealth" else growth / np.maximum.accumulate(growth) - 1.0
                    ax.plot(dates, y, color=COLORS[label], linewidth=0.9, label=label)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=5, fontsize=8, frameon=False)
        fig.autofmt_xdate()
        out[name] = _svg(fig)
        plt.close(fig)
    return out


def _cell(value: Any, pct: bool = True) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if pct:
        return f"{value * 100:.1f}%"
    return html.escape(str(value))


def write_html(run: Backtest, path: Path, universe: Universe) -> Path:
    """Write the report of `run` (simulated on `universe`) to `path`."""
    payload = run.payload
    svgs = charts(run, universe)
    comp = payload.get("comparisons", {})
    twins = {(r["level"], r["horizon"]): r for r in comp.get("buy_and_hold", [])}
    passive = {(r["level"], r["horizon"]): r for r in comp.get("passive_etf_mix", [])}
    today = {(r["level"], r["horizon"]): r for r in comp.get("in_sample_shown_today", [])}
    rows = []
    for r in payload["results"]:
        key = (r["level"], r["horizon"])
        p = passive.get(key, {})
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            r["level"], f"{r['horizon_years']:g}", _cell(r["annual_return"]), _cell(r["annual_volatility"]),
            _cell(r["max_drawdown"]), f"{(r['turnover_per_year'] or 0):.2f}×", _cell(r["fees_pct_per_year"]),
            f"{(r['trades_per_year'] or 0):.1f}", _cell(r["volatility_budget_used"]),
            _cell(r["horizon_share_negative"]),
            _cell(twins.get(key, {}).get("annual_return")), _cell(p.get("annual_return")),
            _cell(p.get("policy_annual_return")), _cell(today.get(key, {}).get("annual_return")))) + "</tr>")
    head = ("level", "horizon (y)", "return / yr", "volatility", "max drawdown", "turnover / yr", "fees / yr",
            "trades / yr", "vol budget used", "cohorts losing over horizon", "buy & hold", "ETF mix",
            "policy on ETF span", "in-sample shown today")
    classes = "、".join(f"{ASSET_CLASS_NAMES_ZH[AssetClass(c)]} {c}" for c in CLASSES)
    page = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>模拟业绩 Walk-forward record</title>
<style>body{{font-family:sans-serif;margin:24px;max-width:1200px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}th{{background:#f4f4f4}}
.note{{color:#555;font-size:13px}}svg{{max-width:100%;height:auto}}</style></head><body>
<h1>模拟业绩 / Walk-forward record</h1>
<p>{html.escape(payload['label']['zh'])}<br>{html.escape(payload['label']['en'])}</p>
<p class="note">Span {payload['span']['start']} … {payload['span']['end']} · {payload['grid']['starts']} monthly
starts · first purchase ¥{payload['grid']['amount']:,.0f} · universe {payload['universe_version']} ·
research {payload['settings']['research_cadence']} ·
rebalancing calendar {payload['settings']['rebalance_calendar']}</p>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{''.join(rows)}</table>
<p class="note">ETF mix: the model's class weights in real ETFs, from the first day every ETF has a price; "policy on
ETF span" is the policy composite over the same days. 资产类别 / classes: {html.escape(classes)}.</p>
<h2>财富曲线 / Wealth (composite, growth of 1)</h2>{svgs['wealth']}
<h2>回撤 / Drawdown</h2>{svgs['drawdown']}
<h2>资产配置 / Allocation over time (policy)</h2>{svgs['allocation']}
</body></html>"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
