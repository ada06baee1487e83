#!/usr/bin/env python
"""Fixity benchmark: how fast `records.fixity.check_batch` re-hashes stored files, against `sha256sum` on the
same files in the same run; and the seconds to export a 500-document work file as a BagIt package.

    .venv/bin/python bench/fixity.py                # 2 GB of blobs, 500-document BagIt export
    .venv/bin/python bench/fixity.py --gb 0.5       # smaller
    .venv/bin/python bench/fixity.py --help

The blobs are random bytes of mixed sizes (log-uniform from 256 KB to 16 MB, seeded), written once into
`var/bench-fixity-media/blobs/..` under their SHA-256 like the real storage does, and reused by later runs
(a manifest lists them; `--rewrite` writes them again). Their FileBlob rows go into the database
`eoffice_bench_fixity` (FIXITY_BENCH_DATABASE_URL; created and migrated when missing, never dropped).

The page cache: the files are read from it in every timed run (the host has far more memory than 2 GB and the
files were just written or read). Each tool runs three times, alternating, and the best run is reported
(all three are printed): this compares the hashing paths, not the disk. Dropping the cache needs root.

`check_batch` is timed end to end (selecting the due blobs, hashing through Django's default storage,
writing the FixityRecord rows) and for its hashing loop alone; `sha256sum` is one process over all files.
The BagIt export (`records.bags.build_bag_zip`) registers 500 incoming documents with a one-page PDF each
into one work file on the first run (through `documents.services.register_incoming`, about a minute).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/eoffice_bench_fixity"
os.environ["DATABASE_URL"] = os.environ.get("FIXITY_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
BENCH_MEDIA = Path(os.environ.get("FIXITY_BENCH_MEDIA", ROOT / "var" / "bench-fixity-media"))
os.environ["MEDIA_ROOT"] = str(BENCH_MEDIA)
os.environ["STORAGE_BACKEND"] = ""
os.environ["CELERY_BROKER_URL"] = "memory://"  # registering documents only publishes (nothing is extracted)
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")

MANIFEST = BENCH_MEDIA / "bench-fixity-manifest.json"
MIN_SIZE, MAX_SIZE = 256 * 1024, 16 * 1024 * 1024
BAG_DOCUMENTS = 500
BAG_FILE_NOTATION = "99.BENCH"


def blob_path(sha256: str) -> Path:
    return BENCH_MEDIA / "blobs" / sha256[:2] / sha256[2:4] / sha256


def write_blobs(total_bytes: int, rewrite: bool) -> list[tuple[str, int]]:
    """The (sha256, size) of the bench's blobs: reused when the manifest matches the size asked for."""
    if MANIFEST.exists() and not rewrite:
        manifest = json.loads(MANIFEST.read_text())
        blobs = [(sha, size) for sha, size in manifest["blobs"]]
        if manifest["total"] == total_bytes and all(blob_path(sha).is_file() for sha, _size in blobs):
            print(f"Reusing {len(blobs)} blobs ({total_bytes / 1e9:.2f} GB) in {BENCH_MEDIA}")
            return blobs
    shutil.rmtree(BENCH_MEDIA / "blobs", ignore_errors=True)
    rng = random.Random(2026)
    blobs, written = [], 0
    started = time.perf_counter()
    while written < total_bytes:
        size = min(int(math.exp(rng.uniform(math.log(MIN_SIZE), math.log(MAX_SIZE)))), total_bytes - written)
        content = os.urandom(size)
        sha = hashlib.sha256(content).hexdigest()
        path = blob_path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        blobs.append((sha, size))
        written += size
    MANIFEST.write_text(json.dumps({"total": total_bytes, "blobs": blobs}))
    print(f"Wrote {len(blobs)} blobs ({written / 1e9:.2f} GB) in {time.perf_counter() - started:.1f} s")
    return blobs


