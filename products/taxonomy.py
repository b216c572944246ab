"""Fund type taxonomy, asset classes and product risk levels (R1–R5).

Fund types are normalized from the distributors' and Eastmoney's texts (`混合型-偏股`, `债券型-可转债`,
`QDII-股票`, `商品型-非QDII` ...). Each type maps to one asset class for allocation and to a conservative
default risk level used when the distributor has no rating (domain brief: bank practice is stricter than
the industry reference, so equity-like funds default to R4).
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from products.errors import BadInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class FundType(StrEnum):
    MONEY_MARKET = "money_market"
    BOND = "bond"
    BOND_INDEX = "bond_index"
    CONVERTIBLE = "convertible"
    MIXED_BOND = "mixed_bond"
    MIXED_BALANCED = "mixed_balanced"
    MIXED_EQUITY = "mixed_equity"
    MIXED_FLEXIBLE = "mixed_flexible"
    EQUITY = "equity"
    INDEX = "index"
    ENHANCED_INDEX = "enhanced_index"
    QDII_EQUITY = "qdii_equity"
    QDII_OTHER = "qdii_other"
    GOLD = "gold"
    COMMODITY = "commodity"
    FOF = "fof"


class AssetClass(StrEnum):
    CASH = "cash"
    BOND = "bond"
    CN_EQUITY = "cn_equity"
    GLOBAL_EQUITY = "global_equity"
    GOLD = "gold"


ASSET_CLASSES: tuple[AssetClass, ...] = tuple(AssetClass)


class RiskLevel(IntEnum):
    """Product risk level. Stored as the integer 1–5, shown as `R1`…`R5`."""

    R1 = 1
    R2 = 2
    R3 = 3
    R4 = 4
    R5 = 5

    @property
    def label(self) -> str:
        return f"R{int(self)}"

    @property
    def name_zh(self) -> str:
        return RISK_LEVEL_NAMES_ZH[int(self)]

    @classmethod
    def parse(cls, value: object) -> RiskLevel:
        """Accept 3, "3", "R3", "r3" or Chinese text like `中风险` / `中高`."""
        if isinstance(value, RiskLevel):
            return value
        if isinstance(value, int) and 1 <= value <= 5:
            return cls(value)
        text = str(value).strip()
        upper = text.upper()
        if upper.startswith("R") and upper[1:].isdigit() and 1 <= int(upper[1:]) <= 5:
            return cls(int(upper[1:]))
        if text.isdigit() and 1 <= int(text) <= 5:
            return cls(int(text))
        level = RISK_TEXT_ZH.get(text.replace("风险", "").replace("等级", "").strip())
        if level is not None:
            return cls(level)
        raise BadInputError(f"unknown risk level {value!r}; expected R1–R5", details={"value": str(value)})


RISK_LEVEL_NAMES_ZH = {1: "低风险", 2: "中低风险", 3: "中风险", 4: "中高风险", 5: "高风险"}
RISK_TEXT_ZH = {"低": 1, "中低": 2, "较低": 2, "中": 3, "中等": 3, "中高": 4, "较高": 4, "高": 5}

FUND_TYPE_NAMES_ZH: dict[FundType, str] = {
    FundType.MONEY_MARKET: "货币型",
    FundType.BOND: "债券型",
    FundType.BOND_INDEX: "债券指数型",
    FundType.CONVERTIBLE: "可转债型",
    FundType.MIXED_BOND: "混合型-偏债",
    FundType.MIXED_BALANCED: "混合型-平衡",
    FundType.MIXED_EQUITY: "混合型-偏股",
    FundType.MIXED_FLEXIBLE: "混合型-灵活配置",
    FundType.EQUITY: "股票型",
    FundType.INDEX: "指数型",
    FundType.ENHANCED_INDEX: "指数增强型",
    FundType.QDII_EQUITY: "QDII-股票",
    FundType.QDII_OTHER: "QDII-其他",
    FundType.GOLD: "黄金",
    FundType.COMMODITY: "商品型",
    FundType.FOF: "FOF",
}

ASSET_CLASS_NAMES_ZH: dict[AssetClass, str] = {
    AssetClass.CASH: "现金类",
    AssetClass.BOND: "债券类",
    AssetClass.CN_EQUITY: "A股权益类",
    AssetClass.GLOBAL_EQUITY: "海外权益类",
    AssetClass.GOLD: "黄金商品类",
}
ASSET_CLASS_NAMES_EN: dict[AssetClass, str] = {
    AssetClass.CASH: "cash",
    AssetClass.BOND: "bonds",
    AssetClass.CN_EQUITY: "Chinese equity",
    AssetClass.GLOBAL_EQUITY: "global equity",
    AssetClass.GOLD: "gold",
}


def asset_class_name(asset_class: str | AssetClass, lang: str = "zh") -> str:
    """The reader's name of an asset class (`lang` "zh" or "en"), never its code."""
    key = AssetClass(asset_class)
    return (ASSET_CLASS_NAMES_ZH if lang == "zh" else ASSET_CLASS_NAMES_EN)[key]

