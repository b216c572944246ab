"""The grid as Markdown tables, as recorded in docs/backtest-results.md (`advisor backtest --markdown FILE`).

One table of the policy per level × horizon (⚑ marks what `policy_checks` flags), one against the
alternatives, and the list of findings: re-recording the baseline is one command, not hand-copying.
"""

from __future__ import annotations

from typing import Any


def _pct(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value * 100 + 0.0:.{digits}f}%"
    if text.lstrip("-").strip("0.%") == "":
        text = text.lstrip("-")  # no "−0%"
    return text.replace("-", "−")


def _both(ret: Any, dd: Any) -> str:
    return f"{_pct(ret)} / {_pct(dd)}"


def _key(row: dict[str, Any]) -> tuple[str, float]:
    return str(row["level"]), float(row["horizon_years"])


def grid_table(payload: dict[str, Any]) -> str:
    flagged: dict[tuple[str, float], set[str]] = {}
    for f in payload.get("policy_checks", []):
        flagged.setdefault((f["level"], float(f["horizon_years"])), set()).add(f["check"])
    lines = ["| level | horizon | return / yr | volatility | max drawdown (trough) | recovery (days) | turnover / yr "
             "| fees / yr | trades / yr | vol budget used | drawdown budget used | cohorts losing over their horizon |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in payload["results"]:
        marks = flagged.get(_key(r), set())
        trough = f" ({r['trough_date']})" if r.get("trough_date") else ""
        recovery = f"{r['recovery_days']:,.0f}" if r.get("recovery_days") is not None else "–"
        turnover = f"{(r.get('turnover_per_year') or 0):.2f}×" + (" ⚑" if "turnover_above_1x" in marks else "")
        vol_used = _pct(r.get("volatility_budget_used"), 0) + (" ⚑" if "volatility_over_budget" in marks else "")
        dd_used = _pct(r.get("drawdown_budget_used"), 0) + (" ⚑" if "drawdown_beyond_tolerance" in marks else "")
        losing = (f"{_pct(r.get('horizon_share_negative'), 0)} of {r.get('horizon_cohorts', 0)}"
                  if r.get("horizon_cohorts") else "–")
        lines.append(f"| {r['level']} | {r['horizon_years']:g}y | {_pct(r['annual_return'])} | "
                     f"{_pct(r['annual_volatility'])} | {_pct(r['max_drawdown'])}{trough} | {recovery} | {turnover} | "
                     f"¥{(r.get('fees_per_year') or 0):,.0f} ({_pct(r.get('fees_pct_per_year'), 2)}) | "
                     f"{(r.get('trades_per_year') or 0):.1f} | {vol_used} | {dd_used} | {losing} |")
    return "\n".join(lines)


def alternatives_table(payload: dict[str, Any]) -> str:
    comp = payload.get("comparisons", {})
    twins = {_key(r): r for r in comp.get("buy_and_hold", [])}
    passive = {_key(r): r for r in comp.get("passive_etf_mix", [])}
    today = {_key(r): r for r in comp.get("in_sample_shown_today", [])}
    shown = {_key(r): r for r in comp.get("shown_at_start", [])}
    lines = ["| level | horizon | policy | buy & hold | ETF mix (from) | policy over the ETF span | shown today "
             "(in-sample) | shown at each start (median) | got (median cohort ≥ 1 y) | cohorts below what they "
             "were shown |",
             "|---|---|---|---|---|---|---|---:|---:|---:|"]
    for r in payload["results"]:
        k = _key(r)
        t, p, s, a = twins.get(k, {}), passive.get(k, {}), today.get(k, {}), shown.get(k, {})
        etf = f"{_both(p.get('annual_return'), p.get('max_drawdown'))} ({p.get('start', '–')})" if p else "–"
        lines.append(f"| {r['level']} | {r['horizon_years']:g}y | {_both(r['annual_return'], r['max_drawdown'])} | "
                     f"{_both(t.get('annual_return'), t.get('max_drawdown'))} | {etf} | "
                     f"{_both(p.get('policy_annual_return'), p.get('policy_max_drawdown'))} | "
                     f"{_both(s.get('annual_return'), s.get('max_drawdown'))} | {_pct(a.get('shown_median'))} | "
                     f"{_pct(a.get('realized_median'))} | {_pct(a.get('share_realized_below_shown'), 0)} |")
    return "\n".join(lines)


MEASURES = {"annual_volatility": "volatility", "max_drawdown": "max drawdown"}
CHECK_TEXT = {"turnover_above_1x": "turnover {value:.2f}× a year, above 1×",
              "volatility_over_budget": "volatility {value:.1%} above the level's budget {limit:.1%}",
              "drawdown_beyond_tolerance": "max drawdown {value:.1%} deeper than the model's drawdown budget "
                                           "of {tol:.0%}",
              "risk_not_increasing": "{name} {value:.2%} less risky than {below}'s {limit:.2%} at this horizon",
              "risk_falls_with_horizon": "{name} {value:.2%} below the {shorter} horizon's {limit:.2%} at this "
                                         "level (the glide path has risk grow with the horizon)"}


def finding_text(finding: dict[str, Any]) -> str:
    """One line per policy check finding (CLI and docs)."""
    extra = {"name": MEASURES.get(finding.get("measure", ""), finding.get("measure")),
             "tol": abs(finding["limit"] or 0.0)}
    return (f"{finding['group']}: " + CHECK_TEXT[finding["check"]].format(**finding, **extra)).replace("-", "−")


def checks_list(payload: dict[str, Any]) -> str:
    found = payload.get("policy_checks", [])
    if not found:
        return "No finding: turnover ≤ 1× a year, risk within each level's budget, increasing with the level and " \
               "the horizon."
    return "\n".join(f"* ⚑ {finding_text(f)}" for f in found)


def markdown(payload: dict[str, Any]) -> str:
    span = payload["span"]
    grid = payload["grid"]
    head = (f"Span {span['start']} … {span['end']}; {grid['starts']} monthly starts × {len(grid['levels'])} levels × "
            f"{len(grid['horizons_years'])} horizons, ¥{grid['amount']:,.0f} each"
            + (f" and ¥{grid['monthly']:,.0f} a month" if grid.get("monthly") else "")
            + f"; universe {payload['universe_version']}; code {payload['settings']['code_fingerprint']}.")
    return "\n\n".join([head, grid_table(payload), "Policy checks:", checks_list(payload),
                        "Against the alternatives (return / yr / max drawdown):", alternatives_table(payload)]) + "\n"