def setup_django() -> None:
    import dj_database_url
    import django
    import registry  # the bench database helper

    url = os.environ["DATABASE_URL"]
    if "bench" not in dj_database_url.parse(url)["NAME"]:
        sys.exit(f"Refusing to use {url!r}: the fixity bench only uses a database named *bench*.")
    registry.ensure_database(url, drop=False)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def register_rows(blobs: list[tuple[str, int]]) -> None:
    """FileBlob rows for the bench's blobs; the ones of earlier runs with other sizes are removed (with their
    fixity records), so a batch over "every blob" is exactly these files."""
    from documents.models import FileBlob
    from documents.storage import blob_storage_name
    from records.models import FixityRecord

    shas = {sha for sha, _size in blobs}
    stale = FileBlob.objects.filter(content_type="application/octet-stream").exclude(sha256__in=shas)
    FixityRecord.objects.filter(blob__in=stale).delete()
    stale.delete()
    FileBlob.objects.bulk_create(
        [FileBlob(sha256=sha, size=size, content_type="application/octet-stream", storage_name=blob_storage_name(sha))
         for sha, size in blobs], ignore_conflicts=True)


def park_other_blobs() -> None:
    """Give every other blob (the BagIt fill's PDFs) a fixity record dated far ahead, so the timed batches
    (least recently checked first) take exactly the bench's blobs."""
    from datetime import timedelta

    from django.utils import timezone

    from documents.models import FileBlob
    from records.models import FixityRecord

    later = timezone.now() + timedelta(days=3650)
    others = FileBlob.objects.exclude(content_type="application/octet-stream").values_list("sha256", flat=True)
    FixityRecord.objects.bulk_create([FixityRecord(blob_id=sha, status="ok", checked_at=later) for sha in others],
                                     update_conflicts=True, unique_fields=["blob"], update_fields=["checked_at"])


def time_check_batch(blobs: list[tuple[str, int]]) -> tuple[float, float, int]:
    """(seconds end to end, seconds hashing, bytes) of one check_batch over the bench's blobs."""
    from records import fixity
    from records.models import FixityRecord

    FixityRecord.objects.filter(blob__content_type="application/octet-stream").delete()  # all due again
    started = time.perf_counter()
    summary = fixity.check_batch(max_blobs=len(blobs), max_bytes=2**62)
    elapsed = time.perf_counter() - started
    if summary.checked != len(blobs) or summary.ok != len(blobs):
        sys.exit(f"check_batch checked {summary.checked}, {summary.ok} intact, of {len(blobs)} blobs")
    return elapsed, summary.seconds, summary.bytes


