"""Plan alerts: a goal slipping off track, a SIP plan's profit target reached, a SIP debit that failed.

* **goal_off_track** — a goal's probability falls below the on-track bar (75%) when it was on track at the
  previous run (or had never been projected): a warning with the advice that closes the gap (a goal is
  the customer's own plan, not a risk for the bank: never an RM task on its own). At most once a month per
  goal; never for a goal whose date has come (it is due: nothing is left to advise).
* **profit_target** — a plan with a target-profit rule whose return (value of what the plan bought and
  still holds / its cost − 1, from the ledger rows carrying the plan's id) reached the target: information
  saying what the plan now does (stop debiting, or take profit). Once per plan cycle.
* **sip_failed** — a debit of an active plan failed (e.g. insufficient balance) in the last days: the date,
  amount and reason; a warning when it is the second failure in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.lifecycle.alerts.base import (
    AlertBook,
    AlertRule,
    Candidates,
    Rendered,
    Severity,
    each,
    pct,
    pick,
    rounded,
    texts,
    yuan,
    yuan0,
)
from advisor.lifecycle.goals import GoalSettings, delay_worth_offering, goal_simulator, project_many

REASONS_ZH = {"insufficient_balance": "账户余额不足", "card_limit": "超出银行卡单日限额", "account_frozen": "账户冻结",
              "fund_suspended": "基金暂停申购"}
REASONS_EN = {"insufficient_balance": "insufficient balance", "card_limit": "the card's daily limit was exceeded",
              "account_frozen": "the account is frozen", "fund_suspended": "the fund suspended subscriptions"}


def _frame(book: AlertBook, name: str) -> pd.DataFrame:
    frame = getattr(book, name)
    return frame if frame is not None and len(frame) else pd.DataFrame()


def _months_text(months: float) -> tuple[str, str]:
    years, rest = divmod(int(months), 12)
    zh = (f"{years}年" if years else "") + (f"{rest}个月" if rest else "")
    en = " ".join(p for p in (f"{years} year{'s' * (years != 1)}" if years else "",
                              f"{rest} month{'s' * (rest != 1)}" if rest else "") if p)
    return zh, en


@dataclass(frozen=True)
class GoalOffTrack(AlertRule):
    kind = "goal_off_track"
    title_zh = "目标进度落后"
    title_en = "A goal is off track"
    priority = 35
    on_track: float = GoalSettings.target_probability

    def evaluate(self, book: AlertBook) -> Candidates:
        goals = _frame(book, "goals")
        if not len(goals) or "probability" not in goals.columns:
            return Candidates.none()
        p = goals["probability"].to_numpy(dtype=float)
        prev = goals["previous_probability"].to_numpy(dtype=float) if "previous_probability" in goals.columns \
            else np.full(len(goals), np.nan)
        # a goal whose date has come has nothing left to advise: it is due, not off track
        ahead = goals["months"].to_numpy(dtype=float) > 0 if "months" in goals.columns else np.ones(len(goals), bool)
        fired = np.flatnonzero(ahead & (p < self.on_track) & (np.isnan(prev) | (prev >= self.on_track)))
        month = str(book.as_of)[:7]
        key = (goals["goal_id"].astype("str").to_numpy(object)[fired] + f":{month}").astype(object)
        severity = np.full(len(fired), Severity.WARNING, dtype=np.int8)
        extra = {"previous": prev[fired], "goal_id": goals["goal_id"].astype("str").to_numpy(object)[fired],
                 "name": goals["name"].fillna("").astype("str").to_numpy(object)[fired],
                 "target": goals["target_amount"].to_numpy(dtype=float)[fired],
                 "date": goals["target_date"].astype("str").str[:10].to_numpy(object)[fired]}
        for column in ("level_used", "months", "current_amount", "monthly_contribution"):
            extra[column] = goals[column].to_numpy()[fired]
        return Candidates(goals["cust"].to_numpy(dtype=np.int64)[fired], severity, p[fired], key, extra=extra)

    def prepare(self, book: AlertBook, found: Candidates, rows: np.ndarray) -> Candidates:
        """The advice that closes the gap, computed only for the goals whose message is sent."""
        sim = book.goal_sim or goal_simulator(book.ctx.universe)
        x = found.extra
        advice = project_many(sim, x["level_used"][rows], x["months"][rows], x["current_amount"][rows],
                              x["monthly_contribution"][rows], x["target"][rows], advice=True)
        ready = found.subset(rows)
        ready.extra["extra_monthly"] = np.maximum(advice["required_monthly"] - x["monthly_contribution"][rows], 0.0)
        offered = delay_worth_offering(advice["extra_months"], x["months"][rows])  # the projection's one rule
        ready.extra["extra_months"] = np.where(offered, advice["extra_months"], np.nan)
        return ready

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        x = found.extra
        p, prev = found.value.astype(float), x["previous"].astype(float)
        label_zh, label_en = _labels(x["name"])
        target, date_text = each(yuan0, x["target"].astype(float)), x["date"].astype(object)
        goal_zh = "您的目标" + label_zh + "（" + date_text + "前达到" + target + "）"
        goal_en = "your goal" + label_en + " (" + target + " by " + date_text + ")"
        bar = pct(self.on_track, 0)
        known = np.isfinite(prev)
        prev_text, p_text = each(pct, np.nan_to_num(prev), 0), each(pct, p, 0)
        zh = pick(known, goal_zh + "达成概率从" + prev_text + "降至" + p_text + f"，低于{bar}。",
                  goal_zh + "目前的达成概率约为" + p_text + f"，低于{bar}。")
        en = pick(known, "The chance of " + goal_en + " fell from " + prev_text + " to " + p_text + f", below {bar}.",
                  "The chance of " + goal_en + " is about " + p_text + f", below {bar}.")
        extra_monthly, extra_months = x["extra_monthly"].astype(float), x["extra_months"].astype(float)
        more = np.isfinite(extra_monthly) & (extra_monthly > 0)
        later = np.isfinite(extra_months) & (extra_months > 0)
        more_text = each(yuan, np.nan_to_num(extra_monthly))
        months = [_months_text(m) for m in np.where(later, extra_months, 0).tolist()]
        months_zh, months_en = texts([m[0] for m in months]), texts([m[1] for m in months])
        options_zh = (pick(more, "每月多投入" + more_text, "") + pick(more & later, "，或", "")
                      + pick(later, "把目标日期推后" + months_zh, ""))
        options_en = (pick(more, "add " + more_text + " a month", "") + pick(more & later, ", or ", "")
                      + pick(later, "move the date " + months_en + " later", ""))
        advised = more | later
        zh = zh + pick(advised, f"要达到{bar}，可以" + options_zh + "。", "")
        en = en + pick(advised, f" To reach {bar}, " + options_en + ".", "")
        title_zh, title_en = self.titles(len(p))
        return Rendered(title_zh, zh, title_en, en, {
            "goal_id": x["goal_id"].astype(str).astype(object), "probability": rounded(p, 4),
            "previous_probability": rounded(prev, 4), "extra_monthly": rounded(extra_monthly, 2),
            "extra_months": texts([int(v) if v == v else None for v in extra_months.tolist()])})


def _labels(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(「name」, “name”) of named plans and goals; empty texts for unnamed ones."""
    name = np.asarray(names, dtype=object).astype(str).astype(object)
    named = name != ""
    return pick(named, "「" + name + "」", ""), pick(named, " “" + name + "”", "")


