"""Register pages and printouts (Decree 30 PL IV): content of the PDF and XLSX, the period filter,
who may see and print which register, and the audit of every printout."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts import roles
from audit.models import AuditEvent
from documents import events, printouts, services
from documents.models import Confidentiality, Document, Register, RegisterKind, Urgency
from documents.selectors import register_entries
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type, make_user

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def outgoing(**overrides) -> services.OutgoingInput:
    values = {"document_type_id": doc_type().pk, "subject": "Về việc phê duyệt kế hoạch cải cách hành chính",
              "signer_name": "Bùi Văn Khánh", "signer_position": "Chủ tịch", "authority_prefix": "TM.",
              "issued_amount": 12}
    values.update(overrides)
    return services.OutgoingInput(**values)


def incoming(**overrides) -> services.IncomingInput:
    values = {"document_type_id": doc_type("cong-van").pk, "subject": "Về việc báo cáo số liệu thống kê",
              "organ_name": "Bộ Nội vụ", "code_number": "05", "code_notation": "BNV-VP", "issued_date": TODAY,
              "to_places": "Phòng Tổ chức cán bộ"}
    values.update(overrides)
    return services.IncomingInput(**values)


@pytest.fixture
def agency():
    parent = AgencyFactory(name="Ủy ban nhân dân tỉnh Hòa Bình", abbreviation="UBNDT")
    return AgencyFactory(name="Sở Nội vụ", abbreviation="SNV", parent=parent)


@pytest.fixture
def office(agency):
    clerk_user = clerk(agency)
    unit = UnitFactory(agency=agency, name="Văn phòng Sở", abbreviation="VP")
    first = services.register_outgoing(
        clerk_user,
        outgoing(drafting_unit_id=unit.pk, urgency=Urgency.URGENT,
                 recipients=[services.RecipientInput(name="UBND huyện Lạc Sơn"),
                             services.RecipientInput(name="Sở Tài chính")]),
    )
    second = services.register_outgoing(
        clerk_user, outgoing(document_type_id=doc_type("cong-van").pk, drafting_unit_id=unit.pk,
                             subject="V/v tổ chức hội nghị <tổng kết> & khen thưởng")
    )
    received = services.register_incoming(clerk_user, incoming())
    return {"clerk": clerk_user, "unit": unit, "outgoing": [first, second], "incoming": received,
            "out_register": first.register, "in_register": received.register}


def print_url(register: Register, fmt: str) -> str:
    return reverse("documents:register_print", args=[register.pk, fmt])


def pdf_text(content: bytes) -> list[str]:
    """Text of each page, whitespace collapsed (wrapped cells break lines anywhere)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


def printed_events():
    return AuditEvent.objects.filter(verb=events.REGISTER_PRINTED)


def data_rows(sheet) -> tuple[int, list[tuple]]:
    """The (1-based) heading row and the rows below the "(1) … (10)" numbering row."""
    rows = list(sheet.iter_rows(values_only=True))
    head = next(i for i, row in enumerate(rows) if row[0] in ("Số, ký hiệu văn bản", "Ngày đến"))
    assert rows[head + 1] == tuple(f"({n})" for n in range(1, 11))
    return head + 1, rows[head + 2:]


# --- content ------------------------------------------------------------------------------------


def test_outgoing_pdf_has_the_pl4_cover_columns_and_entries(client, office, agency):
    client.force_login(office["clerk"])
    response = client.get(print_url(office["out_register"], "pdf"),
                          {"date_from": f"{TODAY.year}-01-01", "date_to": TODAY.isoformat()})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="so-van-ban-di-{TODAY.year}-SNV.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    cover, *table_pages = pdf_text(response.content)
    for text in ("ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH", "SỞ NỘI VỤ", "SỔ ĐĂNG KÝ VĂN BẢN ĐI", f"Năm: {TODAY.year}",
                 f"Từ ngày 01/01/{TODAY.year} đến ngày {TODAY:%d/%m/%Y}", "Từ số 01 đến số 02", "Quyển số"):
        assert text in cover
    table = " ".join(table_pages)
    for heading in ("Số, ký hiệu", "Ngày tháng", "Người ký", "Nơi nhận", "Ký nhận", "Ghi chú", "(10)"):
        assert heading in table
    for document in office["outgoing"]:
        assert document.number_notation in table
    assert "01/QĐ-SNV" in table and "02/SNV-VP" in table
    assert "Bùi Văn Khánh" in table and "UBND huyện Lạc Sơn" in table and "Khẩn" in table
    assert "<tổng kết> & khen" in table  # markup characters are text, not paragraph tags
    assert "Bộ Nội vụ" not in table  # the incoming document is in the other register
    assert f"Trang 2/{len(table_pages) + 1}" in table

    event = printed_events().get()
    assert event.actor_id == office["clerk"].pk and event.agency_id == agency.pk
    assert event.target_type == "documents.register" and event.target_id == str(office["out_register"].pk)
    assert event.data == {"format": "pdf", "from": f"{TODAY.year}-01-01", "to": TODAY.isoformat(), "rows": 2}


