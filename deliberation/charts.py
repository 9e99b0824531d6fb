"""Small server-side SVG charts (the concerns dashboard, council results): no JavaScript, readable by screen readers."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

BAR_HEIGHT = 22
LABEL_WIDTH = 170
BAR_WIDTH = 320
COLOUR = "#1d5d90"


def bar_chart(
    items: list[tuple[str, int]] | list[tuple[str, int, str]],
    *,
    title: str,
    label_width: int = LABEL_WIDTH,
    bar_width: int = BAR_WIDTH,
    row: int = BAR_HEIGHT,
    font_size: int = 13,
    css_class: str = "",
) -> SafeString:
    """Horizontal bars with their values (an item may carry its own colour); the <title> and aria-label name
    the chart, each bar says its value. Without `css_class` the chart scales to its container by itself."""
    top = max((item[1] for item in items), default=0) or 1
    height = row * max(len(items), 1) + 8
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="0" y="{}" font-size="{}">{}</text>'
        '<rect x="{}" y="3" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}" font-size="{}">{}</text></g>',
        (
            (
                index * row + 4,
                row - 7,
                font_size,
                item[0],
                label_width,
                round(bar_width * item[1] / top),
                row - 6,
                item[2] if len(item) > 2 else COLOUR,
                item[0],
                item[1],
                label_width + round(bar_width * item[1] / top) + 6,
                row - 7,
                font_size,
                item[1],
            )
            for index, item in enumerate(items)
        ),
    )
    width = label_width + bar_width + 50
    sizing = (
        format_html('class="{}"', css_class) if css_class else format_html('style="width:100%;max-width:{}px;height:auto"', width)
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" {} viewBox="0 0 {} {}"><title>{}</title>{}</svg>',
        title,
        sizing,
        width,
        height,
        title,
        bars,
    )


def result_chart(result) -> SafeString:
    """A council vote's result for phones: three bars (in favour, against, abstain), narrow and legible at 360 px."""
    from .models import Choice

    title = _("In favour %(yes)s, against %(no)s, abstain %(abstain)s") % {
        "yes": result.yes,
        "no": result.no,
        "abstain": result.abstain,
    }
    bars = [
        (Choice.YES.label, result.yes, "#1b5e20"),
        (Choice.NO.label, result.no, "#8a1c1c"),
        (Choice.ABSTAIN.label, result.abstain, "#555"),
    ]
    return bar_chart(bars, title=title, label_width=80, bar_width=170, row=30, font_size=15, css_class="result-svg")
