"""Small hand-made SVG charts for the bench report: no plotting library to install.

Bar charts (one group per scenario, one bar per run) and latency histograms,
as self-contained SVG text that a browser, GitHub and the HTML report show
as they are.
"""

from __future__ import annotations

import html
import math

COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 56, 36, 30


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= value))


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _frame(title: str, top: float, body: list[str]) -> str:
    plot_h = HEIGHT - BOTTOM - TOP
    axis = []
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        axis.append(f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                    f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(top * i / 4)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="13">{html.escape(title)}</text>'
            + "".join(axis) + "".join(body) + "</svg>")


def bar_chart(title: str, groups: list[str], series: list[tuple[str, list[float]]]) -> str:
    """One group of bars per name in ``groups``; one coloured bar per (label, values) series."""
    top = _nice_top(max((v for _, values in series for v in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(1, len(groups))
    bar = slot * 0.8 / max(1, len(series))
    body: list[str] = []
    for g, name in enumerate(groups):
        x0 = LEFT + g * slot + slot * 0.1
        for s, (_, values) in enumerate(series):
            h = plot_h * (values[g] / top if top else 0)
            body.append(f'<rect x="{x0 + s * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                        f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}">'
                        f"<title>{html.escape(series[s][0])}: {values[g]:g}</title></rect>")
        body.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                    f'text-anchor="middle">{html.escape(name)}</text>')
    if len(series) > 1:
        for s, (label, _) in enumerate(series):
            x = LEFT + 10 + s * 170
            body.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" '
                        f'fill="{COLOURS[s % len(COLOURS)]}"/><text x="{x + 14}" y="{HEIGHT - 5}">'
                        f"{html.escape(label)}</text>")
    return _frame(title, top, body)


def histogram(title: str, values: list[float], bins: int = 40) -> str:
    """Counts of ``values`` in ``bins`` equal bins between their minimum and maximum."""
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    top = _nice_top(max(counts, default=0))
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    width = plot_w / bins
    body = [f'<rect x="{LEFT + i * width:.1f}" y="{TOP + plot_h - plot_h * c / top:.1f}" '
            f'width="{width * 0.9:.1f}" height="{plot_h * c / top:.1f}" fill="{COLOURS[0]}"/>'
            for i, c in enumerate(counts)]
    body.append(f'<text x="{LEFT}" y="{HEIGHT - BOTTOM + 14}">{_label(low)} ms</text>'
                f'<text x="{WIDTH - 10}" y="{HEIGHT - BOTTOM + 14}" text-anchor="end">'
                f"{_label(high)} ms</text>")
    return _frame(title, top, body)
