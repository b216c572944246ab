"""Words on the relationship managers' pages, in Chinese (default) and English.

One table of interface texts (`TEXT`) and one of labels for the values the core returns (flags, asset
classes, trade actions, style series ...). Templates call `t(key)` and `label(kind, value)`; a value
without a label is shown as a neutral dash rather than as a code identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

from products.research import STYLE_NAMES_ZH
from products.taxonomy import ASSET_CLASS_NAMES_ZH, RISK_LEVEL_NAMES_ZH
from risk.levels import CUSTOMER_LEVEL_NAMES_EN, CUSTOMER_LEVEL_NAMES_ZH

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

TEXT: dict[str, tuple[str, str]] = {
    # frame
    "app_title": ("客户经理工作台", "Relationship manager workspace"),
    "worklist": ("客户清单", "Client worklist"),
    "sign_out": ("退出", "Sign out"),
    "switch_language": ("English", "中文"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "skip_to_content": ("跳到正文", "Skip to content"),
    # login
    "login_title": ("登录客户经理工作台", "Sign in to the relationship manager workspace"),
    "login_help": ("请粘贴行内统一认证签发的访问令牌。会话在令牌到期时结束，令牌只保存在本浏览器的安全 Cookie 中。",
                   "Paste the access token issued by the bank's sign-on. The session ends when the token "
                   "expires; the token is kept only in this browser's secure cookie."),
    "token": ("访问令牌", "Access token"),
    "sign_in": ("登录", "Sign in"),
    "login_failed": ("登录失败", "Sign-in failed"),
    "login_role": ("该令牌不属于客户经理或运营人员，无法进入工作台。",
                   "This token belongs neither to a relationship manager nor to operations staff."),
    "session_expired": ("会话已过期，请重新登录。", "Your session has expired; please sign in again."),
    # worklist
    "worklist_intro": ("按紧急程度排序：测评过期、风险不匹配、回撤、配置偏离等问题越严重越靠前。",
                       "Most urgent first: expired assessments, risk mismatches, drawdowns and drift "
                       "push a client up the list."),
    "search": ("搜索客户编号", "Search client id"),
    "filter_flag": ("问题类型", "Issue"),
    "filter_level": ("风险等级", "Risk level"),
    "all": ("全部", "All"),
    "apply": ("筛选", "Filter"),
    "recalculate": ("重新计算", "Recalculate"),
    "clear": ("清除", "Clear"),
    "client": ("客户", "Client"),
    "urgency": ("紧急度", "Urgency"),
    "level": ("风险等级", "Risk level"),
    "assessment_valid_until": ("测评有效期至", "Assessment valid until"),
    "health_score": ("体检得分", "Health score"),
    "issues": ("需要关注", "Needs attention"),
    "no_issues": ("暂无需要处理的问题", "Nothing to act on"),
    "clients_shown": ("显示 {shown} / 共 {total} 位客户", "Showing {shown} of {total} clients"),
    "no_clients": ("没有符合条件的客户。", "No client matches."),
    "page_prev": ("上一页", "Previous"),
    "page_next": ("下一页", "Next"),
    "as_of": ("数据日期", "As of"),
    "review_date": ("检视日期{today}，基金净值数据截至{as_of}。", "Reviewed on {today}; fund prices as of {as_of}."),
    # client review
    "client_review": ("客户检视", "Client review"),
    "back_to_worklist": ("返回客户清单", "Back to the worklist"),
    "download_checkup": ("下载财富体检报告（PDF）", "Download the wealth check-up report (PDF)"),
    "download_proposal": ("下载资产配置建议书（PDF）", "Download the allocation proposal (PDF)"),
    "print": ("打印本页", "Print this page"),
    "profile": ("风险测评", "Risk profile"),
    "current_level": ("当前风险等级", "Current risk level"),
    "assessed_on": ("测评日期", "Assessed on"),
    "valid_until": ("有效期至", "Valid until"),
    "expired": ("已过期", "expired"),
    "valid": ("有效", "valid"),
    "lowest_category": ("风险承受能力最低类别：只可购买R1产品", "Lowest risk category: R1 products only"),
    "age": ("年龄", "Age"),
    "horizon": ("投资期限", "Horizon"),
    "years": ("{n}年", "{n} years"),
    "horizon_default": ("（未登记，按3年计）", "(not recorded; 3 years assumed)"),
    "history": ("测评记录", "Assessment history"),
    "score": ("得分", "Score"),
    "questionnaire_version": ("问卷版本", "Questionnaire"),
    "recorded_by": ("记录人", "Recorded by"),
    "inferred_profile": ("智能画像", "Inferred profile"),
    "inferred_disagrees": ("根据客户资料与持仓行为推断的风险等级为{inferred}，"
                           "与测评结果{stated}不一致（置信度{confidence}），建议与客户核实后重新测评。",
                           "From the customer's facts and behaviour the inferred level is {inferred}, against "
                           "{stated} from the questionnaire (confidence {confidence}); confirm with the customer "
                           "and re-assess."),
    "inferred_agrees": ("客户资料与持仓行为"
                        "与测评结果一致。",
                        "The customer's facts and behaviour agree with the questionnaire."),
    "holdings": ("持仓与收益", "Holdings and returns"),
    "fund": ("基金", "Fund"),
    "asset_class": ("资产类别", "Asset class"),
    "product_risk": ("产品风险", "Product risk"),
    "value": ("市值（元）", "Value (¥)"),
    "weight": ("占比", "Weight"),
    "purchased": ("首次买入", "First bought"),
    "days_held": ("持有天数", "Days held"),
    "return_since": ("持有收益率", "Holding return"),
    "gain": ("持有收益（元）", "Gain (¥)"),
    "total": ("合计", "Total"),
    "no_holdings": ("客户目前没有基金持仓。", "The customer holds no funds."),
    "return_note": ("持有收益＝市值－持仓成本（含申购费）；时间加权收益衡量所持基金本身的表现，不受买入时点和金额影响；"
                    "年化资金加权收益（内部收益率）反映客户实际的投资体验。",
                    "Holding gain = value − cost (subscription fees included); the time-weighted return measures "
                    "the funds themselves, whatever the timing and size of purchases; the annualized "
                    "money-weighted return (IRR) is the customer's own experience."),
    "cost_estimated": ("未接入交易流水，持仓成本按买入日期的净值估算。",
                       "Without the transaction ledger, the cost is estimated from the NAV on the purchase dates."),
    "market_value": ("总市值（元）", "Market value (¥)"),
    "holding_gain": ("持有收益（元）", "Holding gain (¥)"),
    "twr_inception": ("累计收益率（时间加权）", "Return since first purchase (time-weighted)"),
    "xirr_inception": ("年化收益率（资金加权）", "Annualized return (money-weighted)"),
    "twr_ytd": ("今年以来", "Year to date"),
    "twr_1y": ("近一年", "Last 12 months"),
    "cost_basis": ("持仓成本（元）", "Cost (¥)"),
    "days": ("{n}天", "{n} days"),
    "other_assets": ("其他资产：现金{cash}元、存款{deposits}元、银行理财{wealth}元、保险保额{insurance}元。",
                     "Other assets: cash ¥{cash}, deposits ¥{deposits}, wealth products ¥{wealth}, "
                     "insurance cover ¥{insurance}."),
    "checkup": ("财富体检", "Wealth check-up"),
    "sub_scores": ("分项得分", "Sub-scores"),
    "findings": ("发现的问题", "Findings"),
    "no_findings": ("本次体检未发现需要处理的问题。", "The check-up found nothing to act on."),
    "top_actions": ("建议优先处理", "Most valuable actions"),
    "charts": ("配置分析", "Portfolio analysis"),
    "allocation_vs_model": ("资产配置与模型组合对比", "Allocation against the model portfolio"),
    "current": ("当前", "Current"),
    "model": ("模型组合", "Model"),
    "industries": ("穿透行业分布（申万一级）", "Look-through industries (SW level 1)"),
    "industries_note": ("按各基金最新季报前十大持仓折算；未披露的股票{undisclosed}，非股票资产{non_stock}。",
                        "From each fund's latest quarterly top-10 holdings; undisclosed stocks {undisclosed}, "
                        "non-stock assets {non_stock}."),
    "no_look_through": ("所持基金均未披露股票持仓（如货币、债券基金），无行业穿透。",
                        "None of the funds discloses stock holdings (money-market and bond funds), so there is "
                        "no industry look-through."),
    "top_stocks": ("穿透前十大重仓股", "Top stocks through the funds"),
    "stock": ("股票", "Stock"),
    "industry": ("行业", "Industry"),
    "exposure": ("占组合", "Of portfolio"),
    "via_funds": ("来自基金", "Through"),
    "style": ("投资风格（收益归因）", "Investment style (returns-based)"),
    "style_note": ("按近一年周收益对七个风格指数回归（权重非负、合计100%），覆盖持仓的{coverage}。",
                   "Weekly returns over the last year regressed on seven style indices (weights non-negative, "
                   "summing to 100%); covers {coverage} of the holdings."),
    "no_style": ("所持基金历史过短，无法做风格分析。", "The funds' history is too short for a style analysis."),
    "value_curve": ("组合净值与回撤", "Portfolio value and drawdown"),
    "value_curve_note": ("以当前持仓比例回看{start}至{end}（每日再平衡）："
                         "年化收益{ret}，年化波动{vol}，最大回撤{mdd}。",
                         "Today's holdings held at constant weights from {start} to {end} (rebalanced daily): "
                         "{ret} a year, volatility {vol}, max drawdown {mdd}."),
    "value_curve_model": ("同期模型组合年化收益{ret}，年化波动{vol}，最大回撤{mdd}。",
                          " The model portfolio over the same days: {ret} a year, volatility {vol}, max drawdown "
                          "{mdd}."),
    "checkup_needs_assessment": ("客户尚未完成风险测评：财富体检需按客户的风险等级和投资期限对照模型组合，"
                                 "请先邀请客户完成风险测评。",
                                 "The customer has no risk assessment: the check-up measures the portfolio against "
                                 "the model for the customer's level and horizon. Invite the customer to take the "
                                 "questionnaire first."),
    "no_value_curve": ("所持基金在数据日期前不足一年的净值历史，无法绘制净值曲线。",
                       "The funds have less than a year of NAV history before the data date; no value curve."),
    "drawdown": ("回撤", "Drawdown"),
    "portfolio": ("当前持仓", "Current holdings"),
    "companion": ("陪伴提醒", "Companion alerts"),
    "open_tasks": ("待跟进事项（由严重提醒生成）", "Open follow-ups (raised by critical alerts)"),
    "recent_alerts": ("最近发送给客户的提醒（{shown}条，共{total}条）",
                      "Latest alerts sent to the customer ({shown} of {total})"),
    "no_alerts": ("暂无发送给客户的提醒，也没有待跟进事项。",
                  "No alert has been sent to the customer and nothing is open."),
    "alert": ("提醒内容", "Alert"),
    "alert_read": ("客户已读", "Read by the customer"),
    "severity": ("级别", "Severity"),
    "date": ("日期", "Date"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "count": ("（{n}）", " ({n})"),
    "plan": ("调仓建议", "Rebalancing plan"),
    "plan_blocked": ("客户的风险测评{why}，"
                     "按适当性要求在重新测评前不提供调仓建议或配置方案。请先邀请客户完成风险测评。",
                     "The customer's risk assessment {why}; suitability rules allow no rebalancing plan or "
                     "portfolio before a new assessment. Invite the customer to re-assess first."),
    "why_expired": ("已于{date}过期", "expired on {date}"),
    "why_missing": ("尚未完成", "is missing"),
    "triggers": ("触发原因", "Triggers"),
    "trades": ("交易明细", "Trades"),
    "action": ("操作", "Action"),
    "amount": ("金额（元）", "Amount (¥)"),
    "fee": ("费用（元）", "Fee (¥)"),
    "trade_reason": ("交易原因", "Why"),
    "drift_before_after": ("配置偏离：调仓前{before}，调仓后{after}", "Drift: {before} before, {after} after"),
    "cost_line": ("交易费用合计{fee}元（{bps}个基点），"
                  "换手{turnover}",
                  "Trading costs ¥{fee} ({bps} bp), turnover {turnover}"),
    "plan_notes": ("说明", "Notes"),
    "proposal": ("资产配置建议", "Allocation proposal"),
    "proposal_for": ("按客户风险等级{level}、投资期限{horizon}、投资金额{amount}元生成的一键配置方案：",
                     "A one-click portfolio for risk level {level}, a horizon of {horizon} and ¥{amount}:"),
    "strategy_risk": ("组合整体风险等级", "Portfolio risk level (rated as a whole)"),
    "expected": ("预期年化收益{ret}，预期年化波动{vol}", "Expected {ret} a year, volatility {vol}"),
    "explanations": ("方案说明", "Why this portfolio"),
    "record": ("策略历史模拟表现", "The strategy's simulated record"),
    "record_note": ("按方案比例回测{start}至{end}（{method}）：年化收益{ret}，年化波动{vol}，最大回撤{mdd}。",
                    "Backtest of the proposal's weights from {start} to {end} ({method}): {ret} a year, "
                    "volatility {vol}, max drawdown {mdd}."),
    "backtest": ("方案基金回测（样本内）", "Backtest of the proposed funds (in-sample)"),
    "record_method_constant": ("固定比例、每日再平衡；基金是用同一时期的数据选出的，属样本内回测，并非策略业绩",
                               "constant weights, rebalanced daily; the funds were chosen on this same period, so "
                               "it is in-sample, not the strategy's record"),
    "no_record": ("所选基金共同历史不足一年，按监管要求不展示历史表现。",
                  "The funds share less than a year of history; past performance is not shown, as the rules require."),
    "strategy": ("策略", "Strategy"),
    "disclosures": ("风险提示", "Risk disclosures"),
    "versions": ("数据版本{universe}（截至{as_of}），模型版本{model}，"
                 "问卷版本{questionnaire}，生成时间{generated}（北京时间）。",
                 "Data version {universe} (as of {as_of}), model version {model}, questionnaire {questionnaire}, "
                 "generated {generated} (Beijing time)."),
    "not_found_title": ("未找到该客户", "Client not found"),
    "not_found_body": ("该客户不存在或不在您的客户名单中。", "This client does not exist or is not assigned to you."),
    "forbidden_title": ("无权访问", "Not allowed"),
    "forbidden_body": ("客户经理工作台仅对客户"
                       "经理和运营人员开放。",
                       "The workspace is open to relationship managers and operations staff only."),
    "ops_pick_rm": ("运营人员请在地址中指定客户经理，例如 /rm?rm_id=客户经理编号。",
                    "Operations staff: name the relationship manager, e.g. /rm?rm_id=RM-ID."),
    "error_title": ("请求无法处理", "The request could not be handled"),
    # report
    "report_checkup": ("财富体检报告", "Wealth check-up report"),
    "report_proposal": ("资产配置建议书", "Asset allocation proposal"),
    "report_for": ("客户编号", "Client"),
    "report_rm": ("客户经理", "Relationship manager"),
    "report_date": ("报告日期", "Date"),
    "data_version": ("数据版本", "Data version"),
    "model_version": ("模型版本", "Model version"),
    "signature_client": ("客户签字", "Client signature"),
    "signature_rm": ("客户经理签字", "Relationship manager signature"),
    "signature_date": ("日期", "Date"),
    "page": ("第", "Page"),
    "reading_guide": ("本报告供客户经理与客户面谈使用，内容基于数据日期的基金净值与持仓数据。",
                      "Prepared for a meeting between the relationship manager and the client, from fund data "
                      "as of the data date."),
}

DISCLOSURES: tuple[tuple[str, str], ...] = (
    ("基金投资有风险，投资需谨慎。基金的过往业绩及其净值高低并不预示其未来业绩表现，基金管理人管理的其他基金的业绩不构成基金业绩表现的保证。",
     "Investing in funds carries risk. Past performance and NAV levels do not predict future results; other "
     "funds of the same manager guarantee nothing."),
    ("本报告中的预期收益、历史回测与模拟表现均为测算结果，不构成收益承诺或保本承诺；实际收益可能低于预期，甚至出现本金亏损。",
     "Expected returns, backtests and simulated records are estimates, not a promise of return or of capital; "
     "actual results may be lower and capital may be lost."),
    ("请客户仔细阅读基金合同、招募说明书和产品资料概要，了解产品风险等级、费用与赎回安排，在充分了解产品风险的基础上，根据自身风险承受能力审慎决策。",
     "Read each fund's contract, prospectus and key facts (risk level, fees, redemption terms) and decide within "
     "your own risk tolerance."),
    ("本建议依据客户最近一次风险测评结果作出，所推荐产品的风险等级均不高于客户风险等级；客户情况发生变化时应及时重新测评。",
     "The advice follows the customer's latest risk assessment and recommends nothing above the customer's "
     "level; re-assess when circumstances change."),
    ("持有期不足7日赎回将收取不低于1.5%的赎回费；QDII基金受汇率、境外市场及交易日历影响，赎回到账时间较长。",
     "Redemptions within 7 days pay at least 1.5%; QDII funds carry currency and foreign-market risk and pay "
     "out later."),
)

FLAGS: dict[str, tuple[str, str]] = {
    "assessment_missing": ("未完成风险测评", "No risk assessment"),
    "assessment_expired": ("风险测评已过期", "Assessment expired"),
    "risk_mismatch": ("持仓风险高于客户等级", "Holdings above the risk level"),
    "drawdown": ("回撤超出承受能力", "Drawdown beyond tolerance"),
    "drift": ("配置偏离模型组合", "Allocation drift"),
    "concentration": ("持仓过于集中", "Concentrated holdings"),
    "liquidity": ("流动性准备不足", "Short of liquid cash"),
    "profile_disagreement": ("智能画像与测评不一致", "Inferred profile disagrees"),
    "holdings_unchecked": ("持仓数据有误，未能体检", "Holdings could not be checked"),
    "alert_tasks": ("陪伴提醒待跟进", "Alert follow-ups open"),
}

ASSET_CLASS_EN: dict[str, str] = {"cash": "Cash", "bond": "Bonds", "cn_equity": "China equity",
                                  "global_equity": "Global equity", "gold": "Gold & commodities"}

STYLE_EN: dict[str, str] = {"cn_large_cap": "China large cap", "cn_mid_small_cap": "China mid & small cap",
                            "cn_bond": "China bonds", "gold": "Gold", "us_equity": "US equity",
                            "us_tech": "US technology", "cash": "Cash"}

SUB_SCORE_EN: dict[str, str] = {"risk": "Risk match", "allocation": "Allocation", "concentration": "Concentration",
                                "look_through": "Look-through", "style": "Style", "performance": "Performance",
                                "cost": "Cost", "liquidity": "Liquidity", "protection": "Protection"}

SEVERITY: dict[str, tuple[str, str]] = {"critical": ("严重", "Critical"), "warning": ("关注", "Warning"),
                                        "info": ("提示", "Info"), "ok": ("正常", "OK")}

TRADE_ACTIONS: dict[str, tuple[str, str]] = {"sell": ("赎回", "Sell"), "buy": ("申购", "Buy"),
                                             "switch_out": ("转换转出", "Switch out"),
                                             "switch_in": ("转换转入", "Switch in")}

HEALTH_BANDS_EN: dict[str, str] = {"healthy": "Healthy", "fair": "Fair", "needs_attention": "Needs attention",
                                   "unhealthy": "Needs changes"}

ROLES: dict[str, tuple[str, str]] = {"customer": ("客户本人", "customer"), "rm": ("客户经理", "relationship manager"),
                                     "ops": ("运营", "operations")}

INDUSTRY_BUCKETS: dict[str, tuple[str, str]] = {
    "undisclosed": ("未披露股票", "Undisclosed stocks"), "non_stock": ("非股票资产", "Non-stock assets"),
    "HK": ("港股", "Hong Kong stocks"), "overseas": ("海外股票", "Overseas stocks"),
    "no_holdings_data": ("无持仓数据", "No holdings data"), "cash": ("现金", "Cash"), "bond": ("债券", "Bonds"),
    "other": ("其他", "Other"),
}


def _label_tables() -> dict[str, dict[str, tuple[str, str]]]:
    classes = {str(k): (v, ASSET_CLASS_EN.get(str(k), str(k))) for k, v in ASSET_CLASS_NAMES_ZH.items()}
    styles = {k: (v, STYLE_EN.get(k, k)) for k, v in STYLE_NAMES_ZH.items()}
    customer_levels = {f"C{k}": (f"C{k} {v}", f"C{k} {CUSTOMER_LEVEL_NAMES_EN[k]}")
                       for k, v in CUSTOMER_LEVEL_NAMES_ZH.items()}
    product_levels = {f"R{k}": (f"R{k} {v}", f"R{k}") for k, v in RISK_LEVEL_NAMES_ZH.items()}
    return {"flag": FLAGS, "asset_class": classes, "style": styles, "severity": SEVERITY, "trade": TRADE_ACTIONS,
            "customer_level": customer_levels, "product_level": product_levels, "role": ROLES,
            "industry_bucket": INDUSTRY_BUCKETS}


LABELS = _label_tables()


@dataclass(frozen=True)
class Translator:
    """Texts of one language: `t(key, **values)`, `label(kind, value)`, `pick(obj, field)`."""

    lang: str

    @property
    def index(self) -> int:
        return LANGUAGES.index(self.lang)

    def t(self, key: str, **values: object) -> str:
        text = TEXT[key][self.index]
        return text.format(**values) if values else text

    def label(self, kind: str, value: object) -> str:
        if kind == "industry":  # SW industry names are proper names: shown as published
            pair = INDUSTRY_BUCKETS.get(str(value))
            return str(value) if pair is None else pair[self.index]
        pair = LABELS[kind].get(str(value))
        return "—" if pair is None else pair[self.index]

    def pick(self, obj: dict, field: str) -> str:
        """`obj[field_zh]` or `obj[field_en]` (core results carry both)."""
        return str(obj.get(f"{field}_{self.lang}") or obj.get(field) or "")

    def both(self, pair: tuple[str, str] | dict) -> str:
        if isinstance(pair, dict):
            return str(pair.get(self.lang) or "")
        return pair[self.index]

    def sub_score(self, name: str, names_zh: dict[str, str]) -> str:
        return names_zh.get(name, name) if self.lang == "zh" else SUB_SCORE_EN.get(name, name)

    def health_band(self, result: dict) -> str:
        if self.lang == "zh":
            return str(result.get("health_band_zh") or "")
        return HEALTH_BANDS_EN.get(str(result.get("health_band") or ""), "—")


def translator(lang: str | None) -> Translator:
    return Translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)

