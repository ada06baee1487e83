"""Records printouts: the document index of a work file, the file catalogue (PDF and XLSX, heading numbers),
the transfer list and hand-over record, and archive lists; Vietnamese text survives into the PDF text layer."""

from __future__ import annotations

import io
import unicodedata
from datetime import date

import pytest
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from documents import services as documents_services
from documents.models import Document, DocumentFile, FileBlob
from records import printouts
from records.models import (
    CatalogueEntry,
    CatalogueHeading,
    FileCatalogue,
    Transfer,
    WorkFile,
    WorkFileDocument,
)
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    """The text layer, NFC, with line breaks and runs of spaces folded to one space (cells wrap)."""
    assert data.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def _blob(n: int) -> FileBlob:
    return FileBlob.objects.create(sha256=f"{n:064d}", size=1, content_type="application/pdf", storage_name=f"r/{n}")


def _incoming(user, subject: str, number: str, *, pages: int | None = None, day: int = 2) -> Document:
    data = documents_services.IncomingInput(
        document_type_id=doc_type().pk, subject=subject, organ_name="Ủy ban nhân dân tỉnh Hòa Bình",
        code_number=number, code_notation="QĐ-UBND", issued_date=date(2026, 3, day),
    )
    document = documents_services.register_incoming(user, data)
    if pages is not None:
        Document.objects.filter(pk=document.pk).update(page_amount=pages)
    return document


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    agency = AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình")
    unit = UnitFactory(agency=agency, name="Phòng Tổ chức cán bộ", abbreviation="TCCB")
    keeper = clerk(agency, full_name="Trần Thị Hồng Nhung", position="Văn thư")
    with django_capture_on_commit_callbacks(execute=True):
        first = _incoming(keeper, "Về việc điều động công chức", "12", pages=3)
        second = _incoming(keeper, "Về việc nâng lương thường xuyên", "15", day=5)
    # The second has no registered page count: its main file's counted pages are used.
    DocumentFile.objects.create(document=second, blob=_blob(1), original_name="a.pdf", is_main=True,
                                uploaded_by=keeper, page_count=2)
    DocumentFile.objects.create(document=second, blob=_blob(2), original_name="b.pdf", uploaded_by=keeper)
    work_file = WorkFile.objects.create(
        agency=agency, unit=unit, year=2026, file_notation="01.TCCB", title="Hồ sơ điều động, luân chuyển công chức",
        retention_years=None, creator=keeper, start_date=date(2026, 3, 2), end_date=date(2026, 11, 30),
        doc_total=2, page_total=5, description="Bản gốc đầy đủ",
    )
    # Added in the other order: the printout follows the ordinal, not the insertion.
    WorkFileDocument.objects.create(work_file=work_file, document=second, ordinal=2, added_by=keeper)
    WorkFileDocument.objects.create(work_file=work_file, document=first, ordinal=1, added_by=keeper)
    return {"agency": agency, "unit": unit, "keeper": keeper, "file": work_file, "first": first, "second": second}


def test_document_index_lists_documents_in_order_with_page_ranges(world):
    work_file = world["file"]
    with translation.override("en"):
        rows = printouts.document_index_rows(work_file)
        text = pdf_text(printouts.document_index_pdf(work_file))
    assert [r[1] for r in rows] == ["12/QĐ-UBND", "15/QĐ-UBND"]
    assert [r[2] for r in rows] == ["02/03/2026", "05/03/2026"]
    assert [r[5] for r in rows] == ["1-3", "4-5"]
    assert rows[0][3].endswith("Về việc điều động công chức")
    for expected in ("SỞ NỘI VỤ TỈNH HÒA BÌNH", "INDEX OF DOCUMENTS IN THE FILE", work_file.file_code,
                     "Hồ sơ điều động, luân chuyển công chức", "Permanent", "2026", "12/QĐ-UBND", "02/03/2026",
                     "Ủy ban nhân dân tỉnh Hòa Bình", "1-3", "4-5", "Page 1 of 1", "Number of documents: 2. Number of pages: 5."):
        assert expected in text, expected


