"""Charts drawn on the server as SVG (no JavaScript, no chart library): the weekly reports in and out."""

from __future__ import annotations

from markupsafe import Markup, escape

IN_COLOUR, OUT_COLOUR = "#1f6fb2", "#2e8540"


def weekly_chart_svg(weeks: list[tuple[str, int, int]], width: int = 640, height: int = 220) -> Markup:
    """Grouped bars per week: reports in (blue) and out (green), with the week labels and a y scale."""
    left, right, top, bottom = 36, 8, 24, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1] + [max(i, o) for _w, i, o in weeks])
    step = _nice_step(peak)
    scale_max = step * -(-peak // step)
    group = plot_w / max(1, len(weeks))
    bar = max(2.0, group * 0.35)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-labelledby="chart-title">',
        '<title id="chart-title">Meldingen per week: binnengekomen en afgehandeld</title>',
        f'<g font-size="11" font-family="system-ui, sans-serif" fill="#333">',
        f'<rect x="{left}" y="4" width="10" height="10" fill="{IN_COLOUR}"/>'
        f'<text x="{left + 14}" y="13">binnen</text>',
        f'<rect x="{left + 70}" y="4" width="10" height="10" fill="{OUT_COLOUR}"/>'
        f'<text x="{left + 84}" y="13">afgehandeld</text>',
    ]
    for tick in range(0, scale_max + 1, step):
        y = top + plot_h - plot_h * tick / scale_max
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for index, (label, count_in, count_out) in enumerate(weeks):
        x = left + index * group + (group - 2 * bar) / 2
        for offset, value, colour, word in ((0, count_in, IN_COLOUR, "binnen"), (bar, count_out, OUT_COLOUR,
                                                                                     "afgehandeld")):
            h = plot_h * value / scale_max
            parts.append(f'<rect x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: {value} {word}</title></rect>')
        parts.append(f'<text x="{left + index * group + group / 2:.1f}" y="{height - bottom + 14}" '
                     f'text-anchor="middle">{escape(label[-3:])}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    parts.append("</g></svg>")
    return Markup("".join(parts))


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if peak / step <= 5:
            return step
    return max(1, peak // 5)
