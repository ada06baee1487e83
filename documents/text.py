"""Vietnamese text normalisation for indexing and searching.

Folds what looks the same to a reader but differs in code points: NFC vs NFD, Icelandic Ð (U+00D0)
vs Vietnamese Đ (U+0110), and tone marks placed in the old or new style or on the wrong vowel
("hoá"/"hóa", "thuỷ"/"thủy", "lựơng"/"lượng"). Every syllable gets its tone on the vowel the
traditional rule names, so a search typed any of these ways finds the document.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
_VOWELS = set("aăâeêioôơuưy")
_SHAPED_VOWELS = set("ăâêôơư")  # vowels carrying a shape mark take the tone
_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)  # a language has a few thousand syllables: indexing a file re-meets the same ones
def _place_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [ch for ch in decomposed if ch in _TONE_MARKS]
    if not tones:
        return syllable
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    lower = base.lower()
    # Find the vowel nucleus; "qu" and "gi" (before another vowel) are consonants.
    start = 0
    while start < len(lower) and lower[start] not in _VOWELS:
        start += 1
    if start < len(lower) and lower[start] == "u" and start > 0 and lower[start - 1] == "q":
        start += 1
    elif (
        start < len(lower) - 1 and lower[start] == "i" and start > 0 and lower[start - 1] == "g"
        and lower[start + 1] in _VOWELS
    ):
        start += 1
    end = start
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    nucleus = range(start, end)
    if not nucleus:
        return syllable
    shaped = [i for i in nucleus if lower[i] in _SHAPED_VOWELS]
    if shaped:
        target = shaped[-1]
    elif end < len(lower):  # closed syllable: tone on the last vowel (hoàng, toán)
        target = end - 1
    elif len(nucleus) == 3:  # open triphthong: the middle vowel (ngoài, khuỷu)
        target = start + 1
    else:  # open: the first vowel (hóa, thủy, của, mía)
        target = start
    tone = tones[0]
    return unicodedata.normalize("NFC", base[: target + 1] + tone + base[target + 1 :])


def normalize_vietnamese(text: str, *, lower: bool = True) -> str:
    """Fold text to one comparable form (see module docstring); lower-cased unless asked not to."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    if lower:
        text = text.lower()
    text = _WORD.sub(lambda match: _place_tone(match.group(0)), text)
    return _SPACES.sub(" ", text).strip()
