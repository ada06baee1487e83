"""Receivers that keep the index in step (search.indexing): Django's model signals of the apps below, so none
of them imports search."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from documents.models import Document, DocumentFile, DocumentRecipient
from records.models import WorkFile
from signatures.models import FileVerification
from workflows.drafting import Draft
from workflows.models import Assignment, IncomingCase

from . import indexing
from .backends import backend
from .models import SearchEntry


@receiver(post_save, sender=Document, dispatch_uid="search.document")
def _document_saved(sender, instance: Document, raw=False, **kwargs) -> None:
    if not raw:
        indexing.document_changed(instance.pk)


@receiver(post_save, sender=DocumentRecipient, dispatch_uid="search.recipient_saved")
@receiver(post_delete, sender=DocumentRecipient, dispatch_uid="search.recipient_deleted")
def _recipient_changed(sender, instance: DocumentRecipient, raw=False, **kwargs) -> None:
    if not raw and Document.objects.filter(pk=instance.document_id).exists():
        indexing.document_changed(instance.document_id)


@receiver(post_save, sender=DocumentFile, dispatch_uid="search.file")
def _file_saved(sender, instance: DocumentFile, raw=False, **kwargs) -> None:
    if not raw:
        indexing.document_changed(instance.document_id, files=True)


@receiver(post_save, sender=IncomingCase, dispatch_uid="search.case")
def _case_saved(sender, instance: IncomingCase, raw=False, **kwargs) -> None:
    if not raw:
        indexing.document_changed(instance.document_id)


@receiver(post_save, sender=Assignment, dispatch_uid="search.assignment")
def _assignment_saved(sender, instance: Assignment, raw=False, created=False, **kwargs) -> None:
    # Only the lead unit is indexed: a new lead target, or a lead moved to another unit.
    if not raw and instance.role == "lead" and (created or kwargs.get("update_fields") is None
                                                or "unit" in (kwargs.get("update_fields") or ())):
        document_id = IncomingCase.objects.filter(pk=instance.case_id).values_list("document_id", flat=True).first()
        if document_id:
            indexing.document_changed(document_id)


@receiver(post_save, sender=FileVerification, dispatch_uid="search.verification")
def _verification_saved(sender, instance: FileVerification, raw=False, **kwargs) -> None:
    if not raw:
        for document_id in set(DocumentFile.objects.filter(blob_id=instance.blob_id)
                               .values_list("document_id", flat=True)):
            indexing.document_changed(document_id)


@receiver(post_save, sender=Draft, dispatch_uid="search.draft")
def _draft_saved(sender, instance: Draft, raw=False, **kwargs) -> None:
    if not raw:
        indexing.draft_changed(instance.pk)


@receiver(post_save, sender=WorkFile, dispatch_uid="search.work_file")
def _work_file_saved(sender, instance: WorkFile, raw=False, update_fields=None, **kwargs) -> None:
    # Closing, transfer and the like save other fields: the words are only written again when theirs change.
    if not raw and (update_fields is None or set(update_fields) & indexing.WORK_FILE_WORD_FIELDS):
        indexing.index_work_file(instance)


@receiver(post_delete, sender=SearchEntry, dispatch_uid="search.entry_deleted")
def _entry_deleted(sender, instance: SearchEntry, **kwargs) -> None:
    backend().delete([instance.pk])
