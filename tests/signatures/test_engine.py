"""The signing engine: a leader's signature, the clerk's number/date + seal, attachment stamps, B-B/B-T/B-LT.

Every signed file is checked the way a recipient would check it: pyHanko's validator (integrity, trust,
coverage, what changed after each signature) and, for the issued document, poppler's `pdfsig` with the demo
root in an NSS database. Keys come from the demo PKI and sit in `StoredKeyHolder`s, like in the signing tasks.
"""

from __future__ import annotations

import io
import os
import subprocess
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from cryptography.hazmat.primitives.asymmetric import ec
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont
from reportlab.pdfgen.canvas import Canvas

from signatures import asn1, engine
from signatures.engine import Box, SigningEngineError, StampFont
from signatures.keys import StoredKeyHolder, encrypt_key_for
from signatures.pki import DemoPki, Identity, build_demo_pki
from signatures.signers import SigningUnavailable
from tests.signatures import poppler

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)
"""The PKI, the signing times and the validation moment are all pinned to this instant of the test run
(pdfsig validates at the wall clock, so the certificates must be valid today)."""
VALIDATION_MOMENT = NOW + timedelta(minutes=5)
SIGNING_TIME = NOW.astimezone(engine.VIETNAM_TZ)

PROVINCE = "Ủy ban nhân dân tỉnh Hòa Bình"
LEADER = "Nguyễn Văn Ấn"
NUMBER = "Số: 15/QĐ-UBND"
DATE_LINE = "Hòa Bình, ngày 23 tháng 11 năm 2026"
PAGE_WIDTH, PAGE_HEIGHT = A4
NUMBER_BOX = Box(0, 85, PAGE_HEIGHT - 175, 290, PAGE_HEIGHT - 153)
DATE_BOX = Box(0, 292, PAGE_HEIGHT - 175, PAGE_WIDTH - 42, PAGE_HEIGHT - 153)
LEADER_BOX = Box(-1, 340, 340, 480, 410)
SEAL_BOX = Box(-1, 295, 315, 395, 415)  # over the left third of the leader's image

VIETNAMESE_LETTERS = (
    "".join(
        unicodedata.normalize("NFC", base + mark)
        for base in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
        for mark in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    )
    + "đĐ"
)


# --- fixtures ---------------------------------------------------------------------------------------------


