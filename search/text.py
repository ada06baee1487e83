"""Words for the index and the query: Vietnamese-normalised (documents.text), then folded to plain letters.

Two forms of every word are kept. The **exact** form is `normalize_vietnamese` (NFC, Đ/Ð, tone placement,
lower case); the **folded** form drops the marks as well ("quyết định" → "quyet dinh", "Đ" → "d"), so a query
typed without diacritics finds the document, while an exact query ranks exact matches first.

`fold` keeps one character for one character, so a match found in folded text is at the same place in the
text shown to the reader: snippets are highlighted without a second search.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from documents.text import normalize_vietnamese

_WORD = re.compile(r"\w+", re.UNICODE)
# A number and notation as printed: 12/QĐ-UBND, 05/2024/TT-BNV, 123/UBND-VP (number first, then a slash).
NOTATION = re.compile(r"\b\d{1,7}(?:/\d{4})?/[^\W\d_][\w.\-]*(?:/[\w.\-]+)*", re.UNICODE)
_QUOTED = re.compile(r'"([^"]+)"')

# Function words left out of a query (never out of the index, so that a quoted phrase still matches them).
# Each one is in the stop-word lists of ../shared/corpora/vietnamese/stopwords (tests/search check it); the
# list is short on purpose: words such as "số" (number) or "năm" (year) carry meaning in an administrative
# search and are kept.
STOP_WORDS = frozenset(
    """và của các những được là có cho với trong theo về để này đã sẽ thì mà ở từ tại một khi rằng
    như còn lại vẫn đều nhiều rất cũng do bởi nên nếu vì đó ấy hay hoặc""".split()
)


def fold_char(char: str) -> str:
    """One character without its marks, lower-cased, always one character long."""
    if char in "đĐ":
        return "d"
    lowered = char.lower()
    if len(lowered) != 1:
        lowered = char
    if lowered.isascii():
        return lowered
    base = unicodedata.normalize("NFD", lowered)[0]
    return base if len(base) == 1 else lowered


@lru_cache(maxsize=4096)
def _fold_word(word: str) -> str:
    return "".join(fold_char(char) for char in word)


def fold(text: str) -> str:
    """`text` without diacritics, lower-cased, the same length (see the module docstring)."""
    return "".join(fold_char(char) for char in text)


def display_text(text: str) -> str:
    """The text a snippet is cut from: normalised like the index (NFC, tones), case kept."""
    return normalize_vietnamese(text, lower=False)


def exact_words(text: str) -> list[str]:
    """The words of `text` in their exact (normalised, lower-case) form."""
    return _WORD.findall(normalize_vietnamese(text))


def folded_words(text: str) -> list[str]:
    return [_fold_word(word) for word in exact_words(text)]


def index_text(text: str) -> str:
    """`text` as the folded words the index stores, separated by spaces."""
    return " ".join(folded_words(text))


def exact_index_text(text: str) -> str:
    return " ".join(exact_words(text))


def notation_key(text: str) -> str:
    """The comparable form of a number and notation: folded, no spaces ("12/QĐ-UBND" → "12/qd-ubnd")."""
    return fold(normalize_vietnamese(text)).replace(" ", "")


def has_marks(word: str) -> bool:
    return _fold_word(word) != word


@dataclass
class Term:
    """One thing the query asks for: a word, or a quoted phrase (several words in that order)."""

    exact: tuple[str, ...]
    phrase: bool = False

    @property
    def folded(self) -> tuple[str, ...]:
        return tuple(_fold_word(word) for word in self.exact)


@dataclass
class ParsedQuery:
    """What a search box's text asks for. Every term must match (AND), in any field."""

    terms: list[Term] = field(default_factory=list)
    notations: list[str] = field(default_factory=list)  # notation keys
    raw: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.notations

    @property
    def has_marks(self) -> bool:
        """Whether the person typed diacritics: then exact matches rank first."""
        return any(has_marks(word) for term in self.terms for word in term.exact)

    def highlight_phrases(self) -> list[tuple[str, ...]]:
        """The folded word sequences a snippet highlights: each term (a phrase only where its words stand
        together) and the words of each notation in order."""
        phrases = [term.folded for term in self.terms]
        phrases += [tuple(_WORD.findall(key)) for key in self.notations]
        return [phrase for phrase in phrases if phrase]


