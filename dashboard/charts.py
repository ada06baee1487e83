"""Charts as server-side SVG, inline in the page: no script, no library, nothing from elsewhere (the CSP
allows neither inline scripts nor inline styles, so only SVG presentation attributes are used). Each series
has a grey tone *and* a pattern, every bar carries its number as text, and every bar links to the list of
documents behind it: a chart reads the same on screen, in greys and on paper."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

# (fill, pattern) per series position: patterns drawn over the grey keep series apart without colour.
_STYLES = (
    ("#3b3b3b", None),
    ("#9a9a9a", "hatch"),
    ("#d6d6d6", "dots"),
    ("#ffffff", "cross"),
    ("#6b6b6b", "vertical"),
)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]
    links: list[str]


def _defs(uid: str) -> str:
    """Pattern definitions, ids prefixed with the chart's id (several charts on one page)."""
    return (
        f'<defs><pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#9a9a9a"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="1.5"/></pattern>'
        f'<pattern id="{uid}-dots" width="5" height="5" patternUnits="userSpaceOnUse">'
        f'<rect width="5" height="5" fill="#d6d6d6"/><circle cx="2.5" cy="2.5" r="1" fill="#000"/></pattern>'
        f'<pattern id="{uid}-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="#fff"/><path d="M0 0L6 6M6 0L0 6" stroke="#000" stroke-width="0.8"/>'
        f'</pattern><pattern id="{uid}-vertical" width="4" height="4" patternUnits="userSpaceOnUse">'
        f'<rect width="4" height="4" fill="#6b6b6b"/><line x1="1" y1="0" x2="1" y2="4" stroke="#fff" '
        f'stroke-width="1"/></pattern></defs>'
    )


def _fill(uid: str, index: int) -> str:
    colour, pattern = _STYLES[index % len(_STYLES)]
    return f"url(#{uid}-{pattern})" if pattern else colour


def _legend(uid: str, labels: list[str], y: float) -> tuple[str, float]:
    """One swatch and label per line (labels of any length never overlap); returns the SVG and its height."""
    parts = []
    for i, label in enumerate(labels):
        top = y + 16 * i
        parts.append(f'<rect x="0" y="{top:.0f}" width="14" height="12" fill="{_fill(uid, i)}" '
                     f'stroke="#000" stroke-width="0.6"/>'
                     f'<text x="20" y="{top + 10:.0f}" font-size="11" class="chart-legend">{escape(label)}</text>')
    return "".join(parts), 16.0 * len(labels)


def _bar(uid: str, index: int, x: float, y: float, width: float, height: float, link: str, title: str) -> str:
    rect = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{max(height, 0):.1f}" '
            f'fill="{_fill(uid, index)}" stroke="#000" stroke-width="0.6"><title>{escape(title)}</title></rect>')
    return f'<a href="{escape(link)}">{rect}</a>' if link else rect


def grouped_bars(uid: str, categories: list[str], series: list[Series], *, title: str) -> str:
    """Vertical bars per category (months), one per series side by side, numbers above the bars."""
    top = max((v for s in series for v in s.values), default=0) or 1
    plot_h, bar_w, gap = 160.0, 16.0, 14.0
    group_w = bar_w * len(series) + gap
    width = max(320.0, 40 + group_w * len(categories))
    parts = [_defs(uid)]
    base = 20 + plot_h
    parts.append(f'<line x1="30" y1="{base}" x2="{width}" y2="{base}" stroke="#000" stroke-width="0.8"/>')
    for c, category in enumerate(categories):
        x0 = 36 + c * group_w
        for s_index, s in enumerate(series):
            value = s.values[c]
            h = plot_h * value / top
            x = x0 + s_index * bar_w
            parts.append(_bar(uid, s_index, x, base - h, bar_w - 2, h, s.links[c] if value else "",
                              f"{s.label} {category}: {value}"))
            parts.append(f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" '
                         f'font-size="11" class="chart-value">{value}</text>')
        parts.append(f'<text x="{x0 + (group_w - gap) / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                     f'font-size="11" class="chart-label">{escape(category)}</text>')
    legend, legend_h = _legend(uid, [s.label for s in series], base + 24)
    parts.append(legend)
    height = base + 28 + legend_h
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>{"".join(parts)}</svg>')


def stacked_rows(uid: str, rows: list[tuple[str, list[int], list[str]]], labels: list[str], *, title: str,
                 percent: bool = False) -> str:
    """Horizontal stacked bars, one per row (a unit, a channel split): each part is labelled with its number
    (and share when `percent`); the bar's length is the row's total (or 100 % when `percent`)."""
    label_w, plot_w, bar_h, gap = 190.0, 460.0, 20.0, 10.0
    top = max((sum(values) for _l, values, _k in rows), default=0) or 1
    parts = [_defs(uid)]
    y = 4.0
    for row_label, values, links in rows:
        total = sum(values)
        short = row_label if len(row_label) <= 30 else row_label[:29] + "…"
        parts.append(f'<text x="{label_w - 6:.0f}" y="{y + 14:.0f}" text-anchor="end" font-size="11" class="chart-label">'
                     f'<title>{escape(row_label)}</title>{escape(short)}</text>')
        x = label_w
        scale = plot_w / (total if percent and total else top)
        for i, value in enumerate(values):
            if not value:
                continue
            w = value * scale
            share = f" ({100 * value / total:.0f}%)" if percent and total else ""
            parts.append(_bar(uid, i, x, y, w, bar_h, links[i], f"{row_label} – {labels[i]}: {value}{share}"))
            text = f"{value}{share}"
            if w >= 7 * len(text):
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 14:.0f}" text-anchor="middle" '
                             f'font-size="11" paint-order="stroke" stroke="#fff" stroke-width="3" class="chart-value chart-on-bar">{text}</text>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 14:.0f}" font-size="11" class="chart-value">'
                     f'{"" if percent else total}</text>')
        y += bar_h + gap
    legend, legend_h = _legend(uid, labels, y + 2)
    parts.append(legend)
    height = y + 6 + legend_h
    width = label_w + plot_w + 50
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>{"".join(parts)}</svg>')