def test_document_index_leaves_unknown_page_ranges_blank(world):
    DocumentFile.objects.filter(document=world["second"]).update(page_count=None)
    third = WorkFileDocument.objects.create(work_file=world["file"], added_by=world["keeper"], ordinal=3,
                                            document=_incoming(world["keeper"], "Về việc khen thưởng", "20", pages=4))
    assert third.pk
    rows = printouts.document_index_rows(world["file"])
    assert [r[5] for r in rows] == ["1-3", "", ""]
    with translation.override("vi"):
        text = pdf_text(printouts.document_index_pdf(world["file"]))
    assert "Về việc khen thưởng" in text and "Hòa Bình" in text



def test_catalogue_numbers_headings_and_prints_entries_under_them(world):
    agency, keeper = world["agency"], world["keeper"]
    catalogue = FileCatalogue.objects.create(agency=agency, year=2026, created_by=keeper,
                                             approved_by_name="Nguyễn Văn Thắng", state="published")
    staff = CatalogueHeading.objects.create(catalogue=catalogue, order=1, title="Tổ chức, cán bộ", abbreviation="TCCB")
    general = CatalogueHeading.objects.create(catalogue=catalogue, order=0, title="Công tác chung", abbreviation="VP")
    pay = CatalogueHeading.objects.create(catalogue=catalogue, parent=staff, order=1, title="Tiền lương")
    hiring = CatalogueHeading.objects.create(catalogue=catalogue, parent=staff, order=0, title="Tuyển dụng")
    assert printouts.heading_numbers(catalogue) == {general.pk: "I", staff.pk: "II", hiring.pk: "1", pay.pk: "2"}
    CatalogueEntry.objects.create(catalogue=catalogue, heading=general, order=1, file_notation="01.VP",
                                  title="Hồ sơ kế hoạch công tác năm", retention_years=None, unit=world["unit"])
    CatalogueEntry.objects.create(catalogue=catalogue, heading=hiring, order=2, file_notation="01.TCCB",
                                  title="Hồ sơ tuyển dụng công chức", retention_years=20, responsible=keeper,
                                  note="Bản giấy")
    CatalogueEntry.objects.create(catalogue=catalogue, heading=pay, order=3, file_notation="02.TCCB",
                                  title="Hồ sơ nâng bậc lương", retention_years=10)

    with translation.override("en"):
        text = pdf_text(printouts.catalogue_pdf(catalogue))
        book = load_workbook(io.BytesIO(printouts.catalogue_xlsx(catalogue)))
    for expected in ("FILE CATALOGUE FOR 2026", "I. CÔNG TÁC CHUNG", "01.VP", "Hồ sơ kế hoạch công tác năm",
                     "Permanent", "Phòng Tổ chức cán bộ", "II. TỔ CHỨC, CÁN BỘ", "1. Tuyển dụng",
                     "Trần Thị Hồng Nhung (Văn thư)", "20 years", "2. Tiền lương", "Nguyễn Văn Thắng",
                     "Files in this catalogue: 3 (kept permanently: 1; kept for a limited period: 2)"):
        assert expected in text, expected
    assert text.index("I. CÔNG TÁC CHUNG") < text.index("01.VP") < text.index("II. TỔ CHỨC") \
        < text.index("1. Tuyển dụng") < text.index("01.TCCB") < text.index("2. Tiền lương") < text.index("02.TCCB")
    rows = list(book.active.iter_rows(values_only=True))
    head = next(i for i, row in enumerate(rows) if row[0] == "File number")
    assert rows[head][:5] == ("File number", "Heading and file title", "Retention period", "File keeper", "Notes")
    body = rows[head + 2:head + 9]
    assert [r[1] for r in body] == ["I. CÔNG TÁC CHUNG", "Hồ sơ kế hoạch công tác năm", "II. TỔ CHỨC, CÁN BỘ",
                                    "1. Tuyển dụng", "Hồ sơ tuyển dụng công chức", "2. Tiền lương",
                                    "Hồ sơ nâng bậc lương"]
    assert body[4] == ("01.TCCB", "Hồ sơ tuyển dụng công chức", "20 years", "Trần Thị Hồng Nhung (Văn thư)",
                       "Bản giấy")
    assert book.active.cell(row=head + 3, column=2).font.b