def test_incoming_pdf_has_the_incoming_columns(client, office):
    client.force_login(office["clerk"])
    response = client.get(print_url(office["in_register"], "pdf"))
    assert response.status_code == 200
    cover, *table_pages = pdf_text(response.content)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in cover and "Từ số 01 đến số 01" in cover
    table = " ".join(table_pages)
    for heading in ("Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Đơn vị hoặc người nhận", "Ký nhận"):
        assert heading in table
    assert "05/BNV-VP" in table and "Bộ Nội vụ" in table and "Phòng Tổ chức cán bộ" in table
    assert f"{TODAY:%d/%m/%Y} 01 Bộ Nội vụ 05/BNV-VP {TODAY:%d/%m/%Y}" in table  # dates fit their columns
    assert printed_events().get().data == {"format": "pdf", "from": None, "to": None, "rows": 1}


def test_xlsx_has_ten_columns_and_one_row_per_document(client, office):
    client.force_login(office["clerk"])
    response = client.get(print_url(office["out_register"], "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == f'attachment; filename="so-van-ban-di-{TODAY.year}-SNV.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    heading_row, rows = data_rows(sheet)
    headings = [c.value for c in sheet[heading_row]]
    assert headings == printouts.register_columns(office["out_register"]) and len(headings) == 10
    assert [row[0] for row in rows] == ["01/QĐ-SNV", "02/SNV-VP"]
    first = rows[0]
    assert first[1].date() == TODAY  # a real date cell, shown as DD/MM/YYYY
    assert first[2].startswith("Quyết định – Về việc phê duyệt")
    assert first[3] == "TM. Chủ tịch\nBùi Văn Khánh"
    assert first[4] == "UBND huyện Lạc Sơn; Sở Tài chính"
    assert first[5] == "Văn phòng Sở" and first[6] == 12
    assert first[7] is None and first[8] is None  # left for the hand-written date and signature
    assert first[9] == "Khẩn"
    assert sheet.print_title_rows == f"${heading_row}:${heading_row + 1}"  # repeated on every printed page
    assert sheet.page_setup.orientation == "landscape"
    assert printed_events().get().data["format"] == "xlsx"


def test_incoming_xlsx_rows(client, office):
    client.force_login(office["clerk"])
    sheet = load_workbook(io.BytesIO(client.get(print_url(office["in_register"], "xlsx")).content)).active
    heading_row, rows = data_rows(sheet)
    assert [c.value for c in sheet[heading_row]][:3] == ["Ngày đến", "Số đến", "Tác giả"]
    assert len(rows) == 1
    arrival, number, organ, notation = rows[0][:4]
    assert arrival.date() == TODAY and number == 1 and organ == "Bộ Nội vụ" and notation == "05/BNV-VP"
    assert sheet.cell(row=heading_row + 2, column=2).number_format == "00"  # shown as "01"


def test_period_filter(client, office):
    first, second = office["outgoing"]
    year = TODAY.year
    # As if registered earlier in the year (the service always dates outgoing documents today).
    Document.objects.filter(pk=first.pk).update(issued_date=date(year, 1, 1))
    client.force_login(office["clerk"])
    period = {"date_from": f"{year}-01-01", "date_to": f"{year}-01-01"}

    sheet = load_workbook(io.BytesIO(client.get(print_url(office["out_register"], "xlsx"), period).content)).active
    assert [row[0] for row in data_rows(sheet)[1]] == [first.number_notation]
    if TODAY != date(year, 1, 1):
        later = {"date_from": f"{year}-01-02", "date_to": TODAY.isoformat()}
        sheet = load_workbook(io.BytesIO(client.get(print_url(office["out_register"], "xlsx"), later).content)).active
        assert [row[0] for row in data_rows(sheet)[1]] == [second.number_notation]
    # dd/mm/yyyy is accepted too
    response = client.get(print_url(office["out_register"], "pdf"), {"date_from": f"01/01/{year}", "date_to": f"01/01/{year}"})
    assert "Từ số 01 đến số 01" in pdf_text(response.content)[0]

    page = client.get(reverse("documents:registers"), {"register": office["out_register"].pk, **period})
    assert page.status_code == 200
    assert [r[0]["text"] for r in page.context["rows"]] == [first.number_notation]
    assert page.context["total"] == 1
    assert list(printed_events().values_list("data__rows", flat=True)) == (
        [1, 1, 1] if TODAY != date(year, 1, 1) else [1, 1]
    )


def test_secret_document_not_granted_is_absent(client, agency, office):
    secret = services.register_outgoing(
        office["clerk"], outgoing(confidentiality=Confidentiality.SECRET, subject="Kế hoạch bảo vệ bí mật nhà nước")
    )
    other_clerk = clerk(agency)
    client.force_login(other_clerk)
    response = client.get(print_url(secret.register, "xlsx"))
    assert response.status_code == 200  # the register is the agency's, its secret rows are not
    assert data_rows(load_workbook(io.BytesIO(response.content)).active)[1] == []
    pdf = " ".join(pdf_text(client.get(print_url(secret.register, "pdf")).content))
    assert "SỔ ĐĂNG KÝ VĂN BẢN MẬT ĐI" in pdf and "bí mật nhà nước" not in pdf
    page = client.get(reverse("documents:registers"), {"register": secret.register.pk})
    assert page.context["total"] == 0 and "bí mật nhà nước" not in page.content.decode()
    assert list(printed_events().values_list("data__rows", flat=True)) == [0, 0]

    # The registering clerk holds the grant and does see it.
    client.force_login(office["clerk"])
    sheet = load_workbook(io.BytesIO(client.get(print_url(secret.register, "xlsx")).content)).active
    rows = data_rows(sheet)[1]
    assert [row[0] for row in rows] == [secret.number_notation] and rows[0][9] == "Mật"


def test_clerk_of_another_agency_gets_404(client, office):
    stranger = clerk(AgencyFactory())
    client.force_login(stranger)
    for register in (office["out_register"], office["in_register"]):
        for fmt in ("pdf", "xlsx"):
            assert client.get(print_url(register, fmt)).status_code == 404
    page = client.get(reverse("documents:registers"), {"register": office["out_register"].pk, "action": "pdf"})
    assert page.status_code == 200 and page.context["form"].errors and "selected" not in page.context
    html = page.content.decode()
    assert office["outgoing"][0].number_notation not in html and "Sở Nội vụ" not in html
    assert not printed_events().exists()


def test_staff_gets_403_and_archivist_may_only_view(client, agency, office):
    client.force_login(make_user(roles.STAFF, agency))
    assert client.get(reverse("documents:registers")).status_code == 403
    assert client.get(print_url(office["out_register"], "pdf")).status_code == 403

    archivist = make_user(roles.ARCHIVIST, agency)
    client.force_login(archivist)
    page = client.get(reverse("documents:registers"))
    assert page.status_code == 200 and page.context["can_print"] is False
    assert office["outgoing"][0].number_notation in page.content.decode()
    assert print_url(office["out_register"], "pdf") not in page.content.decode()
    assert client.get(print_url(office["out_register"], "pdf")).status_code == 403
    assert client.get(print_url(office["out_register"], "xlsx")).status_code == 403
    assert client.get(reverse("documents:registers"), {"register": office["out_register"].pk,
                                                       "action": "xlsx"}).status_code == 403
    assert not printed_events().exists()


def test_anonymous_is_sent_to_login(client, office):
    response = client.get(print_url(office["out_register"], "pdf"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not printed_events().exists()


def test_unknown_format_is_404(client, office):
    client.force_login(office["clerk"])
    assert client.get(print_url(office["out_register"], "csv")).status_code == 404
    assert not printed_events().exists()


@pytest.mark.parametrize("query", [{"date_from": "2026-13-45"}, {"date_to": "hôm qua"},
                                   {"date_from": f"{TODAY.year}-03-01", "date_to": f"{TODAY.year}-02-01"}])
def test_bad_dates_are_400_with_a_message(client, office, query):
    client.force_login(office["clerk"])
    response = client.get(print_url(office["out_register"], "pdf"), query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().strip()
    assert not printed_events().exists()


# --- the page -----------------------------------------------------------------------------------


def test_index_lists_registers_by_year_and_previews_the_newest(client, agency, office):
    last_year = services.default_register(agency, RegisterKind.OUTGOING, TODAY.year - 1)
    client.force_login(office["clerk"])
    page = client.get(reverse("documents:registers"))
    assert page.status_code == 200
    assert [year for year, _registers in page.context["registers_by_year"]] == [TODAY.year, TODAY.year - 1]
    assert page.context["selected"] == office["out_register"]
    assert page.context["date_from"] == date(TODAY.year, 1, 1) and page.context["date_to"] == TODAY
    assert page.context["columns"] == printouts.register_columns(office["out_register"])
    html = page.content.decode()
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in html and "01/QĐ-SNV" in html and "UBND huyện Lạc Sơn" in html
    assert "&lt;tổng kết&gt; &amp; khen" in html
    assert print_url(office["out_register"], "pdf") in html
    # A past year's register defaults to the whole year.
    page = client.get(reverse("documents:registers"), {"register": last_year.pk})
    assert page.context["date_to"] == date(TODAY.year - 1, 12, 31) and page.context["total"] == 0
    assert not printed_events().exists()  # looking is not printing


def test_index_buttons_redirect_to_the_printout(client, office):
    client.force_login(office["clerk"])
    response = client.get(reverse("documents:registers"), {"register": office["in_register"].pk, "action": "xlsx",
                                                           "date_from": f"{TODAY.year}-01-01", "date_to": ""})
    assert response.status_code == 302
    assert response["Location"] == (
        f"{print_url(office['in_register'], 'xlsx')}?date_from={TODAY.year}-01-01&date_to={TODAY.isoformat()}"
    )


def test_index_without_registers_and_preview_limit(client, agency):
    client.force_login(clerk(AgencyFactory()))
    assert client.get(reverse("documents:registers")).context["registers_by_year"] == []

    register = services.default_register(agency, RegisterKind.OUTGOING, TODAY.year)
    _bulk_documents(register, clerk(agency), 205)
    client.force_login(clerk(agency))
    page = client.get(reverse("documents:registers"))
    assert page.context["total"] == 205 and len(page.context["rows"]) == 200


# --- builders -----------------------------------------------------------------------------------


def _bulk_documents(register: Register, user, count: int) -> list[Document]:
    """Many register lines at once (bypassing numbering) to exercise page breaks and speed."""
    kind = doc_type("cong-van")
    Document.objects.bulk_create(
        Document(direction="outgoing", agency=register.agency, register=register, document_type=kind,
                 register_number=n, code_number=f"{n:02d}", code_notation=f"{register.agency.abbreviation}-VP",
                 issued_date=TODAY, organ_name=register.agency.name, identifier=f"x{n}",
                 subject=f"V/v triển khai nhiệm vụ số {n} " + "về cải cách thủ tục hành chính " * (n % 4),
                 signer_name="Nguyễn Thị Hương", signer_position="Phó Giám đốc", authority_prefix="KT.",
                 created_by=user)
        for n in range(1, count + 1)
    )
    return list(Document.objects.filter(register=register).select_related("document_type", "drafting_unit")
                .prefetch_related("recipients").order_by("register_number"))


def test_long_register_repeats_headings_and_numbers_pages(agency):
    register = services.default_register(agency, RegisterKind.OUTGOING, TODAY.year)
    entries = _bulk_documents(register, clerk(agency), 120)
    pages = pdf_text(printouts.build_register_pdf(register, entries, None, None))
    assert len(pages) >= 4
    for number, text in enumerate(pages[1:], start=2):
        assert "Số, ký hiệu văn bản" in text and f"Trang {number}/{len(pages)}" in text
    assert "Từ số 01 đến số 120" in pages[0]
    assert "120/SNV-VP" in pages[-1]


def test_empty_register_and_filenames(agency):
    register = services.default_register(agency, RegisterKind.INCOMING, TODAY.year)
    cover = pdf_text(printouts.build_register_pdf(register, [], date(TODAY.year, 1, 1), date(TODAY.year, 1, 31)))[0]
    assert f"Từ ngày 01/01/{TODAY.year} đến ngày 31/01/{TODAY.year}" in cover and "Từ số …… đến số ……" in cover
    sheet = load_workbook(io.BytesIO(printouts.build_register_xlsx(register, [], None, None))).active
    assert data_rows(sheet)[1] == []

    assert printouts.register_filename(register, "xlsx") == f"so-van-ban-den-{TODAY.year}-SNV.xlsx"
    special = Register(agency=AgencyFactory(abbreviation="ĐHQG"), kind=RegisterKind.SECRET_OUTGOING,
                       year=2026, code="HĐ/TĐ", name="Sổ Hội đồng thi đua")
    assert printouts.register_filename(special, "pdf") == "so-van-ban-mat-di-HD-TD-2026-DHQG.pdf"


def test_a_row_taller_than_a_page_continues_on_the_next(agency):
    user = clerk(agency)
    places = [services.RecipientInput(name=f"Ủy ban nhân dân xã Thử Nghiệm số {i}") for i in range(150)]
    services.register_outgoing(user, outgoing(recipients=places, subject="Về việc rà soát " * 30))
    services.register_outgoing(user, outgoing(subject="Về việc khác"))
    register = Register.objects.get(agency=agency, kind=RegisterKind.OUTGOING)
    pages = pdf_text(printouts.build_register_pdf(register, register_entries(user, register, None, None), None, None))
    assert len(pages) > 3  # no LayoutError: the tall row is split between pages
    text = " ".join(pages)
    assert "Thử Nghiệm số 149" in text and "02/QĐ-SNV" in text
