"""Audit verbs of the records cycle."""

from django.utils.translation import gettext_lazy as _

RETENTION_SAVED = "records.retention_saved"
CATALOGUE_CREATED = "records.catalogue_created"
CATALOGUE_CHANGED = "records.catalogue_changed"
CATALOGUE_PUBLISHED = "records.catalogue_published"
FILE_OPENED = "records.file_opened"
FILE_CHANGED = "records.file_changed"
FILE_DOCUMENT_ADDED = "records.file_document_added"
FILE_DOCUMENT_REMOVED = "records.file_document_removed"
FILE_CLOSED = "records.file_closed"
FILE_REOPENED = "records.file_reopened"
TIMESTAMPS_REQUESTED = "records.timestamps_requested"
HOLD_BACK_REQUESTED = "records.hold_back_requested"
HOLD_BACK_DECIDED = "records.hold_back_decided"
TRANSFER_SUBMITTED = "records.transfer_submitted"
TRANSFER_RECEIVED = "records.transfer_received"
TRANSFER_RETURNED = "records.transfer_returned"
DISPOSITION_PROPOSED = "records.disposition_proposed"
DISPOSITION_DECIDED = "records.disposition_decided"
DISPOSITION_EXECUTED = "records.disposition_executed"
EXPORT_REQUESTED = "records.export_requested"
EXPORT_DOWNLOADED = "records.export_downloaded"
IMPORT_REQUESTED = "records.import_requested"
IMPORTED = "records.imported"
PRINTED = "records.printed"
FIXITY_FAILED = "records.fixity_failed"
FIXITY_RESTORED = "records.fixity_restored"  # a failed fixity check ended: the bytes are intact again
ARCHIVAL_TIMESTAMPED = "records.archival_timestamped"

LABELS = {
    RETENTION_SAVED: _("retention table changed"),
    CATALOGUE_CREATED: _("file catalogue created"),
    CATALOGUE_CHANGED: _("file catalogue changed"),
    CATALOGUE_PUBLISHED: _("file catalogue published"),
    FILE_OPENED: _("work file opened"),
    FILE_CHANGED: _("work file changed"),
    FILE_DOCUMENT_ADDED: _("document added to the work file"),
    FILE_DOCUMENT_REMOVED: _("document removed from the work file"),
    FILE_CLOSED: _("work file closed"),
    FILE_REOPENED: _("work file opened again"),
    TIMESTAMPS_REQUESTED: _("archival timestamps requested again"),
    HOLD_BACK_REQUESTED: _("keeping the file past its deadline requested"),
    HOLD_BACK_DECIDED: _("keeping the file past its deadline decided"),
    TRANSFER_SUBMITTED: _("files submitted to the archive"),
    TRANSFER_RECEIVED: _("files received by the archive"),
    TRANSFER_RETURNED: _("transfer returned to the unit"),
    DISPOSITION_PROPOSED: _("destruction proposed"),
    DISPOSITION_DECIDED: _("destruction decided"),
    DISPOSITION_EXECUTED: _("files destroyed"),
    EXPORT_REQUESTED: _("BagIt export requested"),
    EXPORT_DOWNLOADED: _("BagIt export downloaded"),
    IMPORT_REQUESTED: _("BagIt import requested"),
    IMPORTED: _("work file imported"),
    PRINTED: _("records list printed"),
    FIXITY_FAILED: _("stored file failed its fixity check"),
    FIXITY_RESTORED: _("stored file intact again after a failed fixity check"),
    ARCHIVAL_TIMESTAMPED: _("archival timestamp added"),
}