def test_transfer_list_and_hand_over_record(world):
    agency, keeper = world["agency"], world["keeper"]
    archivist = clerk(agency, full_name="Lê Thị Thu Hà", position="Lưu trữ viên")
    older = WorkFile.objects.create(agency=agency, year=2025, file_notation="00.TCCB", title="Hồ sơ thi đua khen thưởng",
                                    retention_years=10, creator=keeper, start_date=date(2025, 1, 6),
                                    end_date=date(2025, 12, 20), doc_total=0, page_total=7)
    transfer = Transfer.objects.create(agency=agency, unit=world["unit"], submitted_by=keeper, received_by=archivist)
    transfer.files.set([world["file"], older])

    rows = printouts.transfer_list_rows(transfer)
    assert [r[1] for r in rows] == ["00.TCCB", "01.TCCB"]
    assert rows[1][3] == "02/03/2026 – 30/11/2026" and rows[1][5] == 5
    totals = printouts.transfer_totals(transfer)
    assert (totals.files, totals.documents, totals.digital_files, totals.pages) == (2, 2, 2, 12)
    assert (totals.start, totals.end) == (date(2025, 1, 6), date(2026, 11, 30))
    with translation.override("en"):
        listing = pdf_text(printouts.transfer_list_pdf(transfer))
        record = pdf_text(printouts.handover_record_pdf(transfer))
    for expected in ("LIST OF FILES TRANSFERRED TO THE ARCHIVE", "Phòng Tổ chức cán bộ", "Hồ sơ thi đua khen thưởng",
                     "06/01/2025 – 20/12/2025", "10 years", "Number of files: 2. Number of pages: 12."):
        assert expected in listing, expected
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "RECORD OF THE HAND-OVER OF DOCUMENTS", "Hòa Bình,",
                     "Trần Thị Hồng Nhung (Văn thư)", "Lê Thị Thu Hà (Lưu trữ viên)",
                     "Total number of files: 2", "Total number of digital files: 2", "Total number of pages: 12",
                     "06/01/2025 – 30/11/2026", "DELIVERING PARTY'S REPRESENTATIVE",
                     "RECEIVING PARTY'S REPRESENTATIVE", "Lê Thị Thu Hà"):
        assert expected in record, expected


def test_archive_list_pdf_and_xlsx(world):
    files = WorkFile.objects.filter(pk=world["file"].pk)
    with translation.override("en"):
        text = pdf_text(printouts.archive_list_pdf(files, "Hồ sơ lưu trữ năm 2026"))
        book = load_workbook(io.BytesIO(printouts.archive_list_xlsx(files, "Hồ sơ lưu trữ năm 2026")))
    for expected in ("SỞ NỘI VỤ TỈNH HÒA BÌNH", "HỒ SƠ LƯU TRỮ NĂM 2026", world["file"].file_code,
                     "Hồ sơ điều động, luân chuyển công chức", "Permanent", "Number of files: 1. Number of documents: 2. Number of pages: 5."):
        assert expected in text, expected
    rows = list(book.active.iter_rows(values_only=True))
    head = next(i for i, row in enumerate(rows) if row[0] == "No.")
    assert rows[head + 2][:9] == (1, world["file"].file_code, "Hồ sơ điều động, luân chuyển công chức", 2026,
                                  "02/03/2026 – 30/11/2026", "Permanent", "Phòng Tổ chức cán bộ", 2, 5)


def test_empty_printouts_still_build(world):
    agency, keeper = world["agency"], world["keeper"]
    empty_file = WorkFile.objects.create(agency=agency, year=2026, file_notation="09.VP", title="Hồ sơ trống",
                                         creator=keeper, start_date=date(2026, 1, 5))
    catalogue = FileCatalogue.objects.create(agency=agency, year=2027, created_by=keeper)
    transfer = Transfer.objects.create(agency=agency, submitted_by=keeper)
    with translation.override("en"):
        assert "This file holds no documents." in pdf_text(printouts.document_index_pdf(empty_file))
        assert "(Draft)" in pdf_text(printouts.catalogue_pdf(catalogue))
        assert printouts.catalogue_xlsx(catalogue).startswith(b"PK")
        assert "No files in this transfer." in pdf_text(printouts.transfer_list_pdf(transfer))
        assert "Total number of files: 0" in pdf_text(printouts.handover_record_pdf(transfer))
        assert "No files to list." in pdf_text(printouts.archive_list_pdf([], "Danh sách trống"))
        assert printouts.archive_list_xlsx(WorkFile.objects.none(), "Danh sách trống").startswith(b"PK")
