"""Charts drawn on the server as SVG (no JavaScript, no chart library): the weekly reports in, handled and merged."""

from __future__ import annotations

from markupsafe import Markup, escape

IN_COLOUR, OUT_COLOUR, MERGED_COLOUR = "#1f6fb2", "#2e8540", "#9aa5b1"
SERIES = (("binnen", IN_COLOUR), ("afgehandeld", OUT_COLOUR), ("samengevoegd (dubbel)", MERGED_COLOUR))


def weekly_chart_svg(weeks, width: int = 880, height: int = 300) -> Markup:
    """Grouped bars per week: reports in (blue), handled (green) and merged duplicates (grey, not work done),
    with week labels and a y scale. Drawn at about the size it is shown, so its 14 px text stays 14 px."""
    left, right, top, bottom = 44, 10, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1] + [max(values) for _label, *values in weeks])
    step = _nice_step(peak)
    scale_max = step * -(-peak // step)
    group = plot_w / max(1, len(weeks))
    bar = max(2.0, group * 0.26)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-labelledby="chart-title">',
        '<title id="chart-title">Meldingen per week: binnengekomen, afgehandeld en samengevoegd</title>',
        '<g font-size="14" font-family="system-ui, sans-serif" fill="#222">',
    ]
    x = left
    for word, colour in SERIES:
        parts.append(f'<rect x="{x}" y="8" width="14" height="14" fill="{colour}"/>'
                     f'<text x="{x + 19}" y="20">{word}</text>')
        x += 19 + 8.5 * len(word) + 22
    for tick in range(0, scale_max + 1, step):
        y = top + plot_h - plot_h * tick / scale_max
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end">{tick}</text>')
    for index, (label, *values) in enumerate(weeks):
        x = left + index * group + (group - len(SERIES) * bar) / 2
        for k, (value, (word, colour)) in enumerate(zip(values, SERIES)):
            h = plot_h * value / scale_max
            parts.append(f'<rect x="{x + k * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: {value} {word}</title></rect>')
        parts.append(f'<text x="{left + index * group + group / 2:.1f}" y="{height - bottom + 20}" '
                     f'text-anchor="middle">{escape("wk " + label[-2:])}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    parts.append("</g></svg>")
    return Markup("".join(parts))


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if peak / step <= 5:
            return step
    return max(1, peak // 5)
