"""Handing a stored file of a document to a person, the same way on every page and API that does it (the
document's own pages, the exchange's delivery pages): the bytes checked against their SHA-256 first, the
opening recorded (audited for confidential documents), and the response sandboxed so a file is never run as a
page of ours."""

from __future__ import annotations

from django.http import FileResponse

from .models import Document, DocumentFile
from .services import record_file_opened
from .storage import open_verified

SANDBOX = "default-src 'none'; sandbox"


def file_response(user, document: Document, doc_file: DocumentFile, *, via: str, inline: bool = False) -> FileResponse:
    """The file as a response. Raises documents.storage.IntegrityFailure (bytes that do not match their hash) or
    OSError (missing from storage) before anything is recorded: the caller answers 409 its own way."""
    handle = open_verified(doc_file.blob)
    try:
        record_file_opened(user, document, doc_file, via=via)
    except BaseException:
        handle.close()
        raise
    response = FileResponse(handle, as_attachment=not inline, filename=doc_file.original_name,
                            content_type=doc_file.blob.content_type)
    response["Content-Security-Policy"] = SANDBOX
    return response