def parse_query(text: str, *, max_terms: int = 12) -> ParsedQuery:
    """Quoted phrases, notations, and the other words less the stop words (kept when they are all there
    is). At most `max_terms` terms, so a pasted page cannot make an unbounded query."""
    text = normalize_vietnamese((text or "")[:500], lower=False)
    query = ParsedQuery(raw=text)
    for match in NOTATION.finditer(text.replace('"', " ")):
        query.notations.append(notation_key(match.group(0)))
    rest = NOTATION.sub(" ", text)
    for phrase in _QUOTED.findall(rest):
        words = tuple(exact_words(phrase))
        if len(words) > 1:
            query.terms.append(Term(words, phrase=True))
        elif words:
            query.terms.append(Term(words))
    rest = _QUOTED.sub(" ", rest)
    words = exact_words(rest)
    kept = [word for word in words if word not in STOP_WORDS] or words
    seen: set[str] = set()
    for word in kept:
        if word not in seen:
            seen.add(word)
            query.terms.append(Term((word,)))
    del query.terms[max_terms:]
    del query.notations[4:]
    return query


# Words of every subject's boilerplate ("V/v ...", "Về việc ..."), which make no two documents alike.
_SUBJECT_BOILERPLATE = frozenset({"việc", "v"})


def keywords(text: str, limit: int = 8) -> list[str]:
    """The content words of a subject, for "documents like this one": no stop words, no numbers, in order."""
    seen: list[str] = []
    for word in exact_words(text):
        if word in STOP_WORDS or word in _SUBJECT_BOILERPLATE or word.isdigit() or len(word) < 2 or word in seen:
            continue
        seen.append(word)
    return seen[:limit]


@dataclass
class Segment:
    text: str
    match: bool = False


def highlight(text: str, phrases: list[tuple[str, ...]], *, width: int = 220, whole: bool = False) -> list[Segment]:
    """A window of `text` around the first place where a searched word or phrase stands, cut into plain and
    matching segments (rendered with <mark> by the template, escaped: nothing of the file's text is trusted).
    Empty when nothing matches, unless `whole` (then the start of the text)."""
    shown = display_text(text)
    folded = fold(shown)
    words = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(folded)] if phrases else []
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        by_first.setdefault(phrase[0], []).append(phrase)
    spans: list[tuple[int, int]] = []
    for index, (word, _start, _end) in enumerate(words):
        for phrase in by_first.get(word, ()):
            if tuple(w for w, _s, _e in words[index:index + len(phrase)]) == phrase:
                spans.extend((s, e) for _w, s, e in words[index:index + len(phrase)])
    spans = sorted(set(spans))
    if not spans:
        return [Segment(shown[:width] + ("…" if len(shown) > width else ""))] if whole and shown else []
    if whole or len(shown) <= width:
        start, end = 0, len(shown)
    else:
        first = spans[0][0]
        start = max(0, first - width // 3)
        while start > 0 and not shown[start - 1].isspace():
            start -= 1
        end = min(len(shown), start + width)
        while end < len(shown) and not shown[end].isspace():
            end += 1
    segments: list[Segment] = [Segment("…")] if start > 0 else []
    cursor = start
    for span_start, span_end in spans:
        if span_start < cursor or span_end > end:
            continue
        if span_start > cursor:
            segments.append(Segment(shown[cursor:span_start]))
        segments.append(Segment(shown[span_start:span_end], match=True))
        cursor = span_end
    if cursor < end:
        segments.append(Segment(shown[cursor:end]))
    if end < len(shown):
        segments.append(Segment("…"))
    return segments
