#!/usr/bin/env python
"""BagIt export benchmark: seconds to package a work file of N documents (one small PDF each) as a zipped bag
(records/bags.py: every blob copied and checked against its hash, hoso.xml, the document index PDF, SHA-256
manifests by bagit, then the ZIP), beside what a user would do by hand in the same run: copy the same files
out of storage into a folder and `shutil.make_archive` it (and `zip -r` when the tool is installed); then the
import of that bag into another agency (unpack, bagit validation, one transaction creating the file).

    .venv/bin/python bench/bagit_export.py                   # 500 documents, 5 timed rounds
    .venv/bin/python bench/bagit_export.py --documents 100 --repeat 5

Needs PostgreSQL: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/eoffice_bench_bagit; dropped and
created again, the name must contain "bench"). Files go to a temporary MEDIA_ROOT, removed at the end. Rows are
made with bulk_create (documents, files, the work file's items), the blobs through documents.storage.store_blob.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/eoffice_bench_bagit"


def fill(count: int):
    """An agency, a clerk and a closed work file of `count` outgoing documents with one distinct PDF each."""
    from datetime import date

    from accounts.models import Agency, User
    from documents.models import Direction, Document, DocumentFile, DocumentType, RegisterKind
    from documents.services import default_register
    from documents.storage import store_blob
    from documents.uploads import PDF, checked_bytes
    from records.models import WorkFile, WorkFileDocument, WorkFileState
    from tests.factories import make_pdf

    agency = Agency.objects.create(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV", identifier="H10.05")
    target = Agency.objects.create(name="Trung tâm Lưu trữ lịch sử tỉnh", abbreviation="TTLT", identifier="H10.99")
    user = User.objects.create(username="bench-clerk", full_name="Trần Thị Lưu", agency=agency)
    archivist = User.objects.create(username="bench-archivist", full_name="Lê Văn Kho", agency=target)
    document_type = DocumentType.objects.get(code="quyet-dinh")
    register = default_register(agency, RegisterKind.OUTGOING, 2026)
    template = make_pdf(text="Quyết định số {n} về việc phê duyệt kế hoạch công tác năm 2026")
    documents, blobs = [], []
    for n in range(1, count + 1):
        # One distinct small PDF per document (a comment line after the header changes the hash).
        content = template.replace(b"\n", f"\n% bench document {n}\n".encode(), 1)
        blobs.append(store_blob(checked_bytes(content, f"Quyết định {n:03d}.pdf", PDF)))
        documents.append(Document(
            direction=Direction.OUTGOING, agency=agency, register=register, document_type=document_type,
            code_number=f"{n:02d}", code_notation="QĐ-SNV", issued_date=date(2026, 1 + n % 12, 1 + n % 28),
            organ_name=agency.name, organ_id=agency.organ_id, identifier=f"H10.05,2026/01/01,{n:02d}/QĐ-SNV",
            subject=f"Về việc phê duyệt kế hoạch công tác số {n} của các phòng chuyên môn", page_amount=1,
            signer_name="Bùi Văn Khánh", signer_position="Giám đốc", register_number=n, created_by=user,
        ))
    Document.objects.bulk_create(documents)
    DocumentFile.objects.bulk_create(
        DocumentFile(document=d, blob=b, original_name=f"Quyết định {i:03d}.pdf", is_main=True, uploaded_by=user,
                     page_count=1)
        for i, (d, b) in enumerate(zip(documents, blobs, strict=True), start=1)
    )
    work_file = WorkFile.objects.create(
        agency=agency, year=2026, file_notation="01.TCCB", title="Hồ sơ kế hoạch công tác năm 2026",
        retention_years=20, creator=user, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31),
        doc_total=count, page_total=count, state=WorkFileState.CLOSED,
    )
    WorkFileDocument.objects.bulk_create(
        WorkFileDocument(work_file=work_file, document=d, ordinal=i, added_by=user)
        for i, d in enumerate(documents, start=1)
    )
    return work_file, target, archivist


def naive_export(work_file, folder: Path) -> Path:
    """What a user would do by hand: copy each document's file out of storage into a folder, zip it."""
    from django.core.files.storage import default_storage

    from records.models import WorkFileDocument

    plain = folder / "plain"
    plain.mkdir()
    items = WorkFileDocument.objects.filter(work_file=work_file).order_by("ordinal").prefetch_related(
        "document__files__blob")
    for item in items:
        for doc_file in item.document.files.all():
            with default_storage.open(doc_file.blob.storage_name, "rb") as src, \
                    open(plain / f"{item.ordinal:03d} {doc_file.original_name}", "wb") as out:
                shutil.copyfileobj(src, out)
    return Path(shutil.make_archive(str(folder / "plain"), "zip", plain))