ASSET_CLASS_OF_TYPE: dict[FundType, AssetClass] = {
    FundType.MONEY_MARKET: AssetClass.CASH,
    FundType.BOND: AssetClass.BOND,
    FundType.BOND_INDEX: AssetClass.BOND,
    FundType.CONVERTIBLE: AssetClass.BOND,
    FundType.MIXED_BOND: AssetClass.BOND,
    FundType.MIXED_BALANCED: AssetClass.CN_EQUITY,
    FundType.MIXED_EQUITY: AssetClass.CN_EQUITY,
    FundType.MIXED_FLEXIBLE: AssetClass.CN_EQUITY,
    FundType.EQUITY: AssetClass.CN_EQUITY,
    FundType.INDEX: AssetClass.CN_EQUITY,
    FundType.ENHANCED_INDEX: AssetClass.CN_EQUITY,
    FundType.QDII_EQUITY: AssetClass.GLOBAL_EQUITY,
    FundType.QDII_OTHER: AssetClass.GLOBAL_EQUITY,
    FundType.GOLD: AssetClass.GOLD,
    FundType.COMMODITY: AssetClass.GOLD,
    FundType.FOF: AssetClass.BOND,
}

# Conservative default when the distributor has no rating (domain brief, "Product risk levels").
DEFAULT_RISK_OF_TYPE: dict[FundType, RiskLevel] = {
    FundType.MONEY_MARKET: RiskLevel.R1,
    FundType.BOND: RiskLevel.R2,
    FundType.BOND_INDEX: RiskLevel.R2,
    FundType.CONVERTIBLE: RiskLevel.R3,
    FundType.MIXED_BOND: RiskLevel.R3,
    FundType.MIXED_BALANCED: RiskLevel.R3,
    FundType.MIXED_EQUITY: RiskLevel.R3,
    FundType.MIXED_FLEXIBLE: RiskLevel.R3,
    FundType.EQUITY: RiskLevel.R4,
    FundType.INDEX: RiskLevel.R4,
    FundType.ENHANCED_INDEX: RiskLevel.R4,
    FundType.QDII_EQUITY: RiskLevel.R5,
    FundType.QDII_OTHER: RiskLevel.R4,
    FundType.GOLD: RiskLevel.R4,
    FundType.COMMODITY: RiskLevel.R5,
    FundType.FOF: RiskLevel.R3,
}

_EASTMONEY_TYPES: dict[str, FundType] = {
    "股票型-普通": FundType.EQUITY,
    "股票型-标准指数": FundType.INDEX,
    "股票型-增强指数": FundType.ENHANCED_INDEX,
    "股票型": FundType.EQUITY,
    "指数型-股票": FundType.INDEX,
    "指数型": FundType.INDEX,
    "混合型-偏股": FundType.MIXED_EQUITY,
    "混合型-偏债": FundType.MIXED_BOND,
    "混合型-股债平衡": FundType.MIXED_BALANCED,
    "混合型-平衡": FundType.MIXED_BALANCED,
    "混合型-灵活配置": FundType.MIXED_FLEXIBLE,
    "混合型-灵活": FundType.MIXED_FLEXIBLE,
    "混合型-股票对冲": FundType.MIXED_FLEXIBLE,
    "混合型-事件驱动": FundType.MIXED_FLEXIBLE,
    "混合型-宏观策略": FundType.MIXED_FLEXIBLE,
    "混合型-绝对收益": FundType.MIXED_FLEXIBLE,
    "混合型": FundType.MIXED_FLEXIBLE,
    "混合基金": FundType.MIXED_FLEXIBLE,
    "混合型基金": FundType.MIXED_FLEXIBLE,
    "债券型-普通债券": FundType.BOND,
    "债券型-长债": FundType.BOND,
    "债券型-中短债": FundType.BOND,
    "债券型-混合债": FundType.BOND,
    "债券型-混合一级": FundType.BOND,
    "债券型-混合二级": FundType.BOND,
    "债券型-债券指数": FundType.BOND_INDEX,
    "指数型-固收": FundType.BOND_INDEX,
    "债券型-可转债": FundType.CONVERTIBLE,
    "债券型": FundType.BOND,
    "债券型基金": FundType.BOND,
    "货币型": FundType.MONEY_MARKET,
    "货币型-普通货币": FundType.MONEY_MARKET,
    "货币基金": FundType.MONEY_MARKET,
    "货币型基金": FundType.MONEY_MARKET,
    "QDII-股票": FundType.QDII_EQUITY,
    "QDII-普通股票": FundType.QDII_EQUITY,
    "QDII-混合": FundType.QDII_OTHER,
    "QDII-债券": FundType.QDII_OTHER,
    "QDII-房地产信托": FundType.QDII_OTHER,
    "QDII-商品": FundType.QDII_OTHER,
    "QDII": FundType.QDII_OTHER,
    "QDII基金": FundType.QDII_OTHER,
    "商品型-非QDII": FundType.COMMODITY,
    "商品型": FundType.COMMODITY,
    "FOF": FundType.FOF,
    "FOF-稳健型": FundType.FOF,
    "FOF-均衡型": FundType.FOF,
    "FOF-进取型": FundType.FOF,
    "股票型基金": FundType.EQUITY,
    "指数基金": FundType.INDEX,
    "指数型基金": FundType.INDEX,
}


