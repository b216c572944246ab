"""Event alerts: a fund event on a held fund, an assessment expiring (or just expired).

* **fund_event** — from the fund-events table (`code, event[, date, note]`) and from the universe's own
  status (closed / suspended funds): one alert per customer, fund and event. A closing or a fund dropped
  from the recommended list is critical (the relationship manager helps switch), a manager change or a
  downgrade a warning. Suspended subscriptions and a large-subscription limit change nothing for what a
  customer holds: they go only to customers whose active SIP plan buys the fund.
* **assessment_expiring** — the risk assessment expires within the health check's warning window
  (`AssessmentExpired.warn_days`, 30 days): a warning naming the date; once it has expired, one more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.diagnosis.rules.risk import AssessmentExpired
from advisor.lifecycle.alerts.base import AlertBook, AlertRule, Candidates, Rendered, Severity, each, pick, texts, yuan
from products.errors import BadInputError

# event → (zh, en, severity, what the customer may do: zh, en)
FUND_EVENTS: dict[str, tuple[str, str, int, str, str]] = {
    "closed": ("即将清盘（基金合同终止）", "is being wound up (the fund closes)", Severity.CRITICAL,
               "清盘后资金将按规定返还；您也可以提前转换到同类基金，客户经理会与您联系。",
               "Your money will be returned when it closes; you may switch to a similar fund before that, and your "
               "relationship manager will contact you."),
    "dropped": ("已移出我们的推荐基金名单", "has been dropped from our recommended list", Severity.CRITICAL,
                "建议查看调仓建议，替换为同类推荐基金。",
                "We suggest replacing it with a recommended fund of the same kind; see the rebalancing suggestion."),
    "manager_change": ("基金经理发生变更", "has a new fund manager", Severity.WARNING,
                       "新基金经理的投资风格可能不同，建议关注后续表现。",
                       "A new manager may invest differently; keep an eye on how it does."),
    "downgraded": ("评级下调", "has been downgraded", Severity.WARNING,
                   "建议查看持仓体检，评估是否需要替换。", "See your health check to decide whether to replace it."),
    "suspended": ("暂停申购", "has suspended subscriptions", Severity.WARNING,
                  "暂停期间定投和追加买入将无法成交，已持有的份额不受影响。",
                  "SIP debits and new purchases cannot go through meanwhile; what you hold is not affected."),
    "limited": ("限制大额申购", "limits large subscriptions", Severity.INFO,
                "单笔或单日买入金额可能受限，已持有的份额不受影响。",
                "Large purchases may be capped; what you hold is not affected."),
}
STATUS_EVENTS = ("closed", "suspended")  # universe status values that are events in themselves
BUYERS_ONLY = ("suspended", "limited")  # events that matter only to customers still buying the fund


def fund_event_table(book: AlertBook) -> pd.DataFrame:
    """Events per fund position (fund index, event, date text, note): the given table plus fund status."""
    def build() -> pd.DataFrame:
        parts = []
        status = book.ctx.universe.funds["status"].astype("str").to_numpy()
        status_fund = np.flatnonzero(np.isin(status, STATUS_EVENTS))
        if len(status_fund):
            parts.append(pd.DataFrame({"fund": status_fund, "event": status[status_fund], "date": "", "note": ""}))
        events = book.fund_events
        if events is not None and len(events):
            if not {"code", "event"} <= set(events.columns):
                raise BadInputError("fund events need the columns code and event", details={"field": "fund_events"})
            kinds = events["event"].astype("str").str.strip().str.lower()
            unknown = sorted(set(kinds) - set(FUND_EVENTS))
            if unknown:
                raise BadInputError(f"unknown fund event {unknown[0]!r}; expected one of {', '.join(FUND_EVENTS)}",
                                    details={"field": "event"})
            fund = book.ctx.universe.index_of(events["code"].astype("str").to_numpy())
            if (fund < 0).any():
                bad = events["code"].astype("str").to_numpy()[fund < 0][0]
                raise BadInputError(f"fund event for unknown fund {bad!r}", details={"field": "code", "code": bad})
            dates = (pd.to_datetime(events["date"]).dt.strftime("%Y-%m-%d").fillna("") if "date" in events.columns
                     else pd.Series("", index=events.index))
            notes = events["note"].fillna("").astype("str") if "note" in events.columns else pd.Series(
                "", index=events.index)
            parts.append(pd.DataFrame({"fund": fund, "event": kinds.to_numpy(), "date": dates.to_numpy(),
                                       "note": notes.to_numpy()}))
        if not parts:
            return pd.DataFrame({"fund": pd.Series(dtype=np.int64), "event": pd.Series(dtype=str),
                                 "date": pd.Series(dtype=str), "note": pd.Series(dtype=str)})
        return pd.concat(parts, ignore_index=True).drop_duplicates(["fund", "event", "date"], ignore_index=True)

    return book.memo("fund_events", build)


def sip_buyers(book: AlertBook) -> pd.Index:
    """'customer row:fund' of every active SIP plan's funds (the plans table's `funds` column)."""
    plans = book.plans
    if plans is None or not len(plans) or "funds" not in plans.columns:
        return pd.Index([])
    active = plans["status"].astype("str").eq("active") if "status" in plans.columns else pd.Series(True,
                                                                                                   plans.index)
    rows = plans.loc[active, ["cust", "funds"]].explode("funds").dropna()
    return pd.Index(rows["cust"].astype(str) + ":" + rows["funds"].astype(str))


@dataclass(frozen=True)
class FundEvent(AlertRule):
    kind = "fund_event"
    title_zh = "持有基金发生重要变动"
    title_en = "News about a fund you hold"
    priority = 20

    def evaluate(self, book: AlertBook) -> Candidates:
        events = fund_event_table(book)
        if not len(events) or not len(book.pos_cust):
            return Candidates.none()
        # every (held position, event of its fund) pair: positions in order, a fund's events in table order
        by_fund = np.argsort(events["fund"].to_numpy(), kind="stable")
        event_fund = events["fund"].to_numpy()[by_fund]
        first = np.searchsorted(event_fund, book.pos_fund, side="left")
        count = np.searchsorted(event_fund, book.pos_fund, side="right") - first
        if not count.any():
            return Candidates.none()
        pos = np.repeat(np.arange(len(book.pos_fund), dtype=np.int64), count)
        within = np.arange(len(pos)) - np.repeat(np.cumsum(count) - count, count)
        ev = events.iloc[by_fund[np.repeat(first, count) + within]].reset_index(drop=True)
        buyers_only = ev["event"].isin(BUYERS_ONLY).to_numpy()
        if buyers_only.any():
            buying = sip_buyers(book)
            pair = pd.Index(book.pos_cust[pos].astype(str).astype(object) + ":" + book.pos_fund[pos].astype(str))
            keep = ~buyers_only | pair.isin(buying)
            pos, ev = pos[keep], ev.loc[keep].reset_index(drop=True)
            if not len(pos):
                return Candidates.none()
        severity = ev["event"].map({name: spec[2] for name, spec in FUND_EVENTS.items()}).to_numpy(dtype=np.int8)
        key = (ev["event"] + ":" + book.ctx.codes[book.pos_fund[pos]].astype(str) + ":" + ev["date"]).to_numpy(object)
        return Candidates(book.pos_cust[pos], severity, book.pos_value[pos], key, fund=book.pos_fund[pos],
                          extra={"event": ev["event"].to_numpy(object), "date": ev["date"].to_numpy(object),
                                 "note": ev["note"].to_numpy(object)})

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        assert found.fund is not None
        fund, event = found.fund.astype(np.int64), found.extra["event"].astype(str)
        events = event.tolist()
        words = {name: texts([FUND_EVENTS[e][j] for e in events])
                 for name, j in (("what_zh", 0), ("what_en", 1), ("do_zh", 3), ("do_en", 4))}
        when = found.extra["date"].astype(str).astype(object)
        note = found.extra["note"].astype(str).astype(object)
        has_when, has_note = when != "", note != ""
        label_zh, label_en = book.fund_labels(fund)
        worth = each(yuan, found.value.astype(float))
        zh = ("您持有的" + label_zh + "（市值约" + worth + "）" + pick(has_when, when + "起", "") + words["what_zh"]
              + "。" + words["do_zh"] + pick(has_note, "说明：" + note, ""))
        en = (label_en + ", which you hold (about " + worth + "), " + words["what_en"]
              + pick(has_when, " from " + when, "") + ". " + words["do_en"] + pick(has_note, " Note: " + note, ""))
        title_zh, title_en = self.titles(len(fund))
        return Rendered(title_zh, zh, title_en, en, {"code": book.ctx.codes[fund].astype(object),
                                                     "event": event.astype(object),
                                                     "date": pick(has_when, when, None)})


@dataclass(frozen=True)
class AssessmentExpiring(AlertRule):
    kind = "assessment_expiring"
    title_zh = "风险测评即将到期"
    title_en = "Your risk assessment is about to expire"
    priority = 30
    warn_days: int = AssessmentExpired.warn_days

    def evaluate(self, book: AlertBook) -> Candidates:
        expires = book.customers["assessment_expires_on"].to_numpy(dtype="datetime64[D]")
        days = (expires - np.datetime64(book.as_of, "D")).astype("timedelta64[D]").astype(np.float64)
        days = np.where(np.isnat(expires), np.nan, days)
        soon = (days >= 0) & (days <= self.warn_days)
        just_expired = (days < 0) & (days >= -self.warn_days)
        rows = np.flatnonzero(soon | just_expired)
        key = np.array([f"{expires[r]}:{'expired' if days[r] < 0 else 'soon'}" for r in rows], dtype=object)
        return Candidates(rows, np.full(len(rows), Severity.WARNING, dtype=np.int8), days[rows], key,
                          extra={"expires_on": expires[rows]})

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        days = found.value.astype(float).astype(np.int64)
        when = each(str, found.extra["expires_on"])
        expired = days < 0
        days_text = each(str, days)
        zh = pick(expired,
                  "您的风险测评已于" + when + "到期。重新测评前，我们无法为您提供新的配置建议，"
                  "买入新产品也需要先完成测评，只需几分钟。",
                  "您的风险测评将于" + when + "到期（还有" + days_text + "天）。"
                  "到期后将无法获得新的配置建议或买入新产品，请在到期前重新测评，只需几分钟。")
        en = pick(expired,
                  "Your risk assessment expired on " + when + ". Until you renew it we cannot give you new advice, and "
                  "new purchases need it first; it takes a few minutes.",
                  "Your risk assessment expires on " + when + " (in " + days_text + " days). After that we cannot give "
                  "new advice and new purchases are blocked; please renew it before then, it takes a few minutes.")
        title_zh, title_en = self.titles(len(days))
        return Rendered(pick(expired, "风险测评已到期", title_zh), zh,
                        pick(expired, "Your risk assessment has expired", title_en), en,
                        {"expires_on": when, "days": days})


RULES = (FundEvent, AssessmentExpiring)
