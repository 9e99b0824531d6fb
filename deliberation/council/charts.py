"""Council results as a chart for phones (the dashboards draw theirs with `plumbing.charts.bar_chart` directly)."""

from __future__ import annotations

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from plumbing.charts import bar_chart


def result_chart(result) -> SafeString:
    """A council vote's result for phones: three bars (in favour, against, abstain), narrow and legible at 360 px."""
    from deliberation.council.models import Choice

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
