"""BagIt export and import of a work file: a valid bag with the stored bytes untouched and the PL VI metadata,
a round trip into another agency, and refusals (damaged payload, unsafe paths, forged content) that create
nothing."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from datetime import date
from pathlib import Path

import bagit
import pytest
from defusedxml import ElementTree as SafeET
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from accounts import roles
from audit.models import AuditEvent
from documents import events, services
from documents import printouts as register_printouts
from documents.models import Document, DocumentFile, FileBlob, RegisterKind
from documents.storage import store_blob
from documents.uploads import PDF, checked_bytes
from records import bags
from records.models import (
    ArchivalTimestamp,
    BagExport,
    BagImport,
    JobState,
    WorkFile,
    WorkFileDocument,
    WorkFileState,
)
from signatures.models import FileVerification, SignatureCheck, VerificationState
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db

NS = {"h": bags.NS}
TITLE = "Hồ sơ về việc xây dựng Quy chế làm việc năm 2026 – Sở Nội vụ"
PDF_A = make_pdf(text="Quyết định ban hành Quy chế")
PDF_B = make_pdf(text="Phụ lục kèm theo Quy chế")
PDF_C = make_pdf(text="Công văn góp ý của Sở Tư pháp")
PDF_LTA = make_pdf(text="Bản lưu trữ dài hạn B-LTA")


@pytest.fixture(autouse=True)
def _english():
    """The refusals are matched on their English text (the suite's default language is Vietnamese)."""
    with translation.override("en"):
        yield


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def work_file() -> WorkFile:
    """A closed file of two documents: an outgoing decision with two files of the same name (one verified
    and timestamped) and an incoming letter registered before it but ordered second."""
    agency = AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV", identifier="H10.05")
    user = clerk(agency, full_name="Trần Thị Lưu")
    decision = services.register_outgoing(user, services.OutgoingInput(
        document_type_id=doc_type().pk, subject="Về việc ban hành Quy chế làm việc của Sở Nội vụ",
        signer_name="Bùi Văn Khánh", signer_position="Giám đốc", authority_prefix="KT.", page_amount=3,
        recipients=[services.RecipientInput(name="Văn phòng UBND tỉnh")],
    ), [upload("Quyết định.pdf", PDF_A), upload("Quyết định.pdf", PDF_B)])
    letter = services.register_incoming(user, services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Góp ý dự thảo Quy chế làm việc",
        organ_name="Sở Tư pháp tỉnh Hòa Bình", code_number="125", code_notation="STP-VP",
        issued_date=timezone.localdate(), to_places="Phòng Tổ chức cán bộ", page_amount=2,
    ), [upload("../../etc/cong van.pdf", PDF_C)])
    work_file = WorkFile.objects.create(
        agency=agency, year=2026, file_notation="01.TCCB", title=TITLE, retention_years=20, rights="Công khai",
        creator=user, start_date=date(2026, 1, 5), end_date=date(2026, 3, 1), doc_total=2, page_total=5,
        description="Ghi chú: đủ hồ sơ", state=WorkFileState.CLOSED,
    )
    WorkFileDocument.objects.create(work_file=work_file, document=decision, ordinal=1, added_by=user)
    WorkFileDocument.objects.create(work_file=work_file, document=letter, ordinal=2, added_by=user)
    main = decision.files.get(is_main=True)
    verification, _created = FileVerification.objects.update_or_create(blob=main.blob, defaults={
        "state": VerificationState.DONE, "verdict": "valid", "signature_count": 1, "verified_at": timezone.now()})
    SignatureCheck.objects.create(verification=verification, position=1, signer="Bùi Văn Khánh", verdict="valid",
                                  signing_time=timezone.now())
    lta_blob = store_blob(checked_bytes(PDF_LTA, "lta.pdf", PDF))
    ArchivalTimestamp.objects.create(document_file=main, blob=lta_blob, state="done", timestamped_at=timezone.now())
    return work_file


def _bag_dir(tmp_path: Path, work_file: WorkFile) -> Path:
    return bags.build_bag(work_file, tmp_path)


