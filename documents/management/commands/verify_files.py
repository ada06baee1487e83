"""`manage.py verify_files`: read every stored blob back through the verified reader and report the damaged
(bytes no longer hash to their SHA-256), the missing and the unreadable ones. After a restore it proves, with
`verify_audit`, that the database and the file store were restored from matching backups."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from documents.models import DocumentFile, FileBlob
from documents.storage import IntegrityFailure, read_blob_chunks

DAMAGED, MISSING, UNREADABLE = "damaged", "missing", "unreadable"


def check_blob(blob: FileBlob) -> tuple[str, str] | None:
    """None when the stored bytes are all there and hash to the blob's name; else (problem, detail). Streams:
    a large file is never held in memory whole (with an S3 store, django-storages spools it to disk)."""
    size = 0
    try:
        for chunk in read_blob_chunks(blob, chunk_size=1024 * 1024):
            size += len(chunk)
    except IntegrityFailure:
        return DAMAGED, f"{size} bytes read ({blob.size} recorded), SHA-256 does not match"
    except FileNotFoundError:
        return MISSING, f"no object {blob.storage_name} in the file store"
    except Exception as exc:  # noqa: BLE001 - storage back-ends raise many kinds (OSError, botocore errors)
        return UNREADABLE, f"{type(exc).__name__}: {exc}"
    return None


def used_by(blob: FileBlob, limit: int = 5) -> str:
    """Which documents use the blob, so whoever restores knows what is affected."""
    uses = list(
        DocumentFile.objects.filter(blob=blob).select_related("document").order_by("pk")[:limit]
    )
    if not uses:
        return ""
    names = ", ".join(f"document {use.document_id} ({use.original_name})" for use in uses)
    return f"; used by {names}" + (" ..." if len(uses) == limit else "")


class Command(BaseCommand):
    help = ("Re-read every stored file, check it against its SHA-256 and report damaged, missing or unreadable "
            "ones (exit status 1 if any).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--prefix", default="", help="only blobs whose SHA-256 starts with this (hex)")

    def handle(self, *args, prefix: str, verbosity: int, **options) -> None:
        blobs = FileBlob.objects.order_by("sha256")
        if prefix:
            blobs = blobs.filter(sha256__startswith=prefix.lower())
        checked = total_bytes = 0
        problems: list[str] = []
        for blob in blobs.iterator(chunk_size=500):
            checked += 1
            total_bytes += blob.size
            problem = check_blob(blob)
            if problem is not None:
                kind, detail = problem
                line = f"{kind.upper()}: {blob.sha256} ({detail}){used_by(blob)}"
                problems.append(line)
                self.stderr.write(line)
            if verbosity >= 2 and checked % 1000 == 0:
                self.stdout.write(f"{checked} files checked ...")
        if not problems:
            self.stdout.write(self.style.SUCCESS(f"All {checked} stored files intact ({total_bytes} bytes checked)."))
            return
        raise CommandError(f"{len(problems)} of {checked} stored files damaged, missing or unreadable. "
                           + "; ".join(problems[:20]) + (" ..." if len(problems) > 20 else ""))