@dataclass(frozen=True)
class ProfitTarget(AlertRule):
    kind = "profit_target"
    title_zh = "定投达到止盈目标"
    title_en = "Your SIP plan reached its profit target"
    priority = 25

    def evaluate(self, book: AlertBook) -> Candidates:
        plans = _frame(book, "plans")
        needed = {"target_return", "plan_return"}
        if not len(plans) or not needed <= set(plans.columns):
            return Candidates.none()
        target = plans["target_return"].to_numpy(dtype=float)
        ret = plans["plan_return"].to_numpy(dtype=float)
        active = plans["status"].astype("str").eq("active").to_numpy() if "status" in plans.columns else \
            np.ones(len(plans), bool)
        fired = np.flatnonzero(active & np.isfinite(target) & np.isfinite(ret) & (ret >= target))
        cycle = plans["cycle_start"].astype("str").to_numpy(object) if "cycle_start" in plans.columns else \
            np.full(len(plans), "", dtype=object)
        key = np.array([f"{plans['plan_id'].iloc[r]}:{cycle[r]}" for r in fired], dtype=object)
        extra = {"plan_id": plans["plan_id"].astype("str").to_numpy(object)[fired],
                 "name": plans["name"].fillna("").astype("str").to_numpy(object)[fired], "target": target[fired],
                 "value": (plans["plan_value"].to_numpy(dtype=float)[fired] if "plan_value" in plans.columns
                           else np.full(len(fired), np.nan)),
                 "on_target": (plans["on_target"].astype("str").to_numpy(object)[fired] if "on_target" in plans.columns
                               else np.full(len(fired), "stop", dtype=object))}
        return Candidates(plans["cust"].to_numpy(dtype=np.int64)[fired], np.full(len(fired), Severity.INFO, np.int8),
                          ret[fired], key, extra=extra)

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        x = found.extra
        label_zh, label_en = _labels(x["name"])
        target, ret = x["target"].astype(float), found.value.astype(float)
        value = x["value"].astype(float)
        known = np.isfinite(value)
        worth = each(yuan, np.nan_to_num(value))
        worth_zh, worth_en = pick(known, "，当前市值" + worth, ""), pick(known, ", now worth " + worth, "")
        take = x["on_target"].astype(str) == "take_profit"
        then_zh = pick(take, "将按计划于下一交易日止盈赎回，赎回后继续按原计划定投。",
                       "已按计划停止扣款，持有的份额保持不变；您可以选择赎回或继续持有。")
        then_en = pick(take, "As planned, it will be redeemed at the next trading day's price and the plan will then "
                             "start again.",
                       "As planned, debits have stopped and what the plan holds stays invested; you may redeem it "
                       "or keep it.")
        ret_text, target_text = each(pct, ret), each(pct, target, 0)
        zh = ("您的定投计划" + label_zh + "收益率已达" + ret_text + worth_zh + "，达到您设定的" + target_text
              + "止盈目标。" + then_zh)
        en = ("Your SIP plan" + label_en + " is up " + ret_text + worth_en + ", reaching the " + target_text
              + " profit target you set. " + then_en)
        title_zh, title_en = self.titles(len(ret))
        return Rendered(title_zh, zh, title_en, en, {"plan_id": x["plan_id"].astype(str).astype(object),
                                                     "return": rounded(ret, 6), "target_return": target})