def zip_r(folder: Path) -> Path:
    """`zip -r -q` of the plain copy (the copy made by naive_export): the archive step alone."""
    target = folder / "plain-zip-r.zip"
    subprocess.run(["zip", "-r", "-q", str(target), "plain"], cwd=folder, check=True)
    return target


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    database_url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE)
    import dj_database_url

    if "bench" not in dj_database_url.parse(database_url)["NAME"]:
        sys.exit(f"Refusing to drop {database_url!r}: this bench only recreates a database named *bench*.")
    sys.path.insert(0, str(ROOT / "bench"))
    import registry  # noqa: F401 - its import sets the settings defaults the benches share

    registry.ensure_database(database_url, drop=True)
    media = Path(tempfile.mkdtemp(prefix="eoffice-bagit-bench-"))
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ["STORAGE_BACKEND"] = ""  # the file system in MEDIA_ROOT
    # Follow-up tasks (text extraction, signature checks) are queued, not run inside the measured import: in
    # production they run in the workers after the commit.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"

    import django

    django.setup()
    from django.core.management import call_command

    from records import bags

    call_command("migrate", verbosity=0)
    try:
        started = time.perf_counter()
        work_file, target, archivist = fill(args.documents)
        print(f"setup: {args.documents} documents, one PDF each, in {time.perf_counter() - started:.1f} s "
              f"(PostgreSQL {database_url.rsplit('/', 1)[-1]}, media in {media})")
        scratch = media / "scratch"
        scratch.mkdir()
        bag_path = folder = naive_path = None

        def bag_zip():
            out = Path(tempfile.mkdtemp(dir=scratch))
            return bags.build_bag_zip(work_file, out)

        def bag_folder():
            out = Path(tempfile.mkdtemp(dir=scratch))
            return bags.build_bag(work_file, out)

        def naive():
            out = Path(tempfile.mkdtemp(dir=scratch))
            return naive_export(work_file, out)

        bag_zip()  # warm-up: imports, fonts of the index PDF
        # One run of each per round, so that load from elsewhere on the host hits all of them alike.
        runs: dict[str, list[float]] = {"bag": [], "folder": [], "naive": []}
        for _ in range(args.repeat):
            for key, function in (("bag", bag_zip), ("folder", bag_folder), ("naive", naive)):
                started = time.perf_counter()
                result = function()
                runs[key].append(time.perf_counter() - started)
                bag_path, folder, naive_path = (result, folder, naive_path) if key == "bag" else \
                    (bag_path, result, naive_path) if key == "folder" else (bag_path, folder, result)
        bag_seconds, folder_seconds, naive_seconds = (statistics.median(runs[k]) for k in ("bag", "folder", "naive"))
        payload = sum(p.stat().st_size for p in (folder / "data").rglob("*") if p.is_file())
        print(f"\n{'export of one work file (' + str(args.documents) + ' documents)':52s} {'s (median)':>10s} "
              f"{'ZIP MB':>8s}")
        print(f"  {'BagIt bag, zipped (records.bags.build_bag_zip)':50s} {bag_seconds:10.2f} "
              f"{bag_path.stat().st_size / 1e6:8.2f}")
        print(f"  {'  of which the bag folder (build_bag)':50s} {folder_seconds:10.2f}")
        print(f"  {'naive: copy out of storage + shutil.make_archive':50s} {naive_seconds:10.2f} "
              f"{naive_path.stat().st_size / 1e6:8.2f}")
        if shutil.which("zip"):
            zip_seconds, zip_path = timed(lambda: zip_r(naive_path.parent), 1)
            print(f"  {'  zip -r of that plain copy alone':50s} {zip_seconds:10.2f} "
                  f"{zip_path.stat().st_size / 1e6:8.2f}")
        print(f"  payload {payload / 1e6:.2f} MB in {args.documents + 2} files; "
              f"ratio bag / naive = {bag_seconds / naive_seconds:.1f}x "
              f"({(bag_seconds - naive_seconds) * 1000 / args.documents:.1f} ms more per document)")

        started = time.perf_counter()
        with tempfile.TemporaryDirectory(dir=scratch) as unpacked:
            bag_dir = bags.unpack_bag(bag_path, unpacked)
            unpack_seconds = time.perf_counter() - started
            bags.validate_bag(bag_dir)
            validate_seconds = time.perf_counter() - started - unpack_seconds
        started = time.perf_counter()
        imported = bags.import_bag(bag_path, target, archivist)
        import_seconds = time.perf_counter() - started
        assert imported.items.count() == args.documents
        print(f"\n{'import of that bag into another agency':52s} {'s':>10s}")
        print(f"  {'unpack (safe extraction)':50s} {unpack_seconds:10.2f}")
        print(f"  {'bagit validation (every SHA-256)':50s} {validate_seconds:10.2f}")
        print(f"  {'import_bag in all (unpack, validate, one transaction)':50s} {import_seconds:10.2f}")
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
