"""How the CLI writes numbers, dates and names for people: one format for each, used by every command.

Percentages always carry two decimals (``12.34%``; signed where a change is shown; fee rates three, so a
bank's discounted 0.015% is not shown as 0.01%), money has thousands
separators and two decimals (yuan with the sign before the symbol: ``-¥1,234.50``), a missing value is
``—``. Series, styles and asset classes are shown by their
reader's names (沪深300, 港股, 海外股票), never by their codes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MISSING = "—"
PCT_DIGITS = 2
FEE_RATE_DIGITS = 3


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def pct(value: Any, *, signed: bool = False) -> str:
    """A fraction as a percentage with two decimals (0.1234 → ``12.34%``); ``—`` when missing."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:+.{PCT_DIGITS}%}" if signed else f"{number:.{PCT_DIGITS}%}"


def fee_rate(value: Any) -> str:
    """A fee rate with three decimals (0.00015 → ``0.015%``); ``—`` when missing."""
    number = _number(value)
    return MISSING if number is None else f"{number:.{FEE_RATE_DIGITS}%}"


def num(value: Any, digits: int = 2) -> str:
    """A plain number with `digits` decimals; ``—`` when missing."""
    number = _number(value)
    return MISSING if number is None else f"{number:.{digits}f}"


def money(value: Any) -> str:
    """Yuan with thousands separators and two decimals (``12,345.60``); ``—`` when missing."""
    number = _number(value)
    return MISSING if number is None else f"{number:,.2f}"


def yuan(value: Any, *, signed: bool = False) -> str:
    """Yuan with the sign before the symbol (``¥1,234.50``, a loss ``-¥1,234.50``; `signed` adds ``+``)."""
    number = _number(value)
    if number is None:
        return MISSING
    sign = "-" if number < 0 and round(number, 2) != 0 else ("+" if signed else "")
    return f"{sign}¥{abs(number):,.2f}"


def day(value: Any) -> str:
    """A date as YYYY-MM-DD; ``—`` when missing."""
    text = str(value)[:10] if value is not None else ""
    return MISSING if text in ("", "NaT", "None", "nan") else text


def series_name(name: str) -> str:
    """The reader's name of a benchmark or style series (``hk_equity`` → 恒生指数)."""
    from products.benchmark import SERIES_ZH

    return SERIES_ZH.get(name, name)


def style_name(name: str) -> str:
    """The reader's name of a style (``cn_mid_small_cap`` → A股中小盘)."""
    from products.research.style import style_label

    return style_label(name, "zh")


def class_name(asset_class: str) -> str:
    """An asset class as ``海外股票 global equity`` (both languages, never the code)."""
    from products.taxonomy import asset_class_name

    try:
        return f"{asset_class_name(asset_class, 'zh')} {asset_class_name(asset_class, 'en')}"
    except ValueError:
        return str(asset_class)


def weights(shares: Mapping[str, Any], namer: Any = series_name, top: int | None = None) -> str:
    """``沪深300 95.00%, 活期存款 5.00%``: named shares, largest first, zero shares left out."""
    items = [(k, v) for k, v in shares.items() if _number(v)]
    items.sort(key=lambda kv: -float(kv[1]))
    return ", ".join(f"{namer(k)} {pct(v)}" for k, v in items[:top])
