"""Small server-side SVG charts for dashboards and results: no JavaScript, readable by screen readers."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

COLOUR = "#1d5d90"


def bar_chart(
    items: list[tuple[str, int]] | list[tuple[str, int, str]],
    *,
    title: str,
    desc: str = "",
    key: str = "",
    colour: str = COLOUR,
    label_width: int = 170,
    bar_width: int = 320,
    row: int = 22,
    font_size: int = 13,
    label_chars: int = 0,
    css_class: str = "",
) -> SafeString:
    """Horizontal bars, one per (label, value) or (label, value, colour), each saying its value.

    The chart is named by its <title> and aria-label, or, with `key` and `desc`, by a titled and
    described pair of ids (a table beside the chart can then be its text alternative). Labels longer
    than `label_chars` are shortened with an ellipsis; each bar's own <title> keeps the whole label.
    Without `css_class` the chart scales to its container by itself.
    """
    top = max((item[1] for item in items), default=0) or 1
    height = row * max(len(items), 1) + 8

    def shown(label: str) -> str:
        return label[: label_chars - 1] + "…" if label_chars and len(label) > label_chars else label

    def length(value: int) -> int:
        return round(bar_width * max(value, 0) / top)

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
                shown(item[0]),
                label_width,
                length(item[1]),
                row - 6,
                item[2] if len(item) > 2 else colour,
                item[0],
                item[1],
                label_width + length(item[1]) + 6,
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
    if key and desc:
        naming = format_html('aria-labelledby="{}-title {}-desc"', key, key)
        heading = format_html('<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>', key, title, key, desc)
    else:
        naming = format_html('aria-label="{}"', title)
        heading = format_html("<title>{}</title>", title)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" {} {} viewBox="0 0 {} {}">{}{}</svg>',
        naming,
        sizing,
        width,
        height,
        heading,
        bars,
    )
