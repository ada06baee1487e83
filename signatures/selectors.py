"""Read queries of the signatures app."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from documents.models import DocumentFile
from documents.selectors import visible_documents

from . import hooks
from .models import CredentialKind, SigningCredential, SigningRequest

# The verification page and endpoint check an upload in the request; bigger files are refused.
MAX_VERIFY_BYTES = 50 * 1024 * 1024


def visible_signing_requests(user) -> QuerySet[SigningRequest]:
    """Requests for the subjects this person may see, each subject type's owner deciding which (through
    its subscriber's single visibility rule: for drafts, `drafts_for`)."""
    condition = Q(pk__in=[])
    if user.is_authenticated:
        for subject_type, subscriber in hooks.subscribed_types().items():
            condition |= Q(subject_type=subject_type, subject_id__in=subscriber.visible_subjects(user))
    return SigningRequest.objects.filter(condition).select_related("credential", "requested_by", "document")


def requests_for_subject(subject_type: str, subject_id: int) -> QuerySet[SigningRequest]:
    """Every request made for one subject, oldest first (the caller has checked it may show the subject)."""
    return (SigningRequest.objects.filter(subject_type=subject_type, subject_id=subject_id)
            .select_related("credential", "requested_by", "document").order_by("id"))


def must_have_second_factor(user) -> bool:
    """Registered with accounts.two_factor: whoever holds an active personal signing certificate, and the
    clerks who seal (documents.register_outgoing) for an agency with an active seal certificate."""
    if SigningCredential.objects.filter(kind=CredentialKind.PERSONAL, user_id=user.pk, is_active=True).exists():
        return True
    return bool(user.agency_id and user.has_perm("documents.register_outgoing") and SigningCredential.objects.filter(
        kind=CredentialKind.SEAL, agency_id=user.agency_id, is_active=True).exists())


def visible_stored_file(user, document_id: int, sha256: str):
    """The file `sha256` of document `document_id` (its blob and the blob's verification loaded), when this
    person may see the document; None otherwise, whether or not the document or the content exists."""
    if not user.is_authenticated:
        return None
    return (DocumentFile.objects.filter(document__in=visible_documents(user).filter(pk=document_id), blob_id=sha256)
            .select_related("blob", "blob__verification").order_by("-is_main", "pk").first())
