"""Chinese-aware similarity of letters and topics: character bigrams, not words between spaces.

Chinese has no spaces, so "小区停车难" is one "word" to a whitespace tokenizer. Its
character bigrams (小区 区停 停车 车难) match "停车位不够" on 停车. Latin words are
kept whole, lower-cased. Scores are the Dice coefficient of the two bigram sets.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_HAN}]+|[a-z0-9]+")
_HAN_RUN = re.compile(rf"[{_HAN}]")
# Too common in letters to say anything about what they are about.
_STOP = frozenset(
    {
        "我们",
        "你们",
        "他们",
        "小区",
        "社区",
        "居民",
        "问题",
        "希望",
        "请问",
        "谢谢",
        "一下",
        "the",
        "and",
        "our",
        "for",
        "is",
        "are",
        "to",
        "of",
        "in",
        "a",
    }
)


def shingles(text: str) -> set[str]:
    """The character bigrams of Chinese runs and the words of Latin runs."""
    text = unicodedata.normalize("NFKC", text).lower()
    grams: set[str] = set()
    for run in _RUNS.findall(text):
        if _HAN_RUN.match(run):
            if len(run) == 1:
                grams.add(run)
            grams.update(run[i : i + 2] for i in range(len(run) - 1))
        elif len(run) > 1:
            grams.add(run)
    return grams - _STOP


def encode(grams: Iterable[str]) -> str:
    return " ".join(sorted(grams))


def decode(stored: str) -> frozenset[str]:
    return frozenset(stored.split())


def score(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def best(
    query: set[str], candidates: Iterable[tuple[object, str]], *, limit: int = 5, minimum: float = 0.1
) -> list[tuple[object, float]]:
    """The `limit` candidates (object, stored shingles) most similar to `query`, best first."""
    if not query:
        return []
    size = len(query)
    scored = []
    for item, stored in candidates:
        other = stored.split()
        if not other:
            continue
        common = len(query.intersection(other))
        if common:
            value = 2 * common / (size + len(other))
            if value >= minimum:
                scored.append((value, item))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return [(item, round(value, 3)) for value, item in scored[:limit]]
