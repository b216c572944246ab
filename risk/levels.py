"""Customer risk levels C1–C5 (投资者风险承受能力等级) and their names."""

from __future__ import annotations

from enum import IntEnum

from products.errors import BadInputError

CUSTOMER_LEVEL_NAMES_ZH = {1: "保守型", 2: "稳健型", 3: "平衡型", 4: "成长型", 5: "进取型"}
CUSTOMER_LEVEL_NAMES_EN = {1: "conservative", 2: "cautious", 3: "balanced", 4: "growth", 5: "aggressive"}
# The largest fall from a peak each level accepts (C1…C5): the upper ends of the questionnaire's loss bands
# (Q12: within 5%, 5–10%, 10–20%, 20–30%, more than 30%; C5 taken at 40%). The one table that the health
# check's drawdown finding, the 陪伴 drawdown alert and the rebalancing drawdown trigger read; model
# portfolios are built to fall less (`advisor.model_portfolios.LevelPolicy.max_drawdown`).
DRAWDOWN_TOLERANCE: tuple[float, float, float, float, float] = (0.05, 0.10, 0.20, 0.30, 0.40)
_ZH_TO_LEVEL = {name: level for level, name in CUSTOMER_LEVEL_NAMES_ZH.items()}
_EN_TO_LEVEL = {name: level for level, name in CUSTOMER_LEVEL_NAMES_EN.items()}


class CustomerLevel(IntEnum):
    """An ordinary investor's risk level. Stored as the integer 1–5, shown as `C1`…`C5`."""

    C1 = 1
    C2 = 2
    C3 = 3
    C4 = 4
    C5 = 5

    @property
    def label(self) -> str:
        return f"C{int(self)}"

    @property
    def name_zh(self) -> str:
        return CUSTOMER_LEVEL_NAMES_ZH[int(self)]

    @property
    def name_en(self) -> str:
        return CUSTOMER_LEVEL_NAMES_EN[int(self)]


def parse_customer_level(value: object, *, field: str = "risk_level") -> CustomerLevel:
    """Accept 3, "3", "C3", "c3", "平衡型" or "balanced"; anything else is a BadInputError naming `field`."""
    if isinstance(value, CustomerLevel):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return CustomerLevel(value)
    text = str(value).strip()
    upper = text.upper()
    if upper.startswith("C") and upper[1:].isdigit() and 1 <= int(upper[1:]) <= 5:
        return CustomerLevel(int(upper[1:]))
    if text.isdigit() and 1 <= int(text) <= 5:
        return CustomerLevel(int(text))
    level = _ZH_TO_LEVEL.get(text) or _EN_TO_LEVEL.get(text.lower())
    if level is not None:
        return CustomerLevel(level)
    raise BadInputError(f"{field}: unknown customer risk level {value!r}; expected C1–C5",
                        details={"field": field, "value": str(value)})