def parse_fund_type(type_text: str, name: str = "") -> FundType:
    """Normalize a source type text (`混合型-偏股`, `货币基金` ...) to a `FundType`.

    The fund name refines what the type text leaves open: commodity funds named 黄金 are gold, index
    funds named 增强 are enhanced, bond funds named 可转债 are convertibles. Unknown text raises
    `BadInputError` naming the text, so a loader can report the row.
    """
    text = (type_text or "").strip()
    try:
        return FundType(text)
    except ValueError:
        pass
    found = _EASTMONEY_TYPES.get(text)
    if found is None:
        for prefix, ftype in (("货币", FundType.MONEY_MARKET), ("QDII", FundType.QDII_OTHER),
                              ("债券", FundType.BOND), ("混合", FundType.MIXED_FLEXIBLE),
                              ("股票", FundType.EQUITY), ("指数", FundType.INDEX), ("商品", FundType.COMMODITY),
                              ("FOF", FundType.FOF)):
            if text.startswith(prefix):
                found = ftype
                break
    if found is None:
        raise BadInputError(f"unknown fund type {type_text!r}", details={"fund_type": type_text})
    if found is FundType.COMMODITY and "黄金" in name:
        return FundType.GOLD
    if found is FundType.INDEX and "增强" in name:
        return FundType.ENHANCED_INDEX
    if found is FundType.BOND and "可转债" in name:
        return FundType.CONVERTIBLE
    if found is FundType.QDII_OTHER and text in ("QDII", "QDII基金") and "债" not in name:
        return FundType.QDII_EQUITY
    return found


def share_class_of(name: str) -> str:
    """The share class letter from a fund name's suffix (`...混合A` → "A", `...(QDII)C` → "C"), else "".

    A trailing capital counts only when the character before it is not an ASCII letter or digit, so
    `沪深300ETF` has no class while `纳指100ETF联接(QDII)A` is class A.
    """
    match = re.search(r"(?<![A-Za-z0-9])([A-EHIY])$", name.strip())
    return match.group(1) if match else ""


def share_class_families(funds: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(family id per fund, position of the A class for each C-class fund or -1) from `sibling_codes`.

    Share classes of one fund (A/C/…) list each other in `sibling_codes`; a family is a connected group.
    The health check (C class held long) and rebalancing (switch to the cheaper class) both use this.
    """
    import numpy as np
    import pandas as pd

    n = len(funds)
    position = {code: i for i, code in enumerate(funds.index)}
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    siblings = funds.get("sibling_codes", pd.Series("", index=funds.index)).fillna("").astype("str")
    for i, text in enumerate(siblings.to_numpy()):
        for code in text.split():
            j = position.get(code)
            if j is not None:
                parent[root(i)] = root(j)
    family = np.array([root(i) for i in range(n)], dtype=np.int32)
    share_class = funds.get("share_class", pd.Series("", index=funds.index)).fillna("").astype("str").to_numpy()
    a_sibling = np.full(n, -1, dtype=np.int32)
    first_a: dict[int, int] = {}
    for i in range(n):
        if share_class[i] == "A":
            first_a.setdefault(int(family[i]), i)
    for i in range(n):
        if share_class[i] == "C":
            a_sibling[i] = first_a.get(int(family[i]), -1)
    return family, a_sibling


CURRENCIES = ("CNY", "USD")
INVESTOR_CURRENCY = "CNY"  # customers invest yuan: a US-dollar class is never proposed to them
_USD_MARKERS = re.compile(r"美元|USD", re.IGNORECASE)


def currency_of_name(name: str) -> str:
    """`USD` for a US-dollar share class (美元现汇, 美元现钞, (美元汇), 美元 in the name), else `CNY`."""
    return "USD" if _USD_MARKERS.search(str(name or "")) else "CNY"


def currency_of_fund(funds: object) -> object:
    """Each fund's currency: the `currency` column where the table has one, else read from the name."""
    import pandas as pd  # taxonomy stays importable without pandas users paying for it

    table = funds if isinstance(funds, pd.DataFrame) else pd.DataFrame(funds)
    if "currency" in table:
        return table["currency"].fillna("CNY").astype(str)
    names = table["name"] if "name" in table else pd.Series("", index=table.index)
    return pd.Series([currency_of_name(n) for n in names], index=table.index, dtype=object)


def modelled_mask(funds: object) -> object:
    """Each fund's `modelled` flag (False where the table has no such column)."""
    import pandas as pd

    table = funds if isinstance(funds, pd.DataFrame) else pd.DataFrame(funds)
    if "modelled" not in table:
        return pd.Series(False, index=table.index)
    return table["modelled"].fillna(False).astype(bool)