def _document(pages: int) -> bytes:
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(ReportlabTTFont("DejaVuSans", str(ROOT / "documents" / "fonts" / "DejaVuSans.ttf")))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for page in range(pages):
        canvas.setFont("DejaVuSans", 12)
        canvas.drawString(85, PAGE_HEIGHT - 100, f"ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH — trang {page + 1}")
        canvas.drawString(
            85, 440, "TM. ỦY BAN NHÂN DÂN" if page == pages - 1 else "Quyết định về việc ban hành quy chế"
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _png(rgb: tuple[int, int, int], size: tuple[int, int] = (300, 150)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((6, 6, size[0] - 6, size[1] - 6), outline=(*rgb, 255), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _holder(identity: Identity) -> StoredKeyHolder:
    kek = os.urandom(32)
    return StoredKeyHolder(
        encrypt_key_for(identity.certificate, identity.private_key, kek), kek, identity.certificate, identity.chain
    )


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return build_demo_pki(seals={"HB": PROVINCE}, people={"an.nv": LEADER}, now=NOW)


@pytest.fixture(scope="module")
def leader(pki: DemoPki) -> StoredKeyHolder:
    return _holder(pki.people["an.nv"])


@pytest.fixture(scope="module")
def seal(pki: DemoPki) -> StoredKeyHolder:
    return _holder(pki.seals["HB"])


@pytest.fixture(scope="module")
def document() -> bytes:
    return _document(2)


@pytest.fixture(scope="module")
def signature_png() -> bytes:
    return _png((20, 40, 200))


@pytest.fixture(scope="module")
def seal_png() -> bytes:
    return _png((220, 20, 20), (200, 200))


@pytest.fixture(scope="module")
def signed(document: bytes, leader: StoredKeyHolder, signature_png: bytes) -> bytes:
    return engine.sign_personal(
        document,
        leader,
        image_png=signature_png,
        box=LEADER_BOX,
        number_box=NUMBER_BOX,
        date_box=DATE_BOX,
        signer_name=LEADER,
        reason="Ký ban hành",
        location="Hòa Bình",
        signing_time=SIGNING_TIME,
    )


@pytest.fixture(scope="module")
def issued(signed: bytes, seal: StoredKeyHolder, seal_png: bytes) -> bytes:
    return engine.fill_and_seal(
        signed,
        seal,
        number_notation=NUMBER,
        date_text=DATE_LINE,
        seal_png=seal_png,
        box=SEAL_BOX,
        agency_name=PROVINCE,
        signing_time=SIGNING_TIME + timedelta(minutes=1),
    )


def _statuses(pki: DemoPki, data: bytes) -> dict:
    reader = PdfFileReader(io.BytesIO(data))
    return {
        signature.field_name: validate_pdf_signature(
            signature,
            ValidationContext(trust_roots=[asn1.certificate(pki.root.certificate)], moment=VALIDATION_MOMENT),
        )
        for signature in reader.embedded_signatures
    }


def _pdftotext(data: bytes, *, page: int) -> str:
    poppler.require("pdftotext")
    result = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"], input=data, capture_output=True, check=True
    )
    return unicodedata.normalize("NFC", result.stdout.decode("utf-8"))


def _assert_untouched(status) -> None:
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.modification_level == ModificationLevel.NONE
    assert status.bottom_line


# --- the leader's signature ---------------------------------------------------------------------------------


def test_leader_signature_validates_and_covers_the_file(pki: DemoPki, signed: bytes) -> None:
    statuses = _statuses(pki, signed)
    assert list(statuses) == [engine.LEADER_FIELD]
    status = statuses[engine.LEADER_FIELD]
    _assert_untouched(status)
    assert status.signing_cert.subject.native["common_name"] == LEADER


def test_leader_signature_is_pades_with_its_image_and_metadata(signed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(signed))
    signature = reader.embedded_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Name"] == LEADER
    assert signature.sig_object["/Reason"] == "Ký ban hành"
    assert signature.self_reported_timestamp == SIGNING_TIME
    widget = signature.sig_field
    assert [float(v) for v in widget["/Rect"]] == pytest.approx(
        [LEADER_BOX.x1, LEADER_BOX.y1, LEADER_BOX.x2, LEADER_BOX.y2]
    )
    assert widget["/P"] == reader.root["/Pages"]["/Kids"][-1]  # Box(-1, ...) is the last page
    appearance = widget["/AP"]["/N"]
    xobjects = appearance["/Resources"]["/XObject"]
    images = [xobjects[name] for name in xobjects if xobjects[name]["/Subtype"] == "/Image"]
    assert len(images) == 1 and "/SMask" in images[0]  # the transparent PNG keeps its alpha channel
    assert b"Tj" not in appearance.data  # image only, no text


def test_leader_signature_creates_the_empty_number_and_date_fields_and_locks_the_rest(signed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(signed))
    fields = {str(ref.get_object()["/T"]): ref.get_object() for ref in reader.root["/AcroForm"]["/Fields"]}
    assert set(fields) == {engine.NUMBER_FIELD, engine.DATE_FIELD, engine.LEADER_FIELD}
    for name in (engine.NUMBER_FIELD, engine.DATE_FIELD):
        assert fields[name]["/FT"] == "/Tx" and "/V" not in fields[name]
    assert [float(v) for v in fields[engine.NUMBER_FIELD]["/Rect"]] == pytest.approx(
        [NUMBER_BOX.x1, NUMBER_BOX.y1, NUMBER_BOX.x2, NUMBER_BOX.y2]
    )
    lock = fields[engine.LEADER_FIELD]["/Lock"]
    assert lock["/Action"] == "/Include"
    assert set(lock["/Fields"]) == {engine.LEADER_FIELD}  # everything but the two fields the clerk fills


def test_content_drawn_after_the_leader_signed_is_not_an_allowed_change(pki: DemoPki, signed: bytes) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    RawContent(b"q 1 0 0 rg 100 100 200 50 re f Q").add_to_page(writer, 0)
    output = io.BytesIO()
    writer.write(output)
    status = _statuses(pki, output.getvalue())[engine.LEADER_FIELD]
    assert status.intact and status.valid  # the signed bytes themselves are untouched ...
    assert status.modification_level == ModificationLevel.OTHER  # ... but the page changed after signing
    assert not status.bottom_line


# --- the clerk: number, date and the agency seal --------------------------------------------------------------


def test_fill_and_seal_keeps_the_leader_signature_valid_as_form_filling(pki: DemoPki, issued: bytes) -> None:
    statuses = _statuses(pki, issued)
    assert list(statuses) == [engine.LEADER_FIELD, engine.SEAL_FIELD]
    leader_status, seal_status = statuses[engine.LEADER_FIELD], statuses[engine.SEAL_FIELD]
    assert leader_status.intact and leader_status.valid and leader_status.trusted
    assert leader_status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert leader_status.modification_level == ModificationLevel.FORM_FILLING
    assert leader_status.bottom_line
    _assert_untouched(seal_status)
    assert seal_status.signing_cert.subject.native["common_name"] == PROVINCE


def test_fill_then_seal_in_two_updates_also_validates(
    pki: DemoPki, signed: bytes, seal: StoredKeyHolder, seal_png: bytes
) -> None:
    filled = engine.fill_number_and_date(signed, number_notation=NUMBER, date_text=DATE_LINE)
    sealed = engine.sign_seal(filled, seal, seal_png=seal_png, box=SEAL_BOX, agency_name=PROVINCE)
    statuses = _statuses(pki, sealed)
    assert statuses[engine.LEADER_FIELD].modification_level == ModificationLevel.FORM_FILLING
    assert statuses[engine.LEADER_FIELD].bottom_line
    _assert_untouched(statuses[engine.SEAL_FIELD])


def test_filled_vietnamese_text_is_stored_and_extractable(issued: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(issued))
    values = {str(ref.get_object()["/T"]): ref.get_object() for ref in reader.root["/AcroForm"]["/Fields"]}
    assert values[engine.NUMBER_FIELD]["/V"] == NUMBER
    assert values[engine.DATE_FIELD]["/V"] == DATE_LINE
    assert int(values[engine.NUMBER_FIELD]["/Ff"]) & 1  # read-only once issued
    # What a reader sees and copies: the drawn appearance, decoded through the embedded font's ToUnicode map.
    text = _pdftotext(issued, page=1)
    assert NUMBER in text
    assert DATE_LINE in text


def test_filled_fields_use_the_embedded_vietnamese_font(issued: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(issued))
    field = next(
        ref.get_object() for ref in reader.root["/AcroForm"]["/Fields"] if ref.get_object()["/T"] == engine.NUMBER_FIELD
    )
    outer = field["/AP"]["/N"]
    # The field paints its rectangle white first (it replaces the blank template line), then the text.
    assert outer.data.startswith(b"q 1 g 0 0 ") and b" re f Q" in outer.data
    appearance = outer["/Resources"]["/XObject"]["/FillText"]
    fonts = appearance["/Resources"]["/Font"]
    font = fonts[next(iter(fonts))]
    assert font["/Subtype"] == "/Type0" and str(font["/BaseFont"]).endswith("+DejaVuSerifVN")
    descendant = font["/DescendantFonts"][0]
    assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded, so every viewer draws the same glyphs
    assert b"13 Tf" in appearance.data
    assert "/ToUnicode" in font


def test_seal_with_a_timestamp_is_b_t(pki: DemoPki, signed: bytes, seal: StoredKeyHolder, seal_png: bytes) -> None:
    timestamper = engine.make_timestamper(pki.tsa.certificate, pki.tsa.private_key, pki.tsa.chain, fixed_time=NOW)
    sealed = engine.fill_and_seal(
        signed,
        seal,
        number_notation=NUMBER,
        date_text=DATE_LINE,
        seal_png=seal_png,
        box=SEAL_BOX,
        timestamper=timestamper,
    )
    status = _statuses(pki, sealed)[engine.SEAL_FIELD]
    assert status.bottom_line
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid and status.timestamp_validity.trusted
    assert status.timestamp_validity.timestamp == NOW


def test_b_lt_embeds_validation_data_that_validates_offline(
    pki: DemoPki, document: bytes, leader, signature_png
) -> None:
    material = engine.ValidationMaterial(
        trust_roots=pki.trust_roots,
        intermediates=[pki.issuing_ca.certificate],
        crls=[pki.crl(at=NOW), pki.crl(at=NOW, issuer="root")],
        revocation_mode="require",
    )
    timestamper = engine.make_timestamper(pki.tsa.certificate, pki.tsa.private_key, pki.tsa.chain, fixed_time=NOW)
    signed_lt = engine.sign_personal(
        document,
        leader,
        image_png=signature_png,
        box=LEADER_BOX,
        signer_name=LEADER,
        timestamper=timestamper,
        validation=material,
        signing_time=SIGNING_TIME,
    )
    reader = PdfFileReader(io.BytesIO(signed_lt))
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 3 and len(dss["/CRLs"]) == 2
    # Only the trust root comes from outside: intermediates and CRLs are taken from the file's DSS, nothing may
    # be fetched, and every certificate (signer, issuing CA, TSA) must have revocation data.
    dss = DocumentSecurityStore.read_dss(reader)
    context = ValidationContext(
        trust_roots=[asn1.certificate(pki.root.certificate)],
        other_certs=list(dss.load_certs()),
        crls=[asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls],
        allow_fetching=False,
        revocation_mode="require",
        moment=VALIDATION_MOMENT,
    )
    status = validate_pdf_signature(reader.embedded_signatures[0], context)
    assert status.bottom_line and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # Without the DSS the same strict check cannot succeed: the validation data really comes from the file.
    bare = ValidationContext(
        trust_roots=[asn1.certificate(pki.root.certificate)],
        crls=[],
        allow_fetching=False,
        revocation_mode="require",
        moment=VALIDATION_MOMENT,
    )
    assert not validate_pdf_signature(reader.embedded_signatures[0], bare).bottom_line


def test_b_lt_refuses_to_sign_a_revoked_certificate(pki: DemoPki, document: bytes, leader, signature_png) -> None:
    material = engine.ValidationMaterial(
        trust_roots=pki.trust_roots,
        intermediates=[pki.issuing_ca.certificate],
        crls=[pki.crl([leader.certificate], at=NOW), pki.crl(at=NOW, issuer="root")],
        revocation_mode="require",
    )
    with pytest.raises(SigningError, match="could not be validated"):
        engine.sign_personal(
            document, leader, image_png=signature_png, box=LEADER_BOX, signer_name=LEADER, validation=material
        )


# --- attachments ----------------------------------------------------------------------------------------------


def test_attachment_stamp_shows_number_and_iso_time_top_right(pki: DemoPki, seal: StoredKeyHolder) -> None:
    attachment = _document(3)
    signing_time = datetime(2026, 11, 23, 7, 5, 9, tzinfo=UTC)
    stamped = engine.sign_attachment(attachment, seal, number_notation="15/QĐ-UBND", signing_time=signing_time)

    status = _statuses(pki, stamped)[engine.SEAL_FIELD]
    _assert_untouched(status)
    reader = PdfFileReader(io.BytesIO(stamped))
    signature = reader.embedded_signatures[0]
    assert signature.self_reported_timestamp == signing_time  # /M: the claimed signing time PAdES uses
    widget = signature.sig_field
    assert widget["/P"] == reader.root["/Pages"]["/Kids"][0]  # first page
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert x1 > PAGE_WIDTH / 2 and y1 > PAGE_HEIGHT * 0.85  # top right ...
    assert x2 <= PAGE_WIDTH - 40 and y2 <= PAGE_HEIGHT - 10  # ... inside the page margins
    appearance = widget["/AP"]["/N"]
    assert b"/Im" not in appearance.data  # no image
    assert b"10 Tf" in appearance.data and b"0 0 0 rg" in appearance.data  # 10 pt, black
    text = _pdftotext(stamped, page=1)
    assert "15/QĐ-UBND" in text
    assert "2026-11-23T14:05:09+07:00" in text


def test_signing_time_is_iso_8601_in_vietnam_time() -> None:
    assert engine.format_signing_time(datetime(2026, 11, 23, 7, 5, 9, 500, tzinfo=UTC)) == "2026-11-23T14:05:09+07:00"
    with pytest.raises(ValueError):
        engine.format_signing_time(datetime(2026, 11, 23, 7, 5, 9))


# --- an independent validator --------------------------------------------------------------------------------


def test_pdfsig_reports_both_signatures_valid_and_trusted(pki: DemoPki, issued: bytes, tmp_path: Path) -> None:
    report = poppler.pdfsig(issued, [pki.root.certificate], tmp_path)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report
    assert report.count("Certificate Validation: Certificate is Trusted.") == 2, report
    assert "Signature Field Name: ChuKyLanhDao" in report and "Signature Field Name: ChuKyCoQuan" in report
    assert "Total document signed" in report  # the seal covers the whole file


# --- key algorithms, failures --------------------------------------------------------------------------------


def test_ecdsa_signer_and_ecdsa_tsa(pki: DemoPki, document: bytes, signature_png: bytes) -> None:
    person_key = ec.generate_private_key(ec.SECP256R1())
    person = Identity(
        pki.issue_for_public_key("Trần Thị Bình", person_key.public_key(), kind="person"),
        person_key,  # type: ignore[arg-type]
        (pki.issuing_ca.certificate, pki.root.certificate),
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa_certificate = pki.issue_for_public_key("TSA EC", tsa_key.public_key(), kind="tsa")
    timestamper = engine.make_timestamper(tsa_certificate, tsa_key, [pki.issuing_ca.certificate], fixed_time=NOW)
    signed_ec = engine.sign_personal(
        document,
        _holder(person),
        image_png=signature_png,
        box=LEADER_BOX,
        signer_name="Trần Thị Bình",
        timestamper=timestamper,
    )
    status = _statuses(pki, signed_ec)[engine.LEADER_FIELD]
    _assert_untouched(status)
    assert status.md_algorithm == "sha256" and status.pkcs7_signature_mechanism.endswith("ecdsa")
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted


class _UnavailableKey:
    def __init__(self, identity: Identity) -> None:
        self.certificate = identity.certificate
        self.chain = list(identity.chain)
        self.key_algorithm = "rsa"

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        raise SigningUnavailable("token removed")


def test_an_unreachable_key_raises_signing_unavailable(pki: DemoPki, document: bytes, signature_png: bytes) -> None:
    with pytest.raises(SigningUnavailable):
        engine.sign_personal(
            document, _UnavailableKey(pki.people["an.nv"]), image_png=signature_png, box=LEADER_BOX, signer_name=LEADER
        )


def test_an_unreadable_image_is_refused(document: bytes, leader: StoredKeyHolder) -> None:
    with pytest.raises(SigningEngineError):
        engine.sign_personal(document, leader, image_png=b"not a png", box=LEADER_BOX, signer_name=LEADER)


def test_filling_a_document_without_the_fields_is_refused(document: bytes) -> None:
    with pytest.raises(SigningEngineError):
        engine.fill_number_and_date(document, number_notation=NUMBER, date_text=DATE_LINE)


def test_a_page_beyond_the_document_is_refused(document: bytes, leader, signature_png: bytes) -> None:
    with pytest.raises(SigningEngineError):
        engine.sign_personal(document, leader, image_png=signature_png, box=Box(-3, 0, 0, 10, 10), signer_name=LEADER)


def test_signing_twice_in_the_same_field_is_refused(signed: bytes, leader, signature_png: bytes) -> None:
    with pytest.raises(SigningEngineError):
        engine.sign_personal(signed, leader, image_png=signature_png, box=LEADER_BOX, signer_name=LEADER)


def test_a_too_small_reservation_falls_back_to_pyhanko_sizing(
    pki: DemoPki, document: bytes, leader, signature_png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.KeyHolderSigner, "bytes_to_reserve", lambda self, timestamper: 1024)
    signed_small = engine.sign_personal(document, leader, image_png=signature_png, box=LEADER_BOX, signer_name=LEADER)
    _assert_untouched(_statuses(pki, signed_small)[engine.LEADER_FIELD])


# --- page lookup and fonts ------------------------------------------------------------------------------------


def test_pages_counted_from_the_end_match_pyhanko() -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(_document(7)))
    for index in (-1, -2, -7):
        assert engine._page_ref(writer, index) == writer.find_page_for_modification(index)[0]


@pytest.mark.parametrize("font", list(StampFont))
def test_shipped_fonts_are_1000_upem_and_cover_vietnamese(font: StampFont) -> None:
    tt = TTFont(engine.FONT_DIR / font.value)
    assert tt["head"].unitsPerEm == 1000
    prepared = engine._prepared_font(font)
    sample = VIETNAMESE_LETTERS + "0123456789 -:+T./,()№" + ("₫" if font is StampFont.SANS else "")
    glyphs, _width = prepared.encode(sample)
    assert 0 not in {gid for gid, _char in glyphs}  # no .notdef boxes
    # Decomposed input (as some keyboards produce) still gets the precomposed glyphs.
    assert prepared.encode(unicodedata.normalize("NFD", DATE_LINE)) == prepared.encode(DATE_LINE)


def test_build_fonts_reproduces_the_shipped_fonts(tmp_path: Path) -> None:
    from signatures.fonts import build_fonts

    try:
        sources = {name: build_fonts._find_source(source) for name, (source, _f, _p) in build_fonts.FONTS.items()}
    except SystemExit:
        pytest.skip("DejaVu source fonts not installed")
    for name, (_source, family, postscript_name) in build_fonts.FONTS.items():
        build_fonts.build_font(sources[name], tmp_path / name, family, postscript_name)
        assert (tmp_path / name).read_bytes() == (engine.FONT_DIR / name).read_bytes()


def test_large_or_opaque_images_are_prepared_once_and_scaled_down() -> None:
    big = io.BytesIO()
    Image.new("RGBA", (4000, 2000), (0, 0, 255, 128)).save(big, "PNG")
    prepared = engine._prepare_png(big.getvalue())
    assert (prepared.width, prepared.height) == (1200, 600) and prepared.alpha is not None
    assert engine._prepare_png(big.getvalue()) is prepared  # decoded and compressed once per process
    grey = io.BytesIO()
    Image.new("L", (120, 60), 30).save(grey, "PNG")
    assert engine._prepare_png(grey.getvalue()).alpha is None  # no soft mask for an opaque image
