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
    if char in "đĐðÐ":
        return "d"
    lowered = char.lower()
    if len(lowered) != 1:
        lowered = char
    if lowered.isascii():
        return lowered
    base = unicodedata.normalize("NFD", lowered)[0]
    return base if len(base) == 1 else lowered


# Latin letters with marks (Latin-1, Extended-A/B, Extended Additional: all of Vietnamese) and A-Z, folded once;
# `fold` is then one str.translate, which runs in C (5x faster than a Python loop over the characters).
_FOLD_TABLE = {
    code: fold_char(chr(code))
    for code in (*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00))
    if fold_char(chr(code)) != chr(code)
}


@lru_cache(maxsize=4096)
def _fold_word(word: str) -> str:
    return word.translate(_FOLD_TABLE)


def fold(text: str) -> str:
    """`text` without diacritics, lower-cased, the same length for NFC text (see the module docstring)."""
    return text.translate(_FOLD_TABLE)


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
    Empty when nothing matches, unless `whole` (then the start of the text).

    The match is found on the folded NFC text (one character for one), so only the window shown is put
    through the tone-placement normalisation (per segment): a file of 200 pages costs a C-level fold and
    a regular-expression search, not a Python pass over every word."""
    shown = unicodedata.normalize("NFC", text or "")
    if not shown:
        return []
    spans = _spans(fold(shown), phrases) if phrases else []
    if not spans:
        return [Segment(display_text(shown[:width]) + ("…" if len(shown) > width else ""))] if whole else []
    if whole or len(shown) <= width:
        start, end = 0, len(shown)
    else:
        first = spans[0][0]
        start = max(0, first - width // 3)
        while start > 0 and not shown[start - 1].isspace() and first - start < width // 2:
            start -= 1
        end = min(len(shown), start + width)
        while end < len(shown) and not shown[end].isspace() and end - start < width + 40:
            end += 1
    segments: list[Segment] = [Segment("…")] if start > 0 else []
    cursor = start
    for span_start, span_end in spans:
        if span_start < cursor or span_end > end:
            continue
        if span_start > cursor:
            segments.append(Segment(_shown(shown[cursor:span_start])))
        segments.append(Segment(_shown(shown[span_start:span_end]), match=True))
        cursor = span_end
    if cursor < end:
        segments.append(Segment(_shown(shown[cursor:end])))
    if end < len(shown):
        segments.append(Segment("…"))
    return segments


def _shown(part: str) -> str:
    """A piece of a snippet as shown: tones placed, runs of white space made one space (kept at the edges)."""
    inner = display_text(part)
    if not inner:
        return " " if part else ""
    return (" " if part[0].isspace() else "") + inner + (" " if part[-1].isspace() else "")


@lru_cache(maxsize=256)
def _phrase_pattern(phrases: tuple[tuple[str, ...], ...]) -> re.Pattern:
    alternatives = sorted({r"[\W_]+".join(re.escape(word) for word in phrase) for phrase in phrases}, key=len,
                          reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def _spans(folded: str, phrases: list[tuple[str, ...]], limit: int = 200) -> list[tuple[int, int]]:
    """Where the words of each phrase stand in `folded` (a span per word), the first `limit` places."""
    spans: list[tuple[int, int]] = []
    for count, match in enumerate(_phrase_pattern(tuple(phrases)).finditer(folded)):
        if count >= limit:
            break
        spans.extend((word.start() + match.start(), word.end() + match.start())
                     for word in _WORD.finditer(match.group(0)))
    return sorted(set(spans))
