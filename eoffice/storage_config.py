"""The `default` file storage from environment variables: Django's FileSystemStorage (the embedded default), or
an S3-compatible object store (MinIO, Ceph RGW, AWS S3, ...) through django-storages. See docs/deployment.md.

Blobs are content-addressed and checked against their SHA-256 on every read (documents/storage.py), so the
store only has to keep bytes; nothing is ever served from it directly (no public URLs, no ACLs needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"


def _verify(value: str) -> bool | str | None:
    """AWS_S3_VERIFY: empty = the system's CAs, "false" = no TLS check (tests only), else a CA bundle path."""
    if not value:
        return None
    return False if value.strip().lower() in {"0", "false", "no", "off"} else value


def default_storage(environ: Mapping[str, str], media_root: Path) -> dict:
    """The STORAGES["default"] entry. The access key and secret are not copied into settings: django-storages
    (boto3) reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment itself."""
    backend = environ.get("STORAGE_BACKEND", "") or FILESYSTEM
    if backend.endswith("FileSystemStorage"):
        return {"BACKEND": backend, "OPTIONS": {"location": str(media_root)}}
    if not backend.startswith("storages.backends.s3"):
        return {"BACKEND": backend, "OPTIONS": {}}
    endpoint = environ.get("AWS_S3_ENDPOINT_URL", "") or None
    return {
        "BACKEND": backend,
        "OPTIONS": {
            "bucket_name": environ.get("AWS_STORAGE_BUCKET_NAME", ""),
            "endpoint_url": endpoint,
            "region_name": environ.get("AWS_S3_REGION_NAME", "") or None,
            # Self-hosted stores (MinIO) answer on one host name, not one per bucket: path-style addressing.
            "addressing_style": environ.get("AWS_S3_ADDRESSING_STYLE", "") or ("path" if endpoint else None),
            "location": environ.get("AWS_LOCATION", ""),  # a key prefix, to share one bucket between installations
            "verify": _verify(environ.get("AWS_S3_VERIFY", "")),
            "signature_version": "s3v4",
            # Same name = same bytes (content addressing): a concurrent second write of a blob is harmless.
            "file_overwrite": True,
            "querystring_auth": False,  # files go through permission-checked views, never signed URLs
            # A read is spooled to a temporary file above this size instead of being held in memory.
            "max_memory_size": int(environ.get("AWS_S3_MAX_MEMORY_SIZE", "") or 16 * 1024 * 1024),
        },
    }