@dataclass(frozen=True)
class SipDebitFailed(AlertRule):
    kind = "sip_failed"
    title_zh = "定投扣款失败"
    title_en = "A SIP debit failed"
    priority = 15
    lookback_days: int = 3
    repeat_window_days: int = 45

    def evaluate(self, book: AlertBook) -> Candidates:
        debits = _frame(book, "debits")
        if not len(debits):
            return Candidates.none()
        day = debits["date"].to_numpy(dtype="datetime64[D]")
        as_of = np.datetime64(book.as_of, "D")
        failed = debits["status"].astype("str").str.lower().eq("failed").to_numpy()
        recent = failed & (day <= as_of) & (day > as_of - np.timedelta64(self.lookback_days, "D"))
        window = failed & (day > as_of - np.timedelta64(self.repeat_window_days, "D")) & (day <= as_of)
        # a plan is a customer's own: its failures are counted per customer and plan id
        counts = pd.Series(window).groupby([debits["cust"].to_numpy(), debits["plan_id"].astype("str").to_numpy()]
                                           ).transform("sum").to_numpy()
        rows = np.flatnonzero(recent)
        severity = np.where(counts[rows] >= 2, Severity.WARNING, Severity.INFO).astype(np.int8)
        key = (debits["plan_id"].astype("str").to_numpy(object)[rows] + ":" + day[rows].astype(str).astype(object))
        amount = pd.to_numeric(debits.get("amount"), errors="coerce").to_numpy(dtype=float)[rows] \
            if "amount" in debits.columns else np.full(len(rows), np.nan)
        extra = {"failures": counts[rows], "plan_id": debits["plan_id"].astype("str").to_numpy(object)[rows],
                 "date": day[rows].astype(str).astype(object),
                 "name": (debits["plan_name"].fillna("").astype("str").to_numpy(object)[rows]
                          if "plan_name" in debits.columns else np.full(len(rows), "", dtype=object)),
                 "reason": (debits["reason"].fillna("").astype("str").to_numpy(object)[rows]
                            if "reason" in debits.columns else np.full(len(rows), "", dtype=object))}
        return Candidates(debits["cust"].to_numpy(dtype=np.int64)[rows], severity, amount, key.astype(object),
                          extra=extra)

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        x = found.extra
        label_zh, label_en = _labels(x["name"])
        reason = x["reason"].astype(str).astype(object)
        has_reason = reason != ""
        why_zh = texts([REASONS_ZH.get(r, r) for r in reason.tolist()])
        why_en = texts([REASONS_EN.get(r, r) for r in reason.tolist()])
        amount = found.value.astype(float)
        known = np.isfinite(amount)
        amount_text = pick(known, each(yuan, np.nan_to_num(amount)), "")
        when = x["date"].astype(str).astype(object)
        when = texts([w[:10] for w in when.tolist()])
        again = x["failures"].astype(np.int64) >= 2
        zh = ("您的定投计划" + label_zh + "在" + when + "扣款" + amount_text + "未成功"
              + pick(has_reason, "（" + why_zh + "）", "") + "，本期未买入。"
              + pick(again, "这已是近期第二次扣款失败，", "") + "请确认扣款账户余额充足，下期将按计划继续扣款。")
        en = ("The " + when + " debit" + pick(known, " of " + amount_text, "") + " for your SIP plan" + label_en
              + " did not go through" + pick(has_reason, " (" + why_en + ")", "") + ", so nothing was bought this time."
              + pick(again, " It is the second failure recently.", "")
              + " Please make sure the account has enough money; the next debit will run as planned.")
        title_zh, title_en = self.titles(len(amount))
        return Rendered(title_zh, zh, title_en, en, {
            "plan_id": x["plan_id"].astype(str).astype(object), "date": when,
            "amount": pick(known, amount.astype(object), None), "reason": pick(has_reason, reason, None),
            "failures": x["failures"].astype(np.int64)})


RULES = (GoalOffTrack, ProfitTarget, SipDebitFailed)
