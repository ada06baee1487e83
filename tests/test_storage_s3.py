"""Files on an S3-compatible object store through django-storages, configured from the environment as in
production (eoffice/storage_config.py). The store is moto's standalone S3 server on a loopback port (MinIO is
packaged neither by Debian nor on PyPI here): a document's file is stored content-addressed through
documents/storage.py, read back verified, and a tampered or lost object is caught by the verified reader, the
download API (409) and `manage.py verify_files`."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from documents import services
from documents.storage import IntegrityFailure, open_verified, read_blob
from eoffice.storage_config import S3, default_storage
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf

BUCKET = "eoffice-files"
PREFIX = "hoabinh"
PDF = make_pdf(pages=2, text="Quyết định lưu trên kho đối tượng")


def test_environment_selects_filesystem_or_s3(tmp_path):
    assert default_storage({}, tmp_path) == {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                             "OPTIONS": {"location": str(tmp_path)}}
    s3 = default_storage({"STORAGE_BACKEND": S3, "AWS_S3_ENDPOINT_URL": "https://minio.example:9000",
                          "AWS_STORAGE_BUCKET_NAME": BUCKET, "AWS_S3_REGION_NAME": "vn-north-1",
                          "AWS_S3_VERIFY": "/etc/ssl/private-ca.pem"}, tmp_path)
    options = s3["OPTIONS"]
    assert s3["BACKEND"] == S3 and options["bucket_name"] == BUCKET
    assert options["endpoint_url"] == "https://minio.example:9000" and options["region_name"] == "vn-north-1"
    assert options["addressing_style"] == "path" and options["verify"] == "/etc/ssl/private-ca.pem"
    assert "access_key" not in options and "secret_key" not in options  # boto3 reads them from the environment


@pytest.fixture(scope="module")
def moto_endpoint():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        reason = f"moto[server] is not installed ({exc}): .venv/bin/pip install -r requirements-dev.txt"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(moto_endpoint, settings, monkeypatch, tmp_path):
    """The project's `default` storage switched to the S3 server, exactly as the settings build it."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "eoffice-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "eoffice-test-secret")
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                          aws_access_key_id="eoffice-test", aws_secret_access_key="eoffice-test-secret")
    client.create_bucket(Bucket=BUCKET)
    environ = {"STORAGE_BACKEND": S3, "AWS_S3_ENDPOINT_URL": moto_endpoint, "AWS_STORAGE_BUCKET_NAME": BUCKET,
               "AWS_S3_REGION_NAME": "us-east-1", "AWS_LOCATION": PREFIX}
    settings.STORAGES = {**settings.STORAGES, "default": default_storage(environ, tmp_path / "unused")}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def verify_files() -> tuple[str, str]:
    err = io.StringIO()
    try:
        call_command("verify_files", stdout=io.StringIO(), stderr=err)
    except CommandError as failure:
        return str(failure), err.getvalue()
    return "", err.getvalue()


@pytest.mark.django_db
def test_document_file_on_s3_is_stored_by_hash_read_verified_and_tampering_is_caught(s3_store):
    from django.core.files.storage import storages
    from storages.backends.s3 import S3Storage

    assert isinstance(storages["default"], S3Storage)
    agency = AgencyFactory()
    user = clerk(agency)
    document = services.register_outgoing(
        user, services.OutgoingInput(document_type_id=doc_type().pk, subject="Về việc lưu trữ tệp trên S3"),
        [SimpleUploadedFile("qd.pdf", PDF, content_type="application/pdf")],
    )
    doc_file = document.files.select_related("blob").get()
    blob = doc_file.blob

    # Stored once, under its hash, inside the installation's prefix of the bucket: nothing on local disk.
    key = f"{PREFIX}/blobs/{blob.sha256[:2]}/{blob.sha256[2:4]}/{blob.sha256}"
    assert [item["Key"] for item in s3_store.list_objects_v2(Bucket=BUCKET)["Contents"]] == [key]
    assert s3_store.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PDF

    # Read back through the verified reader and the download API.
    assert read_blob(blob) == PDF
    with open_verified(blob) as handle:
        assert handle.read() == PDF
    api = APIClient()
    api.force_authenticate(user)
    url = f"/api/v1/documents/{document.pk}/files/{doc_file.pk}/download/"
    response = api.get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert verify_files() == ("", "")

    # Someone with write access to the bucket changes one byte: every reader refuses it.
    tampered = bytearray(PDF)
    tampered[len(tampered) // 2] ^= 0x01
    s3_store.put_object(Bucket=BUCKET, Key=key, Body=bytes(tampered))
    with pytest.raises(IntegrityFailure):
        read_blob(blob)
    with pytest.raises(IntegrityFailure):
        open_verified(blob)
    assert api.get(url).status_code == 409
    message, err = verify_files()
    assert "1 of 1 stored files" in message and f"DAMAGED: {blob.sha256}" in err and "qd.pdf" in err

    # A lost object is reported as missing, not as damaged.
    s3_store.delete_object(Bucket=BUCKET, Key=key)
    message, err = verify_files()
    assert f"MISSING: {blob.sha256}" in err and blob.storage_name in err
