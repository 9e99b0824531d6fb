"""Chinese text addresses residents as 您, uses full-width punctuation around labels and remarks, and counts
are phrased with plurals; times keep their range together (issue 15, items 15 and 27)."""

import datetime
import re
from pathlib import Path

import polib
import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.translation import ngettext

from home.i18n import catalogue_files

REPO = Path(__file__).resolve().parents[1]


def test_chinese_text_says_nin_not_ni():
    informal = []
    for path in catalogue_files():
        for entry in polib.pofile(str(path)):
            for text in [entry.msgstr, *entry.msgstr_plural.values()]:
                if re.search(r"你(?!们)", text):
                    informal.append(f"{path.parent.parent.parent.parent.name}: {text}")
    demo = "".join(path.read_text() for path in sorted((REPO / "demo").glob("*.py")))
    informal += [line.strip() for line in demo.splitlines() if re.search(r"你(?!们)", line)]
    assert informal == []


def test_no_chinese_translation_uses_half_width_brackets_or_colons_next_to_chinese():
    cjk = r"[\u4e00-\u9fff]"
    wrong = []
    for path in catalogue_files():
        for entry in polib.pofile(str(path)):
            for text in [entry.msgstr, *entry.msgstr_plural.values()]:
                bare = re.sub(r"%\(\w+\)[sd]|https?://\S+|\d+:\d+|random\.Random\(种子\)", "", text)
                if re.search(rf"{cjk}\s?[(:]|[)]\s?{cjk}|{cjk}\)", bare):
                    wrong.append(text)
    assert wrong == []


TEMPLATE = Template(
    '{% load i18n portal_tags %}{% translate "Topic" %}{% colon %}X{% parens "Mon" %}|{% time_range starts ends %}'
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            '议题：X（Mon）|<time datetime="2026-12-07T14:30:00+08:00">2026-12-07（星期一）</time>'
            '<span class="time-range">14:30–16:00</span>',
        ),
        (
            "en",
            'Topic: X (Mon)|<time datetime="2026-12-07T14:30:00+08:00">2026-12-07 (Mon)</time> '
            '<span class="time-range">14:30–16:00</span>',
        ),
    ],
)
def test_labels_remarks_and_time_ranges_in_each_language(language, expected):
    starts = timezone.make_aware(datetime.datetime(2026, 12, 7, 14, 30))
    with translation.override(language):
        rendered = TEMPLATE.render(Context({"starts": starts, "ends": starts + datetime.timedelta(minutes=90)}))
    assert rendered == expected


def test_time_ranges_never_wrap_inside(settings):
    css = (REPO / "site" / "static" / "css" / "linli.css").read_text()
    assert re.search(r"\.time-range\s*\{[^}]*white-space:\s*nowrap", css)


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [("en", "1 session added.", "2 sessions added."), ("zh-hans", "已添加 1 个场次。", "已添加 2 个场次。")],
)
def test_counts_use_plurals(language, one, two):
    with translation.override(language):
        said = [ngettext("%(count)s session added.", "%(count)s sessions added.", n) % {"count": n} for n in (1, 2)]
    assert said == [one, two]
