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

from advisor.lifecycle.alerts.base import AlertBook, AlertRule, Candidates, Message, Severity, pct, yuan, yuan0
from advisor.lifecycle.goals import GoalSettings, goal_simulator, project_many

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
        ready.extra["extra_monthly"] = np.maximum(advice["required_monthly"] - x["monthly_contribution"][rows],
                                                  0.0).tolist()
        ready.extra["extra_months"] = advice["extra_months"].tolist()
        return ready

    def render(self, book: AlertBook, found: Candidates, i: int) -> Message:
        x = {k: v[i] for k, v in found.extra.items()}
        p, prev = float(found.value[i]), float(x["previous"])
        name = str(x["name"] or "")
        label_zh, label_en = (f"「{name}」" if name else "", f" “{name}”" if name else "")
        goal_zh = f"您的目标{label_zh}（{x['date']}前达到{yuan0(float(x['target']))}）"
        goal_en = f"your goal{label_en} ({yuan0(float(x['target']))} by {x['date']})"
        if np.isfinite(prev):
            zh = [f"{goal_zh}达成概率从{pct(prev, 0)}降至{pct(p, 0)}，低于{pct(self.on_track, 0)}。"]
            en = [f"The chance of {goal_en} fell from {pct(prev, 0)} to {pct(p, 0)}, below {pct(self.on_track, 0)}."]
        else:
            zh = [f"{goal_zh}目前的达成概率约为{pct(p, 0)}，低于{pct(self.on_track, 0)}。"]
            en = [f"The chance of {goal_en} is about {pct(p, 0)}, below {pct(self.on_track, 0)}."]
        options_zh, options_en = [], []
        extra_monthly = float(x["extra_monthly"])
        if np.isfinite(extra_monthly) and extra_monthly > 0:
            options_zh.append(f"每月多投入{yuan(extra_monthly)}")
            options_en.append(f"add {yuan(extra_monthly)} a month")
        extra_months = float(x["extra_months"])
        if np.isfinite(extra_months) and extra_months > 0:
            months_zh, months_en = _months_text(extra_months)
            options_zh.append(f"把目标日期推后{months_zh}")
            options_en.append(f"move the date {months_en} later")
        if options_zh:
            zh.append(f"要达到{pct(self.on_track, 0)}，可以" + "，或".join(options_zh) + "。")
            en.append(f"To reach {pct(self.on_track, 0)}, " + ", or ".join(options_en) + ".")
        return Message(self.title_zh, "".join(zh), self.title_en, " ".join(en), {
            "goal_id": str(x["goal_id"]), "probability": round(p, 4),
            "previous_probability": None if not np.isfinite(prev) else round(prev, 4),
            "extra_monthly": None if not np.isfinite(extra_monthly) else round(extra_monthly, 2),
            "extra_months": None if not np.isfinite(extra_months) else int(extra_months)})


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

    def render(self, book: AlertBook, found: Candidates, i: int) -> Message:
        x = {k: v[i] for k, v in found.extra.items()}
        name = str(x["name"] or "")
        label_zh, label_en = (f"「{name}」" if name else "", f" “{name}”" if name else "")
        target, ret = float(x["target"]), float(found.value[i])
        value = float(x["value"])
        worth_zh = f"，当前市值{yuan(value)}" if np.isfinite(value) else ""
        worth_en = f", now worth {yuan(value)}" if np.isfinite(value) else ""
        if str(x["on_target"]) == "take_profit":
            then_zh, then_en = ("将按计划于下一交易日止盈赎回，赎回后继续按原计划定投。",
                                "As planned, it will be redeemed at the next trading day's price and the plan "
                                "will then start again.")
        else:
            then_zh, then_en = ("已按计划停止扣款，持有的份额保持不变；您可以选择赎回或继续持有。",
                                "As planned, debits have stopped and what the plan holds stays invested; you may "
                                "redeem it or keep it.")
        zh = f"您的定投计划{label_zh}收益率已达{pct(ret)}{worth_zh}，达到您设定的{pct(target, 0)}止盈目标。{then_zh}"
        en = (f"Your SIP plan{label_en} is up {pct(ret)}{worth_en}, reaching the {pct(target, 0)} profit target you "
              f"set. {then_en}")
        return Message(self.title_zh, zh, self.title_en, en, {"plan_id": str(x["plan_id"]), "return": round(ret, 6),
                                                              "target_return": target})


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
        counts = pd.Series(window).groupby(debits["plan_id"].astype("str").to_numpy()).transform("sum").to_numpy()
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

    def render(self, book: AlertBook, found: Candidates, i: int) -> Message:
        x = {k: v[i] for k, v in found.extra.items()}
        name = str(x["name"] or "")
        label_zh, label_en = (f"「{name}」" if name else "", f" “{name}”" if name else "")
        reason = str(x["reason"] or "")
        why_zh = REASONS_ZH.get(reason, reason) if reason else ""
        why_en = REASONS_EN.get(reason, reason) if reason else ""
        amount = float(found.value[i])
        amount_zh = yuan(amount) if np.isfinite(amount) else ""
        when = str(x["date"])[:10]
        failures = int(found.extra["failures"][i])
        zh = (f"您的定投计划{label_zh}在{when}扣款{amount_zh}未成功" + (f"（{why_zh}）" if why_zh else "")
              + "，本期未买入。" + ("这已是近期第二次扣款失败，" if failures >= 2 else "")
              + "请确认扣款账户余额充足，下期将按计划继续扣款。")
        en = (f"The {when} debit{' of ' + amount_zh if amount_zh else ''} for your SIP plan{label_en} did not go "
              f"through" + (f" ({why_en})" if why_en else "") + ", so nothing was bought this time."
              + (" It is the second failure recently." if failures >= 2 else "")
              + " Please make sure the account has enough money; the next debit will run as planned.")
        return Message(self.title_zh, zh, self.title_en, en, {"plan_id": str(x["plan_id"]), "date": when,
                                                              "amount": None if not np.isfinite(amount) else amount,
                                                              "reason": reason or None, "failures": failures})


RULES = (GoalOffTrack, ProfitTarget, SipDebitFailed)
