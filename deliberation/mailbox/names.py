"""Finding a writer's name in public text, in Chinese characters or in pinyin.

"王秀英" is also written "Wang Xiuying", "wáng xiùyīng", "WangXiuying", "wang xiu ying" or, in Western
order, "Xiuying Wang". Text and names are compared as runs of whole words with tone marks, case, spaces,
hyphens and apostrophes ignored: "Li Na" is found in "Li Na says" but not in "Carolina".
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from pypinyin import Style, pinyin

_HAN = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[^\W\d_]+")
_MOST_READINGS = 16  # a name whose characters have many readings: check the first 16 combinations


def _plain(text: str) -> str:
    """Lower case, without tone marks (ǘ → u)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _latin_words(text: str) -> list[str]:
    return [word for word in _WORD.findall(_plain(text)) if not _HAN.search(word)]


def spellings(name: str) -> set[str]:
    """The name's pinyin spellings as one plain word each, in Chinese and in Western order."""
    name = "".join(_HAN.findall(name))
    if len(name) < 2:
        return set()
    readings = pinyin(name, style=Style.NORMAL, heteronym=True, v_to_u=True)
    found = set()
    for syllables in itertools.islice(itertools.product(*readings), _MOST_READINGS):
        plain = [_plain(syllable) for syllable in syllables]
        found.add("".join(plain))
        found.add("".join(plain[1:] + plain[:1]))  # given name first, as English text often has it
    return found


def names_in(text: str, names: set[str]) -> list[str]:
    """The words of `text` that spell one of `names` (of at least two letters), as the text writes them."""
    tokens = list(_WORD.finditer(text))
    runs = {}
    for start in range(len(tokens)):
        for end in range(start + 1, min(start + 4, len(tokens)) + 1):
            words = [_plain(token.group()) for token in tokens[start:end]]
            if not any(_HAN.search(word) for word in words):
                runs.setdefault("".join(words), text[tokens[start].start() : tokens[end - 1].end()])
    found: list[str] = []
    for name in sorted(names):
        name = name.strip()
        if len(name) < 2:
            continue
        if name in text:
            found.append(name)
            continue
        latin = "".join(_latin_words(name))
        targets = spellings(name) | ({latin} if len(latin) >= 2 else set())
        found.extend(runs[target] for target in sorted(targets) if target in runs)
    return list(dict.fromkeys(found))
