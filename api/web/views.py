"""The charts of a client review in the reader's language, and the number formats the templates use."""

from __future__ import annotations

import hashlib
import math
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from api.clock import BUSINESS_TZ
from api.web import charts
from api.web.i18n import Translator
from api.web.review import Review
from products.taxonomy import ASSET_CLASSES

CHART_CACHE_SIZE = 256  # rendered charts kept (~10-40 kB each): a phone and a desktop view, a report, a reload
_CHARTS: OrderedDict[str, str] = OrderedDict()
_CHARTS_LOCK = threading.Lock()


def cached_chart(draw: Callable[..., str], *args: Any, **kwargs: Any) -> str:
    """`draw(*args, **kwargs)`, remembered by the hash of its inputs (the same data draws the same chart)."""
    key = hashlib.sha256(pickle.dumps((draw.__name__, args, kwargs), protocol=5)).hexdigest()
    with _CHARTS_LOCK:
        if key in _CHARTS:
            _CHARTS.move_to_end(key)
            return _CHARTS[key]
    svg = draw(*args, **kwargs)
    with _CHARTS_LOCK:
        _CHARTS[key] = svg
        while len(_CHARTS) > CHART_CACHE_SIZE:
            _CHARTS.popitem(last=False)
    return svg


def review_charts(review: Review, tr: Translator) -> dict[str, str]:
    """Chart name → inline SVG; a chart whose data is missing is absent (the template says why)."""
    out: dict[str, str] = {}
    portfolio = (review.diagnosis or {}).get("portfolio") or {}
    allocation = portfolio.get("allocation")
    if allocation and any(v is not None for v in allocation["actual"].values()):
        classes = [str(c) for c in ASSET_CLASSES]
        out["allocation"] = cached_chart(
            charts.grouped_bars, "allocation", tr.t("allocation_vs_model"),
            [tr.label("asset_class", c) for c in classes],
            {tr.t("current"): [allocation["actual"].get(c) or 0.0 for c in classes],
             tr.t("model"): [allocation["target"].get(c) or 0.0 for c in classes]})
    look = review.look_through
    if look and look["industries"]:
        out["industries"] = cached_chart(
            charts.grouped_bars, "industries", tr.t("industries"), [name for name, _ in look["industries"]],
            {tr.t("portfolio"): [share for _, share in look["industries"]]}, colors=(charts.BARS,))
    style = portfolio.get("style")
    if style and any(v is not None for v in style["portfolio"].values()):
        names = list(style["portfolio"])
        out["style"] = cached_chart(
            charts.grouped_bars, "style", tr.t("style"), [tr.label("style", n) for n in names],
            {tr.t("current"): [style["portfolio"].get(n) or 0.0 for n in names],
             tr.t("model"): [style["model"].get(n) or 0.0 for n in names]})
    if review.value_curves:
        labels = {"portfolio": tr.t("portfolio"), "model": tr.t("model")}
        first = next(iter(review.value_curves.values()))
        out["value"] = cached_chart(
            charts.value_and_drawdown, "value", tr.t("value_curve"), first.dates,
            {labels[k]: c.growth for k, c in review.value_curves.items()},
            {labels[k]: c.drawdown for k, c in review.value_curves.items()}, tr.t("drawdown"))
    if review.record is not None:
        out["record"] = cached_chart(
            charts.value_and_drawdown, "record", tr.t("backtest"), review.record.dates,
            {tr.t("strategy"): review.record.growth},
            {tr.t("strategy"): review.record.drawdown}, tr.t("drawdown"), colors=(charts.MODEL,))
    return out


def pct(value: Any, digits: int = 1, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{float(value) * 100:{'+' if signed else ''}.{digits}f}%"
    return text


def money(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):,.{digits}f}"


def day(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def local_date(value: datetime) -> str:
    """The calendar date in Beijing (what a report is dated)."""
    return value.astimezone(BUSINESS_TZ).date().isoformat()


def trend(value: Any) -> str:
    """CSS class of a gain or a loss (red up, green down, as Chinese quotes show them)."""
    if value is None or not isinstance(value, int | float) or not math.isfinite(value) or value == 0:
        return ""
    return "up" if value > 0 else "down"


FILTERS = {"pct": pct, "money": money, "day": day, "trend": trend, "local_date": local_date}
