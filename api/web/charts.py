"""Charts as inline SVG, drawn on the server with matplotlib.

Why server-side SVG rather than a JavaScript chart library: the same markup shows on screen, prints from
the browser and goes into the PDF (WeasyPrint runs no scripts), nothing is fetched at run time, and text
stays text (`svg.fonttype = none`), so Chinese labels use the page's CJK font and can be searched and
extracted from the PDF. Each chart is a small, self-contained `<svg>` with a viewBox (it scales to the
column width) and element ids prefixed with the chart's name (several charts share one page).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

FONT_FAMILIES = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "DejaVu Sans"]
STYLE = {
    "svg.fonttype": "none",  # text stays text: the browser / PDF renders it with the CJK font
    "svg.hashsalt": "advisor",  # stable clip-path ids: the same chart gives the same bytes
    "font.family": "sans-serif",
    "font.sans-serif": FONT_FAMILIES,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": "#334155",
    "xtick.color": "#475569",
    "ytick.color": "#475569",
    "axes.grid": True,
    "grid.color": "#e2e8f0",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
}
CURRENT = "#1f4e79"  # the customer's portfolio
MODEL = "#c9a227"  # the model / strategy
LOSS = "#2e8b57"  # drawdowns (green = down, as Chinese quotes show it)
BARS = "#4f7cac"
WIDTH = 5.0  # inches; the viewBox keeps the aspect ratio when scaled (a phone shows it at ~75%)
CURVE_WIDTH = 9.6  # curves span the page: wider, same height
MAX_POINTS = 260  # a curve is drawn from at most about this many days (a year of trading days)


def _svg(fig: Figure, name: str, title: str) -> str:
    """The figure as an inline `<svg>`: no XML prolog, no fixed size, ids prefixed with `name`."""
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    text = text.replace('id="', f'id="{name}-').replace("url(#", f"url(#{name}-") \
        .replace('xlink:href="#', f'xlink:href="#{name}-')
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{label}" data-chart="{name}" ', 1)


def _text_width(label: str) -> float:
    """Width of a label in units of a Latin character (a CJK character counts as two)."""
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in label)


def _thin(n: int, keep_lows: Sequence[np.ndarray], points: int = MAX_POINTS) -> np.ndarray:
    """Row positions to draw: every k-th day plus each series' deepest day, so no trough is smoothed away."""
    if n <= points:
        return np.arange(n)
    rows = set(range(0, n, int(np.ceil(n / points)))) | {n - 1}
    rows |= {int(np.nanargmin(v)) for v in keep_lows if np.isfinite(v).any()}
    return np.array(sorted(rows))


def _figure(height: float, width: float = WIDTH) -> Figure:
    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(width, height))


def grouped_bars(name: str, title: str, labels: Sequence[str], series: dict[str, Sequence[float]],
                 colors: Sequence[str] = (CURRENT, MODEL)) -> str:
    """Horizontal bars, one group per label, one bar per series (shares as %)."""
    with matplotlib.rc_context(STYLE):
        n, k = len(labels), len(series)
        height_in = 0.75 + 0.32 * n * max(k, 1) ** 0.5
        fig = _figure(height_in)
        label_in = 0.25 + 0.125 * max((_text_width(label) for label in labels), default=4)
        fig.subplots_adjust(left=label_in / WIDTH, right=0.97, top=1 - 0.12 / height_in,
                            bottom=(0.55 if k > 1 else 0.3) / height_in)
        ax = fig.add_subplot()
        height = 0.8 / max(k, 1)
        y = np.arange(n)
        for j, (legend, values) in enumerate(series.items()):
            vals = np.nan_to_num(np.asarray(values, dtype=float))
            bars = ax.barh(y - 0.4 + height * (j + 0.5), vals, height=height * 0.92, color=colors[j % len(colors)],
                           label=legend)
            ax.bar_label(bars, labels=[f"{v:.0%}" if v >= 0.005 else "" for v in vals], padding=2, fontsize=8,
                         color="#334155")
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlim(0, max(0.05, max((np.nanmax(np.asarray(v, dtype=float)) if len(v) else 0.0)
                                     for v in series.values()) * 1.18))
        ax.grid(axis="y", visible=False)
        if k > 1:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22 * 1.6 / height_in), ncols=k, fontsize=8)
        return _svg(fig, name, title)


def value_and_drawdown(name: str, title: str, dates: Sequence, series: dict[str, np.ndarray],
                       drawdowns: dict[str, np.ndarray], drawdown_label: str,
                       colors: Sequence[str] = (CURRENT, MODEL)) -> str:
    """Growth of ¥1 on top, drawdown from the running peak below, on one date axis."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(3.4, width=CURVE_WIDTH)
        fig.subplots_adjust(left=0.075, right=0.985, top=0.97, bottom=0.09)
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.3, 1], "hspace": 0.08})
        keep = _thin(len(dates), [np.asarray(v, dtype=float) for v in drawdowns.values()])
        x = np.asarray(dates, dtype="datetime64[D]")[keep]
        for j, (legend, values) in enumerate(series.items()):
            top.plot(x, np.asarray(values, dtype=float)[keep], color=colors[j % len(colors)], linewidth=1.3,
                     label=legend)
        top.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.2f}"))
        top.legend(loc="upper left", ncols=len(series), fontsize=8)
        deepest = 0.0
        for j, values in enumerate(drawdowns.values()):
            values = np.asarray(values, dtype=float)[keep]
            deepest = min(deepest, float(np.nanmin(values)) if np.isfinite(values).any() else 0.0)
            if j == 0:
                bottom.fill_between(x, values, 0, color=LOSS, alpha=0.35, linewidth=0)
            bottom.plot(x, values, color=LOSS if j == 0 else colors[j % len(colors)], linewidth=0.9)
        bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if deepest < -0.05 else 1))
        bottom.text(0.005, 0.08, drawdown_label, transform=bottom.transAxes, fontsize=8, color="#334155")
        bottom.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
        bottom.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        return _svg(fig, name, title)
