"""Content-addressed file storage through Django's storage API (filesystem or S3-compatible)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from django.core.files import File
from django.core.files.storage import default_storage

from .models import FileBlob
from .uploads import CheckedUpload


class IntegrityFailure(Exception):
    """Stored bytes no longer match their SHA-256: the file was altered or damaged at rest."""


class ContentDestroyed(IntegrityFailure):
    """The bytes were removed by an approved disposition (records/): not damage, a recorded destruction."""


def remove_destroyed_bytes(blob: FileBlob) -> bool:
    """Delete the bytes of a blob a disposition marked destroyed (`FileBlob.destroyed_at`, set in the
    disposition's transaction; records/ calls this after the commit, so a rolled-back disposition never loses
    content). Idempotent; returns whether bytes were there to remove."""
    if blob.destroyed_at is None:
        raise ValueError(f"blob {blob.sha256} is not marked destroyed")
    if not default_storage.exists(blob.storage_name):
        return False
    default_storage.delete(blob.storage_name)
    return True


def blob_storage_name(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def store_blob(checked: CheckedUpload) -> FileBlob:
    """Write the bytes once under their hash (a second upload of the same content reuses them)."""
    existing = FileBlob.objects.filter(sha256=checked.sha256).first()
    if existing is not None and default_storage.exists(existing.storage_name):
        return existing
    name = blob_storage_name(checked.sha256)
    if not default_storage.exists(name):
        checked.file.seek(0)
        saved_name = default_storage.save(name, File(checked.file, name=name))
        if saved_name != name:  # a concurrent writer won: the content is the same by construction
            default_storage.delete(saved_name)
    if existing is not None:
        return existing
    # One statement whoever wins a race: the same content gives the same row (and the same field values).
    blob = FileBlob(sha256=checked.sha256, size=checked.size, content_type=checked.content_type, storage_name=name)
    FileBlob.objects.bulk_create([blob], ignore_conflicts=True)
    return blob


def read_blob_chunks(blob: FileBlob, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """Yield the blob's bytes, raising IntegrityFailure at the end if they do not hash to its name."""
    if blob.destroyed_at is not None:
        raise ContentDestroyed(blob.sha256)
    digest = hashlib.sha256()
    with default_storage.open(blob.storage_name, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            yield chunk
    if digest.hexdigest() != blob.sha256:
        raise IntegrityFailure(blob.sha256)


def read_blob(blob: FileBlob) -> bytes:
    """All bytes of a blob, verified before they are returned."""
    data = b"".join(read_blob_chunks(blob))
    return data


def open_verified(blob: FileBlob):
    """Check the stored bytes against the hash, then return a fresh handle to serve them."""
    for _chunk in read_blob_chunks(blob, chunk_size=1024 * 1024):
        pass
    return default_storage.open(blob.storage_name, "rb")