def test_export_is_a_valid_bag_with_untouched_bytes_and_pl_vi_metadata(work_file, tmp_path):
    bag_dir = _bag_dir(tmp_path, work_file)
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["External-Identifier"] == "H10.05.2026.01.TCCB"
    assert bag.info["Source-Organization"] == "Sở Nội vụ tỉnh Hòa Bình"
    assert bag.info["External-Description"] == TITLE
    assert "Payload-Oxum" in bag.info and "Bagging-Date" in bag.info
    data = bag_dir / "data"
    assert (data / "documents/001/Quyết định.pdf").read_bytes() == PDF_A
    assert (data / "documents/001/Quyết định (2).pdf").read_bytes() == PDF_B
    assert (data / "documents/001/Quyết định.lta.pdf").read_bytes() == PDF_LTA
    assert (data / "documents/002/cong van.pdf").read_bytes() == PDF_C  # the directory part is dropped
    assert (data / bags.INDEX_NAME).read_bytes().startswith(b"%PDF-")

    root = SafeET.parse(str(data / "hoso.xml")).getroot()
    assert root.findtext("h:FileCode/h:OrganId", namespaces=NS) == "H10.05"
    assert root.findtext("h:FileCode/h:FileCatalog", namespaces=NS) == "2026"
    assert root.findtext("h:FileCode/h:FileNotation", namespaces=NS) == "01.TCCB"
    assert root.findtext("h:Title", namespaces=NS) == TITLE
    assert root.find("h:Maintenance", NS).get("years") == "20"
    assert root.findtext("h:Maintenance", namespaces=NS) == "20 năm"
    assert root.findtext("h:Creator", namespaces=NS) == "Trần Thị Lưu"
    assert root.findtext("h:StartDate", namespaces=NS) == "2026-01-05"
    assert (root.findtext("h:DocTotal", namespaces=NS), root.findtext("h:PageTotal", namespaces=NS)) == ("2", "5")
    first, second = root.findall("h:Documents/h:Document", NS)
    assert first.findtext("h:DocOrdinal", namespaces=NS) == "1"
    assert first.findtext("h:Subject", namespaces=NS) == "Về việc ban hành Quy chế làm việc của Sở Nội vụ"
    assert first.findtext("h:SignerInfo/h:FullName", namespaces=NS) == "Bùi Văn Khánh"
    assert first.findtext("h:To/h:Recipient/h:OrganName", namespaces=NS) == "Văn phòng UBND tỉnh"
    main = first.find("h:Files/h:File", NS)
    assert main.findtext("h:Sha256", namespaces=NS) == hashlib.sha256(PDF_A).hexdigest()
    assert main.findtext("h:ContentType", namespaces=NS) == "application/pdf"
    assert main.find("h:SignatureVerification", NS).get("verdict") == "valid"
    assert main.findtext("h:SignatureVerification/h:Signature/h:Signer", namespaces=NS) == "Bùi Văn Khánh"
    assert main.findtext("h:ArchivalCopy/h:Path", namespaces=NS) == "documents/001/Quyết định.lta.pdf"
    assert second.get("direction") == "incoming"
    assert second.findtext("h:ArrivalNumber", namespaces=NS) == "1"
    assert second.findtext("h:ToPlaces", namespaces=NS) == "Phòng Tổ chức cán bộ"
    assert second.findtext("h:IssuedDate", namespaces=NS) == timezone.localdate().isoformat()


@pytest.mark.parametrize("name, expected", [
    ("../../x/Báo cáo.pdf", "Báo cáo.pdf"),
    ("..", "file"),
    ("a:b*c?.pdf", "a_b_c_.pdf"),
    ("CON.pdf", "_CON.pdf"),
    (".hidden\x07.pdf", "hidden.pdf"),
])
def test_file_names_are_sanitised(name, expected):
    assert bags.safe_file_name(name) == expected