def time_sha256sum(blobs: list[tuple[str, int]]) -> float:
    paths = [str(blob_path(sha)) for sha, _size in blobs]
    started = time.perf_counter()
    output = subprocess.run(["sha256sum", *paths], check=True, capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - started
    found = {line.split()[0] for line in output.splitlines()}
    if found != {sha for sha, _size in blobs}:
        sys.exit("sha256sum disagrees with the blobs' names")
    return elapsed


def bag_work_file():
    """A work file of BAG_DOCUMENTS registered incoming documents (made once, reused)."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.utils import override_settings

    from accounts import roles
    from accounts.models import Agency, AgencyKind
    from documents import services as documents_services
    from documents.models import DocumentType
    from records.models import WorkFile, WorkFileDocument
    from tests.factories import make_pdf

    existing = WorkFile.objects.filter(file_notation=BAG_FILE_NOTATION).first()
    if existing is not None and existing.items.count() == BAG_DOCUMENTS:
        return existing
    agency, _created = Agency.objects.get_or_create(
        identifier="H10.99", defaults={"name": "Sở Lưu trữ (bench)", "abbreviation": "SLT",
                                       "kind": AgencyKind.PROVINCE_BODY, "place_name": "Hòa Bình"})
    user_model = get_user_model()
    clerk, created = user_model.objects.get_or_create(username="vanthu.fixity",
                                                      defaults={"full_name": "Văn thư", "agency": agency})
    if created:
        clerk.groups.add(Group.objects.get(name=roles.CLERK))
        clerk = user_model.objects.get(pk=clerk.pk)
    WorkFileDocument.objects.filter(work_file__file_notation=BAG_FILE_NOTATION).delete()
    WorkFile.objects.filter(file_notation=BAG_FILE_NOTATION).delete()
    work_file = WorkFile.objects.create(agency=agency, year=2026, file_notation=BAG_FILE_NOTATION,
                                        title="Công văn đến năm 2026 (bench)", creator=clerk,
                                        start_date=date(2026, 1, 2))
    doc_type = DocumentType.objects.get(code="cong-van")
    started = time.perf_counter()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        for number in range(1, BAG_DOCUMENTS + 1):
            data = documents_services.IncomingInput(
                document_type_id=doc_type.pk, subject=f"Về việc báo cáo số liệu lưu trữ {number}",
                organ_name="Bộ Nội vụ", code_number=str(number), code_notation="BNV-VTLTNN",
                issued_date=date(2026, 3, 1))
            pdf = make_pdf(1, f"Công văn {number}/BNV-VTLTNN")
            document = documents_services.register_incoming(
                clerk, data, [SimpleUploadedFile(f"cv-{number}.pdf", pdf, "application/pdf")])
            WorkFileDocument.objects.create(work_file=work_file, document=document, ordinal=number, added_by=clerk)
    print(f"Registered {BAG_DOCUMENTS} documents for the BagIt export in {time.perf_counter() - started:.0f} s")
    return work_file


def time_bag_export(repeat: int) -> list[float]:
    from records import bags

    work_file = bag_work_file()
    times = []
    for _round in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="eoffice-bench-bag-"))
        try:
            started = time.perf_counter()
            zip_path = bags.build_bag_zip(work_file, folder)
            times.append(time.perf_counter() - started)
            size = Path(zip_path).stat().st_size
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"  package: {size / 1e6:.1f} MB")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=2.0, help="total size of the blobs (GB, 10^9 bytes)")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each tool (alternating)")
    parser.add_argument("--rewrite", action="store_true", help="write the blobs again even if present")
    parser.add_argument("--bag-repeat", type=int, default=3, help="timed BagIt exports (0: skip)")
    args = parser.parse_args()

    logging.getLogger("bagit").setLevel(logging.WARNING)  # a line per payload file otherwise
    total = int(args.gb * 1e9)
    blobs = write_blobs(total, args.rewrite)
    setup_django()
    register_rows(blobs)
    park_other_blobs()
    mb = total / 1e6
    print(f"\n{len(blobs)} files, {mb:,.0f} MB; page cache warm-up: one sha256sum pass (untimed)")
    time_sha256sum(blobs)
    ours, hashing, theirs = [], [], []
    for _round in range(args.rounds):
        end_to_end, loop, checked_bytes = time_check_batch(blobs)
        assert checked_bytes == total
        ours.append(end_to_end)
        hashing.append(loop)
        theirs.append(time_sha256sum(blobs))
    print("\n| run | check_batch end to end | its hashing loop | sha256sum |")
    print("|---|---|---|---|")
    for index, (a, b, c) in enumerate(zip(ours, hashing, theirs, strict=True), start=1):
        print(f"| {index} | {a:.2f} s = {mb / a:,.0f} MB/s | {b:.2f} s = {mb / b:,.0f} MB/s "
              f"| {c:.2f} s = {mb / c:,.0f} MB/s |")
    best_ours, best_theirs = min(ours), min(theirs)
    print(f"\nBest: check_batch {mb / best_ours:,.0f} MB/s, sha256sum {mb / best_theirs:,.0f} MB/s, "
          f"ratio {best_theirs / best_ours:.2f} (target >= 0.8)")
    if args.bag_repeat:
        print(f"\nBagIt export of a {BAG_DOCUMENTS}-document work file (records.bags.build_bag_zip):")
        times = time_bag_export(args.bag_repeat)
        print("  seconds: " + ", ".join(f"{t:.2f}" for t in times) + f" (best {min(times):.2f})")


if __name__ == "__main__":
    main()
