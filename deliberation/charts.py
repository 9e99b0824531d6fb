"""Small server-side SVG charts for the concerns dashboard: no JavaScript, readable by screen readers."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_HEIGHT = 22
LABEL_WIDTH = 170
BAR_WIDTH = 320


def bar_chart(items: list[tuple[str, int]], *, title: str) -> SafeString:
    """Horizontal bars with their values; the <title> and aria-label name the chart, each bar says its value."""
    top = max((value for _label, value in items), default=0) or 1
    height = BAR_HEIGHT * max(len(items), 1) + 8
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="0" y="15" font-size="13">{}</text>'
        '<rect x="{}" y="3" width="{}" height="16" fill="#1d5d90"><title>{}: {}</title></rect>'
        '<text x="{}" y="15" font-size="13">{}</text></g>',
        (
            (
                index * BAR_HEIGHT + 4,
                label,
                LABEL_WIDTH,
                round(BAR_WIDTH * value / top),
                label,
                value,
                LABEL_WIDTH + round(BAR_WIDTH * value / top) + 6,
                value,
            )
            for index, (label, value) in enumerate(items)
        ),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" style="width:100%;max-width:{}px;height:auto" viewBox="0 0 {} {}"><title>{}</title>{}</svg>',
        title,
        LABEL_WIDTH + BAR_WIDTH + 50,
        LABEL_WIDTH + BAR_WIDTH + 50,
        height,
        title,
        bars,
    )