def test_round_trip_into_another_agency_keeps_documents_order_and_hashes(work_file, tmp_path):
    zip_path = bags.build_bag_zip(work_file, tmp_path)
    blobs_before = FileBlob.objects.count()
    target = AgencyFactory(name="Lưu trữ lịch sử tỉnh")
    archivist = make_user(roles.ARCHIVIST, target)

    imported = bags.import_bag(zip_path, target, archivist)

    assert FileBlob.objects.count() == blobs_before  # content-addressed: the same bytes are stored once
    assert (imported.agency, imported.year, imported.file_notation, imported.title) == (target, 2026, "01.TCCB", TITLE)
    assert imported.state == WorkFileState.CLOSED and imported.retention_years == 20
    assert imported.imported_from == "Sở Nội vụ tỉnh Hòa Bình H10.05.2026.01.TCCB"
    assert (imported.doc_total, imported.page_total, imported.end_date) == (2, 5, date(2026, 3, 1))

    def shape(wf):
        return [
            (i.ordinal, i.document.code_number, i.document.code_notation, i.document.issued_date,
             i.document.organ_name, i.document.subject, i.document.direction,
             [(f.original_name, f.blob_id, f.is_main) for f in i.document.files.order_by("id")])
            for i in WorkFileDocument.objects.filter(work_file=wf).order_by("ordinal")
        ]

    assert shape(imported) == shape(work_file)
    copies = Document.objects.filter(agency=target)
    assert {d.register.kind for d in copies} == {RegisterKind.IMPORTED}
    assert sorted(d.register_number for d in copies) == [1, 2]
    verbs = AuditEvent.objects.filter(agency_id=target.pk).values_list("verb", flat=True)
    assert sorted(set(verbs)) == [events.DOCUMENT_FILE_ATTACHED, events.DOCUMENT_IMPORTED]
    lta = ArchivalTimestamp.objects.get(document_file__document__agency=target)
    assert lta.blob_id == hashlib.sha256(PDF_LTA).hexdigest() and lta.state == "done"

    # The new register kind prints like the others (its own title and file name).
    register = copies.first().register
    entries = list(Document.objects.filter(register=register).order_by("register_number"))
    assert register_printouts.build_register_pdf(register, entries, None, None).startswith(b"%PDF-")
    assert register_printouts.build_register_xlsx(register, entries, None, None)[:2] == b"PK"
    assert register_printouts.register_filename(register, "pdf").startswith("so-van-ban-ho-so-tiep-nhan-")

    with pytest.raises(bags.BagRefused, match="already exists"):
        bags.import_bag(zip_path, target, archivist)


