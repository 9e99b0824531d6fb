"""Chinese-aware similarity of letters and topics: character bigrams, not words between spaces.

Chinese has no spaces, so "小区停车难" is one "word" to a whitespace tokenizer. Its
character bigrams (小区 区停 停车 车难) match "停车位不够" on 停车. Latin words are
kept whole, lower-cased. Scores are the Dice coefficient of the two bigram sets.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from array import array
from collections import Counter
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


class LetterIndex:
    """An in-memory inverted index of one community's letters: bigram → letter ids.

    A letter's text never changes after it is received, so the index only grows: each
    query first reads the letters newer than the last one indexed (one cheap query),
    then scores by walking the postings of the query's bigrams instead of comparing
    against every letter. Each process keeps its own copy.
    """

    def __init__(self) -> None:
        self.postings: dict[str, array] = {}
        self.sizes: dict[int, int] = {}
        self.last_pk = 0
        self.lock = threading.Lock()

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        for pk, stored in rows:
            grams = stored.split()
            self.sizes[pk] = len(grams)
            for gram in grams:
                posting = self.postings.get(gram)
                if posting is None:
                    posting = self.postings[gram] = array("Q")
                posting.append(pk)
            self.last_pk = max(self.last_pk, pk)

    def best(
        self, query: set[str], *, exclude: int | None = None, limit: int = 5, minimum: float = 0.1
    ) -> list[tuple[int, float]]:
        common: Counter[int] = Counter()
        for gram in query:
            posting = self.postings.get(gram)
            if posting is not None:
                common.update(posting)
        common.pop(exclude, None)
        size = len(query)
        scored = [(2 * shared / (size + self.sizes[pk]), pk) for pk, shared in common.items()]
        scored = [pair for pair in scored if pair[0] >= minimum]
        scored.sort(key=lambda pair: (-pair[0], -pair[1]))
        return [(pk, round(value, 3)) for value, pk in scored[:limit]]


_indexes: dict[object, LetterIndex] = {}
_indexes_lock = threading.Lock()


def letter_index(key: object) -> LetterIndex:
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None:
            index = _indexes[key] = LetterIndex()
        return index


def forget_indexes() -> None:
    """Drop every in-memory index (tests, and after a database is emptied)."""
    with _indexes_lock:
        _indexes.clear()
