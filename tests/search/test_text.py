"""Folding and query parsing, without a database: the corpus cases, notations, stop words, snippets."""

from __future__ import annotations

import csv
import json
import unicodedata

from search.text import STOP_WORDS, fold, highlight, index_text, keywords, notation_key, parse_query


def _corpus_stop_words(corpora) -> set[str]:
    words: set[str] = set()
    for name in ("underthesea-stopwords.txt", "vietnamese-stopwords.txt"):
        path = corpora / "vietnamese" / "stopwords" / name
        words |= {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    return words


def test_every_stop_word_is_in_the_corpus_lists(corpora):
    assert STOP_WORDS <= _corpus_stop_words(corpora)
    # Words that carry meaning in an administrative search are not dropped.
    assert not {"số", "năm", "quyết", "định", "ubnd"} & STOP_WORDS


def test_underthesea_normalisation_cases_fold_to_the_same_words(corpora):
    path = corpora / "vietnamese" / "segmentation" / "underthesea-test-cases.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        cases = [(row["input"], json.loads(row["expected"])) for row in csv.DictReader(handle, delimiter="\t")
                 if row["function"] == "underthesea.text_normalize"]
    assert cases
    for given, expected in cases:
        assert index_text(given) == index_text(expected), given
        assert index_text(unicodedata.normalize("NFD", expected)) == index_text(expected)


def test_folding_drops_marks_keeps_length_and_folds_d():
    assert index_text("Quyết định điều động") == "quyet dinh dieu dong"
    assert index_text("ĐẢNG ỦY Ðảm bảo") == "dang uy dam bao"  # Đ (U+0110) and Ð (U+00D0)
    text = "Lượng mưa, THUỶ lợi; hoá học"
    assert len(fold(text)) == len(text)


def test_notations_are_found_with_or_without_diacritics():
    for typed in ("12/QĐ-UBND", "12/QD-UBND", "12/qđ-ubnd", "số 12/QĐ-UBND về"):
        assert parse_query(typed).notations == ["12/qd-ubnd"], typed
    assert notation_key("05/2024/TT-BNV") == "05/2024/tt-bnv"
    assert parse_query("05/2024/TT-BNV").notations == ["05/2024/tt-bnv"]
    # A date is not a notation.
    assert parse_query("ngày 01/02/2024").notations == []


def test_query_terms_phrases_and_stop_words():
    query = parse_query('Quyết định "điều động cán bộ" của UBND')
    assert [term.exact for term in query.terms] == [("điều", "động", "cán", "bộ"), ("quyết",), ("định",), ("ubnd",)]
    assert query.terms[0].phrase and query.has_marks
    assert [term.folded for term in query.terms][0] == ("dieu", "dong", "can", "bo")
    assert not parse_query("quyet dinh").has_marks
    # Only stop words: they are kept rather than searching for nothing.
    assert [term.exact for term in parse_query("của và").terms] == [("của",), ("và",)]
    assert len(parse_query(" ".join(f"w{i}" for i in range(100))).terms) == 12


def test_highlight_marks_the_words_in_decomposed_text():
    text = unicodedata.normalize("NFD", "Ủy ban nhân dân tỉnh ban hành Quyết định điều động công chức.")
    segments = highlight(text, [("quyet",), ("dinh",)])
    marked = [segment.text for segment in segments if segment.match]
    assert marked == ["Quyết", "định"]
    assert "".join(segment.text for segment in segments).startswith("Ủy ban")
    assert highlight("không có gì", [("quyet",)]) == []
    # A phrase is marked only where its words stand together.
    phrase = highlight("Số 5. Nghị định số 30 của Chính phủ", parse_query('"nghị định số 30"').highlight_phrases())
    assert [segment.text for segment in phrase if segment.match] == ["Nghị", "định", "số", "30"]


def test_keywords_of_a_subject():
    assert keywords("Về việc điều động cán bộ năm 2026 và của") == ["điều", "động", "cán", "bộ", "năm"]