def _rewrite_zip(source: Path, target: Path, change) -> Path:
    """Copy a ZIP entry by entry, letting `change(name, data)` alter (or drop, with None) each entry."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                out.writestr(info.filename, data)
    return target


def _nothing_created(documents_before: int) -> None:
    assert WorkFile.objects.filter(imported_from__gt="").count() == 0
    assert Document.objects.count() == documents_before


def test_damaged_bag_is_refused_naming_the_file_and_creates_nothing(work_file, tmp_path):
    zip_path = bags.build_bag_zip(work_file, tmp_path)

    def flip_one_byte(name: str, data: bytes) -> bytes:
        if name.endswith("documents/002/cong van.pdf"):
            return data[:100] + bytes([data[100] ^ 1]) + data[101:]
        return data

    damaged = _rewrite_zip(zip_path, tmp_path / "damaged.zip", flip_one_byte)
    target = AgencyFactory()
    documents_before = Document.objects.count()
    with pytest.raises(bags.BagRefused) as refused:
        bags.import_bag(damaged, target, make_user(roles.ARCHIVIST, target))
    assert refused.value.files == ["data/documents/002/cong van.pdf"]
    assert "documents/002/cong van.pdf" in str(refused.value)
    _nothing_created(documents_before)


@pytest.mark.parametrize("entry", ["../evil.pdf", "/etc/evil.pdf", "bag/data/../../evil.pdf", "C:/evil.pdf"])
def test_unsafe_paths_are_refused(tmp_path, entry):
    zip_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("bag/bagit.txt", "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n")
        archive.writestr(entry, b"%PDF-1.4 %%EOF")
    with pytest.raises(bags.BagRefused, match="unsafe path"):
        bags.unpack_bag(zip_path, tmp_path / "out")
    assert not (tmp_path / "evil.pdf").exists()


def test_symlinks_and_bombs_are_refused(tmp_path, settings):
    link = zipfile.ZipInfo("bag/data/link.pdf")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as archive:
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(bags.BagRefused, match="symbolic link"):
        bags.unpack_bag(tmp_path / "link.zip", tmp_path / "out1")

    settings.RECORDS_BAG_MAX_BYTES = 1000
    with zipfile.ZipFile(tmp_path / "big.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bag/data/big.txt", b"0123456789" * 200)
    with pytest.raises(bags.BagRefused, match="expand"):
        bags.unpack_bag(tmp_path / "big.zip", tmp_path / "out2")
    settings.RECORDS_BAG_MAX_FILES = 1
    with pytest.raises(bags.BagRefused, match="too many"):
        bags.unpack_bag(_two_entries(tmp_path / "two.zip"), tmp_path / "out3")


def _two_entries(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "a")
        archive.writestr("b.txt", "b")
    return path


FORGED = b"MZ\x90\x00" + b"\x00" * 200


def _forge_program(bag_dir: Path) -> None:
    (bag_dir / "data/documents/002/cong van.pdf").write_bytes(FORGED)
    _edit_xml(bag_dir, hashlib.sha256(PDF_C).hexdigest(), hashlib.sha256(FORGED).hexdigest())


def _edit_xml(bag_dir: Path, old: str, new: str) -> None:
    xml_path = bag_dir / "data/hoso.xml"
    xml_path.write_text(xml_path.read_text("utf-8").replace(old, new), "utf-8")


@pytest.mark.parametrize("forge, refusal", [
    (_forge_program, "cong van.pdf"),  # an executable renamed .pdf: the content checks of uploads apply
    (lambda bag_dir: _edit_xml(bag_dir, 'code="cong-van"', 'code="khong-co"'), "Document 2 .*document_type"),
    (lambda bag_dir: _edit_xml(bag_dir, "<CodeNumber>125</CodeNumber>", ""), "Document 2 .*code_number"),
])
def test_bag_with_valid_manifests_but_refused_content_creates_nothing(work_file, tmp_path, forge, refusal):
    """The manifests are right (the sender re-made them), but what they describe is refused."""
    bag_dir = _bag_dir(tmp_path, work_file)
    forge(bag_dir)
    bag = bagit.Bag(str(bag_dir))
    bag.save(manifests=True)
    bag.validate()
    zip_path = bags.zip_bag(bag_dir, tmp_path / "forged.zip")
    target = AgencyFactory()
    documents_before = Document.objects.count()
    with pytest.raises(bags.BagRefused, match=refusal):
        bags.import_bag(zip_path, target, make_user(roles.ARCHIVIST, target))
    _nothing_created(documents_before)
    assert not AuditEvent.objects.filter(agency_id=target.pk).exists()


def test_jobs_record_their_outcome_and_are_idempotent(work_file, tmp_path):
    export = BagExport.objects.create(work_file=work_file, requested_by=work_file.creator)
    bags.run_export(export)
    export.refresh_from_db()
    assert export.state == JobState.DONE and export.size == export.file.size and export.file.name.endswith(".zip")
    first_name = export.file.name
    bags.run_export(export)
    export.refresh_from_db()
    assert export.file.name == first_name  # done: not built again

    target = AgencyFactory()
    archivist = make_user(roles.ARCHIVIST, target)
    with export.file.open("rb") as handle:
        good = handle.read()
    job = BagImport.objects.create(agency=target, requested_by=archivist, original_name="hoso.zip",
                                   upload=ContentFile(good, name="hoso.zip"))
    seen = []
    bags.run_import(job, on_created=seen.append)
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.work_file == seen[0] and job.work_file.agency == target
    bags.run_import(job)  # done: returns at once
    assert WorkFile.objects.filter(agency=target).count() == 1

    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("../x.pdf", b"%PDF-")
    failed = BagImport.objects.create(agency=AgencyFactory(), requested_by=archivist, original_name="x.zip",
                                      upload=ContentFile(bad.getvalue(), name="x.zip"))
    bags.run_import(failed)
    failed.refresh_from_db()
    assert failed.state == JobState.FAILED and "../x.pdf" in failed.error and failed.work_file is None


def test_damaged_stored_blob_refuses_the_export(work_file):
    from django.core.files.storage import default_storage

    doc_file = DocumentFile.objects.get(document__work_file_items__work_file=work_file, is_main=False)
    name = doc_file.blob.storage_name
    with default_storage.open(name, "rb") as handle:
        original = handle.read()
    default_storage.delete(name)
    default_storage.save(name, ContentFile(b"%PDF-1.4 altered %%EOF"))
    try:
        export = BagExport.objects.create(work_file=work_file, requested_by=work_file.creator)
        bags.run_export(export)
    finally:  # the test storage is shared by the whole run: put the bytes back
        default_storage.delete(name)
        default_storage.save(name, ContentFile(original))
    export.refresh_from_db()
    assert export.state == JobState.FAILED and "Quyết định (2).pdf" in export.error and not export.file
