"""Vietnamese normalisation: the underthesea reference case, the NFD text of the official Decree 30
DOCX, and the foldings a search must see through (old/new tone placement, Icelandic Ð)."""

from __future__ import annotations

import csv
import json
import unicodedata
import zipfile

import pytest

from documents import extraction, uploads
from documents.text import normalize_vietnamese

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DECREE = "vietnamese/legal/nd-30-2020-ND-CP.docx"


def _underthesea_cases(corpora) -> list[tuple[str, str]]:
    path = corpora / "vietnamese" / "segmentation" / "underthesea-test-cases.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["function"] == "underthesea.text_normalize"]
    # `expected` is JSON (a quoted string) in that file.
    return [(row["input"], json.loads(row["expected"])) for row in rows]


def test_underthesea_text_normalize_cases(corpora):
    cases = _underthesea_cases(corpora)
    assert len(cases) >= 2, "the reference file lost its text_normalize rows"
    for given, expected in cases:
        assert normalize_vietnamese(given, lower=False) == expected, given


def test_underthesea_case_also_matches_lowercased():
    given = "Ðảm baỏ chất lựơng phòng thí nghịêm hoá học"
    assert normalize_vietnamese(given) == "đảm bảo chất lượng phòng thí nghiệm hóa học"


def _decree_paragraphs(corpora) -> list[str]:
    from defusedxml import ElementTree

    with zipfile.ZipFile(corpora / DECREE) as archive:
        root = ElementTree.fromstring(archive.read("word/document.xml"), forbid_dtd=True)
    return ["".join(node.text or "" for node in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]


def test_decree_docx_nfd_paragraph_normalises_to_nfc(corpora):
    paragraphs = _decree_paragraphs(corpora)
    decomposed = [p for p in paragraphs if unicodedata.normalize("NFC", p) != p]
    # The official file mixes NFC and NFD: exactly the case normalisation exists for.
    assert decomposed, "expected at least one NFD paragraph in the official decree"
    raw = decomposed[0]
    assert "chính xác" not in raw  # the NFC phrase does not match the raw text ...
    normalised = normalize_vietnamese(raw)
    assert normalised == unicodedata.normalize("NFC", normalised)
    for phrase in ("liên kết chính xác dữ liệu đặc tả với hồ sơ", "chính xác", "với hồ sơ"):
        assert normalize_vietnamese(phrase) in normalised  # ... the normalised one does


def test_decree_docx_extraction_then_normalisation_finds_phrases(corpora):
    content = (corpora / DECREE).read_bytes()
    result = extraction.extract(content, uploads.DOCX)
    assert result.error == ""
    text = normalize_vietnamese(result.text)
    for phrase in ("Số: 30/2020/NĐ-CP", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "văn bản điện tử",
                   "thiết bị lưu khóa bí mật", "chữ ký số", "liên kết chính xác dữ liệu đặc tả"):
        assert normalize_vietnamese(phrase) in text, phrase
    assert text.count(normalize_vietnamese("văn bản điện tử")) >= 30


@pytest.mark.parametrize(
    ("old_style", "new_style"),
    [
        ("hoá", "hóa"),
        ("thuỷ", "thủy"),
        ("Hoà Bình", "Hòa Bình"),
        ("uỷ ban", "ủy ban"),
        ("khoẻ", "khỏe"),
        ("luỹ kế", "lũy kế"),
    ],
)
def test_old_and_new_tone_placement_fold_together(old_style, new_style):
    assert normalize_vietnamese(old_style) == normalize_vietnamese(new_style)


@pytest.mark.parametrize("word", ["quý", "giữa", "khuỷu", "ngoài", "hoàng", "toán", "người", "thuở"])
def test_correctly_placed_tones_are_left_alone(word):
    assert normalize_vietnamese(word) == word


def test_icelandic_eth_folds_to_vietnamese_d_with_stroke():
    assert normalize_vietnamese("\u00d0à Nẵng", lower=False) == "\u0110à Nẵng"
    assert normalize_vietnamese("\u00f0ồng", lower=False) == "\u0111ồng"
    assert normalize_vietnamese("ÐIỀU 1") == normalize_vietnamese("Điều 1") == "điều 1"


def test_nfd_input_and_spaces():
    nfd = unicodedata.normalize("NFD", "Quyết  định\tsố 01")
    assert nfd != "Quyết định số 01"
    assert normalize_vietnamese(nfd, lower=False) == "Quyết định số 01"
    assert normalize_vietnamese("") == ""
