"""The three most valuable actions, each linked to the service that carries it out.

Every rule names the action that would fix it (`Rule.action`). An action's value for a customer is the
score points it would win back: Σ over its fired rules of family weight × rule points. The three actions
with the highest value are listed, the most valuable first; re-assessment always comes first when the
assessment has expired, because no advice may be acted on without it.

Kinds and what carries them out:
``reassess`` → `advisor risk assess`; ``rebalance`` → `advisor rebalance`; ``proposal`` →
`advisor propose` (with ``--lowest-category`` for a lowest-category customer); ``fund_swap`` → a same-class
swap (`advisor rebalance` with the fund replaced, or `advisor funds rank --max-risk` for the customer's level);
``review`` → the relationship manager (no automated executor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.diagnosis.book import Book
from advisor.diagnosis.rules.base import Rule
from advisor.diagnosis.rules.liquidity import liquid_assets
from advisor.diagnosis.score import FAMILY_WEIGHTS, rule_points
from products.taxonomy import INVESTOR_CURRENCY, currency_of_fund


@dataclass(frozen=True)
class Action:
    id: str
    kind: str  # reassess / rebalance / proposal / fund_swap / review
    title_zh: str
    title_en: str
    command: str  # template of the CLI call that carries it out ({level}{lowest}, {amount}, {max_risk} ...)


ACTIONS: tuple[Action, ...] = (
    Action("reassess", "reassess", "重新进行风险测评", "Renew the risk assessment",
           "advisor risk assess --answers ANSWERS.json --json"),
    Action("reduce_above_level", "rebalance", "调出高于风险等级的基金", "Reduce funds above the risk level",
           "advisor rebalance --customer-json CUSTOMER.json --json"),
    Action("build_cash_reserve", "proposal", "补足3–6个月应急资金", "Build a 3–6 month emergency reserve",
           "advisor propose --level {level}{lowest} --amount {shortfall} --horizon-years 0.5 --json"),
    Action("rebalance_to_model", "rebalance", "按模型组合再平衡", "Rebalance to the model portfolio",
           "advisor rebalance --customer-json CUSTOMER.json --json"),
    Action("diversify", "proposal", "分散配置:按模型组合重新构建", "Diversify with a model-portfolio proposal",
           "advisor propose --level {level}{lowest} --amount {amount} --horizon-years {horizon} --json"),
    Action("consolidate_duplicates", "fund_swap", "合并重复或高度相似的基金", "Merge duplicate or look-alike funds",
           "advisor rebalance --customer-json CUSTOMER.json --json"),
    Action("replace_weak_funds", "fund_swap", "将表现较差或费率偏高的基金换成同类更优基金",
           "Swap weak or expensive funds for better ones of the same kind",
           "advisor funds rank{category} --max-risk {max_risk} --top 5 --json"),
    Action("switch_share_class", "fund_swap", "长期持有的C类份额转换为A类", "Switch long-held C classes to A",
           "advisor rebalance --customer-json CUSTOMER.json --json"),
    Action("invest_idle_cash", "proposal", "闲置资金按风险等级配置", "Invest idle cash for the risk level",
           "advisor propose --level {level}{lowest} --amount {excess} --horizon-years {horizon} --json"),
    Action("review_protection", "review", "与客户经理沟通保险保障",
           "Review insurance cover with the relationship manager",
           ""),
)
ACTION_INDEX = {action.id: k for k, action in enumerate(ACTIONS)}
REASSESS_BONUS = 1_000.0
TOP_N = 3


def action_values(rules: Sequence[Rule], severities: dict[str, np.ndarray], n: int) -> np.ndarray:
    """n × len(ACTIONS) score points each action would win back."""
    values = np.zeros((n, len(ACTIONS)))
    for rule in rules:
        if rule.action is None:
            continue
        k = ACTION_INDEX[rule.action]
        values[:, k] += FAMILY_WEIGHTS[rule.family] * rule_points(rule, severities[rule.id])
        if rule.action == "reassess":
            values[:, k] += np.where(severities[rule.id] >= 3, REASSESS_BONUS, 0.0)
    return values


def top_actions(values: np.ndarray, top_n: int = TOP_N) -> np.ndarray:
    """n × top_n action indices, most valuable first (ties keep the ACTIONS order); -1 where none."""
    order = np.argsort(-values, axis=1, kind="stable")[:, :top_n]
    chosen = np.take_along_axis(values, order, axis=1)
    return np.where(chosen > 0, order, -1)


def _category_option(book: Book, funds: list[dict[str, Any]]) -> str:
    """` --category <peer group>` of the first fund named that has one (funds rank lists its peers)."""
    position = book.ctx.universe.code_index
    for fund in funds:
        i = position.get(fund["code"])
        if i is not None and book.ctx.category[i]:
            return f" --category {book.ctx.category[i]}"
    return ""


def describe_action(book: Book, i: int, index: int, value: float, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """One action for one customer: what, why (the findings it fixes, with the funds they name) and how."""
    action = ACTIONS[index]
    fixes = [f for f in findings if f["action"] == action.id]
    funds = list({fund["code"]: fund for f in fixes for fund in f.get("funds", [])}.values())
    liquid = liquid_assets(book)[i]
    expenses = np.nan_to_num(book.monthly_expenses[i])
    numbers = {
        "level": f"C{int(book.allowed_level[i])}",
        "lowest": " --lowest-category" if book.lowest_category[i] else "",
        "max_risk": f"R{int(book.allowed_level[i])}",
        "amount": f"{max(book.visible_assets[i] - 3 * expenses, 0):.0f}",
        "horizon": f"{np.nan_to_num(book.horizon_years[i], nan=3.0):g}",
        "shortfall": f"{max(3 * expenses - liquid, 0):.0f}",
        "excess": f"{max(book.cash[i] - 6 * expenses, 0):.0f}",
        "category": _category_option(book, funds),
    }
    out = {
        "id": action.id, "kind": action.kind, "title_zh": action.title_zh, "title_en": action.title_en,
        "value": round(float(value), 2), "fixes": [f["rule"] for f in fixes], "funds": funds,
        "command": action.command.format(**numbers) if action.command else None,
    }
    if action.id in ("replace_weak_funds", "switch_share_class"):
        candidates, missing = swap_candidates(book, i, funds, share_class_only=action.id == "switch_share_class",
                                              with_reasons=True)
        out["candidates"] = candidates
        if missing:
            out["no_replacement"] = missing
    return out


def swap_candidates(book: Book, i: int, funds: list[dict[str, Any]], share_class_only: bool = False,
                    per_fund: int = 2, with_reasons: bool = False):
    """Replacements for the funds named, never above what the customer may hold, never weak by the one
    quality rule, never already held.

    * share class switch (`share_class_only`): the A class of a C class;
    * otherwise the `per_fund` best-rated funds (stars, then running cost) of the same peer group and asset
      class; when the peer group has none, of the same asset class (`match` says which). The level filter
      comes before the cut, so unsuitable leaders of a peer group never crowd out suitable ones.

    A fund for which nothing qualifies gets a reason instead (zh / en), returned with `with_reasons`
    (`(candidates, reasons)`); every fund named thus has at least one replacement or a reason."""
    ctx = book.ctx
    allowed = int(book.allowed_level[i])
    held = set(book.entry_fund[book.entries_of(i)].tolist())
    position = ctx.universe.code_index
    yuan = (currency_of_fund(ctx.universe.funds) == INVESTOR_CURRENCY).to_numpy()  # no US-dollar class
    usable = ~ctx.weak & np.isfinite(ctx.stars) & (ctx.risk_level <= allowed) & ~ctx.money_market & yuan
    out: list[dict[str, Any]] = []
    reasons: list[dict[str, Any]] = []
    for fund in funds:
        f = position.get(fund["code"])
        if f is None:
            continue
        match = "share_class"
        if share_class_only:
            sibling = int(ctx.a_sibling[f])
            pool = [sibling] if sibling >= 0 and ctx.risk_level[sibling] <= allowed else []
            if not pool:
                reasons.append(_no_replacement(fund["code"], "no_a_class" if sibling < 0 else "a_class_above_level",
                                               allowed))
        else:
            same_class = ctx.asset_class == ctx.asset_class[f]
            tiers = (("peer_group", same_class & (ctx.category == ctx.category[f])), ("asset_class", same_class))
            pool = []
            for tier, same in tiers:
                found = np.flatnonzero(same & usable)
                order = np.lexsort((ctx.running_cost[found], -ctx.stars[found]))
                pool, match = [int(c) for c in found[order] if c not in held and c != f][:per_fund], tier
                if pool:
                    break
            if not pool:
                reasons.append(_no_replacement(fund["code"], "none_suitable", allowed))
        for c in pool:
            out.append({"replace": fund["code"], "code": str(ctx.codes[c]), "name": str(ctx.names[c]),
                        "risk_level": f"R{int(ctx.risk_level[c])}", "match": match,
                        "stars": None if not np.isfinite(ctx.stars[c]) else int(ctx.stars[c]),
                        "running_cost": float(ctx.running_cost[c])})
    return (out, reasons) if with_reasons else out


def _no_replacement(code: str, why: str, allowed: int) -> dict[str, str]:
    """Why a fund named for a swap has no replacement, in Chinese and English."""
    texts = {
        "none_suitable": (f"同类及同一资产类别中暂无风险等级不高于R{allowed}、评级不弱且您尚未持有的基金，"
                          "建议与客户经理沟通或按模型组合重新配置。",
                          f"No fund of the same peer group or asset class is rated R{allowed} or below, not weak "
                          "and not already held: review with the relationship manager or rebuild from the model "
                          "portfolio."),
        "no_a_class": ("该基金没有可转换的A类份额。", "This fund has no A share class to switch to."),
        "a_class_above_level": (f"该基金的A类份额风险等级高于R{allowed}，不能转换。",
                                f"The fund's A share class is rated above R{allowed}: no switch is possible."),
    }
    zh, en = texts[why]
    return {"replace": code, "reason": why, "zh": zh, "en": en}
