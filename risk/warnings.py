"""Risk mismatch warning texts (风险不匹配警示) and the confirmation record a customer's insistence produces.

Texts are versioned: a confirmation stores the version and the exact text shown, so the record stays
evidence for the 20 years it is kept even after the wording changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from products.errors import BadInputError, SuitabilityError
from products.taxonomy import RiskLevel
from risk.levels import CustomerLevel
from risk.suitability import ProductKind, PurchaseDecision, customer_level_int, product_level_int, purchase_decision

WARNING_TEXT_VERSION = "mismatch-warning-v1"
SENIOR_WARNING_VERSION = "senior-warning-v1"

_MISMATCH_ZH = (
    "风险不匹配警示：您的风险承受能力等级为{c_label}（{c_name}），您申请购买的产品{product}风险等级为"
    "{r_label}（{r_name}），高于您的风险承受能力。该产品可能出现超出您承受能力的本金亏损。本机构不向您推荐该产品；"
    "如您坚持购买，请确认您已阅读并理解本警示，自行承担投资风险。"
)
_MISMATCH_EN = (
    "Risk mismatch warning: your risk tolerance level is {c_label} ({c_en}); the product {product} you asked "
    "to buy is rated {r_label} ({r_name_en}), above your tolerance. It may lose more of your principal than you "
    "can bear. We do not recommend it to you; if you still wish to buy it, confirm that you have read and "
    "understood this warning and accept the risk yourself."
)
_SENIOR_ZH = ("温馨提示：您已年满{age}周岁，投资前请充分考虑资金用途与流动性需要，必要时可邀请家属陪同办理。"
              "投资有风险，基金过往业绩不代表未来表现。")
_SENIOR_EN = ("Please note: as you are {age} or older, consider what the money is for and when you may need it "
              "before investing; you may bring a family member. Investing involves risk; past performance of a "
              "fund does not predict its future.")
_R_NAMES_EN = {1: "low risk", 2: "medium-low risk", 3: "medium risk", 4: "medium-high risk", 5: "high risk"}


class Channel(StrEnum):
    APP = "app"
    WEB = "web"
    BRANCH = "branch"
    PHONE = "phone"
    API = "api"


@dataclass(frozen=True)
class WarningText:
    version: str
    text_zh: str
    text_en: str

    def text(self, language: str = "zh") -> str:
        return self.text_zh if language == "zh" else self.text_en


def mismatch_warning(customer_level: object, product_level: object, product_code: str,
                     product_name: str | None = None) -> WarningText:
    """The warning shown before a customer buys a fund above their level on their own initiative."""
    c = CustomerLevel(customer_level_int(customer_level))
    r = RiskLevel(product_level_int(product_level))
    product = f"{product_code}{'（' + product_name + '）' if product_name else ''}"
    return WarningText(
        WARNING_TEXT_VERSION,
        _MISMATCH_ZH.format(c_label=c.label, c_name=c.name_zh, product=product, r_label=r.label, r_name=r.name_zh),
        _MISMATCH_EN.format(c_label=c.label, c_en=c.name_en, product=product, r_label=r.label,
                            r_name_en=_R_NAMES_EN[int(r)]))


def senior_warning(age_threshold: int = 65) -> WarningText:
    return WarningText(SENIOR_WARNING_VERSION, _SENIOR_ZH.format(age=age_threshold),
                       _SENIOR_EN.format(age=age_threshold))


@dataclass(frozen=True)
class ConfirmationRecord:
    """Evidence that a customer saw the mismatch warning and insisted (kept ≥ 20 years)."""

    customer_id: str
    product_code: str
    customer_level: str  # "C2"
    product_level: str  # "R4"
    warning_text_version: str
    text_shown: str
    confirmed_at: datetime
    channel: str
    language: str = "zh"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["confirmed_at"] = self.confirmed_at.isoformat(timespec="seconds")
        return out


def record_confirmation(customer_id: str, product_code: str, customer_level: object, product_level: object, *,
                        channel: Channel | str, kind: ProductKind | str = ProductKind.FUND,
                        lowest_category: bool = False, product_name: str | None = None, language: str = "zh",
                        confirmed_at: datetime | None = None) -> ConfirmationRecord:
    """Build the record of a customer insisting on a fund above their level.

    Raises SuitabilityError when the purchase may not go ahead even with confirmation (lowest category,
    bank wealth-management product) and BadInputError when no confirmation is needed or input is bad.
    """
    if not str(customer_id).strip():
        raise BadInputError("customer_id: required", details={"field": "customer_id"})
    if not str(product_code).strip():
        raise BadInputError("product_code: required", details={"field": "product_code"})
    if str(channel) not in {c.value for c in Channel}:
        raise BadInputError(f"channel: unknown channel {channel!r}; expected one of "
                            + ", ".join(c.value for c in Channel), details={"field": "channel"})
    if language not in ("zh", "en"):
        raise BadInputError("language: expected zh or en", details={"field": "language"})
    c = customer_level_int(customer_level)
    r = product_level_int(product_level)
    decision = purchase_decision(c, r, kind, lowest_category)
    if decision is PurchaseDecision.ALLOW:
        raise BadInputError(f"product {product_code} (R{r}) is within the customer's level C{c}; "
                            "no mismatch confirmation is needed", details={"field": "product_level"})
    if decision is PurchaseDecision.BLOCK:
        why = "the customer is in the lowest risk category (R1 only)" if lowest_category else \
            "bank wealth-management products above the customer's level may not be sold"
        raise SuitabilityError(f"purchase of {product_code} (R{r}) by a C{c} customer is blocked: {why}",
                               details={"customer_id": customer_id, "product_code": product_code})
    text = mismatch_warning(c, r, product_code, product_name)
    moment = confirmed_at or datetime.now(UTC).replace(microsecond=0)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ConfirmationRecord(customer_id=str(customer_id), product_code=str(product_code), customer_level=f"C{c}",
                              product_level=f"R{r}", warning_text_version=text.version,
                              text_shown=text.text(language), confirmed_at=moment, channel=str(channel),
                              language=language)
