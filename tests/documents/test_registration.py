"""Registering outgoing and incoming documents: numbering, notation, identifier, audit, refusals."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import roles
from audit.models import AuditEvent
from documents import events, services
from documents.models import Confidentiality, Direction, Document, DocumentFile, RegisterKind
from documents.uploads import UploadRejected
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db

MINIMAL_PDF = make_pdf(pages=1)


def pdf_upload(name: str = "qd.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def outgoing(**overrides) -> services.OutgoingInput:
    values = {"document_type_id": doc_type().pk, "subject": "Về việc phê duyệt kế hoạch năm", "signer_name": "Bùi Văn Khánh",
              "signer_position": "Chủ tịch", "authority_prefix": "TM."}
    values.update(overrides)
    return services.OutgoingInput(**values)


def test_outgoing_gets_number_notation_identifier_and_audit_event():
    agency = AgencyFactory(abbreviation="UBND", identifier="H10.01")
    user = clerk(agency)
    document = services.register_outgoing(user, outgoing())
    today = timezone.localdate()
    assert document.direction == Direction.OUTGOING
    assert document.register.kind == RegisterKind.OUTGOING and document.register.year == today.year
    assert document.code_number == "01" and document.code_notation == "QĐ-UBND"
    assert document.number_notation == "01/QĐ-UBND"
    assert document.identifier == f"H10.01,{today:%Y/%m/%d},01/QĐ-UBND"
    second = services.register_outgoing(user, outgoing())
    assert second.code_number == "02"
    verbs = list(AuditEvent.objects.filter(target_id=str(document.pk)).values_list("verb", flat=True))
    assert verbs == [events.DOCUMENT_REGISTERED_OUTGOING]


def test_cong_van_notation_uses_agency_and_drafting_unit():
    agency = AgencyFactory(abbreviation="UBND")
    unit = UnitFactory(agency=agency, abbreviation="VP")
    document = services.register_outgoing(clerk(agency), outgoing(document_type_id=doc_type("cong-van").pk, drafting_unit_id=unit.pk))
    assert document.number_notation == "01/UBND-VP"


def test_secret_documents_use_their_own_series_and_are_granted_to_the_clerk():
    agency = AgencyFactory()
    user = clerk(agency)
    services.register_outgoing(user, outgoing())
    secret = services.register_outgoing(user, outgoing(confidentiality=Confidentiality.SECRET))
    assert secret.register.kind == RegisterKind.SECRET_OUTGOING
    assert secret.code_number == "01"
    assert user.has_perm("documents.view_document", secret)


def test_staff_cannot_register():
    agency = AgencyFactory()
    with pytest.raises(PermissionDenied):
        services.register_outgoing(make_user(roles.STAFF, agency), outgoing())
    assert Document.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_rejected_file_leaves_nothing_behind():
    agency = AgencyFactory()
    bad = SimpleUploadedFile("note.pdf", b"just some text, not a pdf", content_type="application/pdf")
    with pytest.raises(UploadRejected):
        services.register_outgoing(clerk(agency), outgoing(), [pdf_upload(), bad])
    assert Document.objects.count() == 0 and DocumentFile.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    # the number was not consumed
    assert services.register_outgoing(clerk(agency), outgoing()).code_number == "01"


def test_files_are_content_addressed_and_extracted_after_commit(django_capture_on_commit_callbacks):
    agency = AgencyFactory()
    with django_capture_on_commit_callbacks(execute=True):
        document = services.register_outgoing(clerk(agency), outgoing(), [pdf_upload(), pdf_upload("copy.pdf")])
    files = list(document.files.all())
    assert len(files) == 2 and files[0].blob_id == files[1].blob_id  # stored once
    assert all(f.extraction_status == "done" and f.page_count == 1 for f in files)
    document.refresh_from_db()
    assert document.page_amount == 1
    verbs = list(AuditEvent.objects.filter(target_id=str(document.pk)).order_by("id").values_list("verb", flat=True))
    assert verbs == [events.DOCUMENT_REGISTERED_OUTGOING, events.DOCUMENT_FILE_ATTACHED, events.DOCUMENT_FILE_ATTACHED,
                     events.DOCUMENT_FILE_PROCESSED, events.DOCUMENT_FILE_PROCESSED]


def incoming(**overrides) -> services.IncomingInput:
    values = {"document_type_id": doc_type("cong-van").pk, "subject": "Về việc báo cáo số liệu", "organ_name": "Bộ Nội vụ",
              "code_number": "05", "code_notation": "BNV-VP", "issued_date": timezone.localdate()}
    values.update(overrides)
    return services.IncomingInput(**values)


def test_incoming_gets_arrival_number_and_duplicates_are_warned():
    agency = AgencyFactory()
    user = clerk(agency)
    first = services.register_incoming(user, incoming())
    assert first.direction == Direction.INCOMING and first.arrival_number == 1
    assert first.arrival_date == timezone.localdate()
    with pytest.raises(services.DuplicateDocument) as caught:
        services.register_incoming(user, incoming(organ_name="bộ nội vụ ", code_notation="bnv-vp"))
    assert caught.value.duplicates == [first]
    confirmed = services.register_incoming(user, incoming(), confirm_duplicate=True)
    assert confirmed.arrival_number == 2
    assert AuditEvent.objects.get(target_id=str(confirmed.pk)).data["duplicate_of"] == [first.pk]


def test_incoming_duplicate_by_identifier():
    agency = AgencyFactory()
    user = clerk(agency)
    services.register_incoming(user, incoming(identifier="000.00.01.H10,2026/01/05,05/BNV-VP"))
    with pytest.raises(services.DuplicateDocument):
        services.register_incoming(user, incoming(identifier="000.00.01.H10,2026/01/05,05/BNV-VP", code_number="99"))


def test_incoming_refuses_future_arrival_and_missing_fields():
    user = clerk(AgencyFactory())
    with pytest.raises(ValidationError) as caught:
        services.register_incoming(user, incoming(arrival_date=timezone.localdate() + timedelta(days=1), organ_name=""))
    assert set(caught.value.message_dict) == {"arrival_date", "organ_name"}


def test_register_of_another_agency_is_refused():
    user = clerk(AgencyFactory())
    foreign = services.default_register(AgencyFactory(), RegisterKind.OUTGOING, timezone.localdate().year)
    with pytest.raises(ValidationError):
        services.register_outgoing(user, outgoing(register_id=foreign.pk))


def test_numbers_restart_each_year():
    agency = AgencyFactory()
    last_year = services.default_register(agency, RegisterKind.OUTGOING, timezone.localdate().year - 1)
    last_year.last_number = 812
    last_year.save()
    assert services.register_outgoing(clerk(agency), outgoing()).code_number == "01"


def test_upload_stream_helper_accepts_real_pdf():
    from documents.uploads import check_upload

    checked = check_upload(io.BytesIO(MINIMAL_PDF))
    assert checked.content_type == "application/pdf" and len(checked.sha256) == 64
