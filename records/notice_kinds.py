"""The kinds of notice records tells (eoffice.notices), imported once from RecordsConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from eoffice.notices import register_kind

TRANSFER_DUE = "records.transfer_due"
HOLD_BACK_REQUESTED = "records.hold_back_requested"
HOLD_BACK_DECIDED = "records.hold_back_decided"
TRANSFER_SUBMITTED = "records.transfer_submitted"
TRANSFER_DECIDED = "records.transfer_decided"
DISPOSITION_PROPOSED = "records.disposition_proposed"
DISPOSITION_DECIDED = "records.disposition_decided"
FIXITY_FAILED = "records.fixity_failed"

register_kind(TRANSFER_DUE, _("A work file is due for transfer to the archive"),
              _("The work file %(file)s \"%(title)s\" must be transferred to the agency archive by %(date)s "
                "(in %(days)s days)."))
register_kind(HOLD_BACK_REQUESTED, _("A unit asks to keep a file past its transfer deadline"),
              _("%(actor)s asks to keep the work file %(file)s \"%(title)s\" in the unit until %(date)s."))
register_kind(HOLD_BACK_DECIDED, _("A request to keep a file was decided"),
              _("Keeping the work file %(file)s in the unit until %(date)s: %(decision)s."),
              choices={"decision": {"approved": _("approved"), "refused": _("refused")}})
register_kind(TRANSFER_SUBMITTED, _("Files were submitted to the agency archive"),
              _("%(actor)s submitted %(count)s work file(s) of %(unit)s to the agency archive."))
register_kind(TRANSFER_DECIDED, _("A transfer to the archive was received or returned"),
              _("The transfer of %(count)s work file(s) submitted on %(date)s was %(decision)s by the archive."),
              choices={"decision": {"received": _("received"), "returned": _("returned")}})
register_kind(DISPOSITION_PROPOSED, _("Files are proposed for destruction"),
              _("%(actor)s proposes %(count)s work file(s) whose retention has ended for destruction."))
register_kind(DISPOSITION_DECIDED, _("A destruction proposal was decided"),
              _("The destruction proposal of %(date)s was decided: %(destroy)s file(s) to destroy, %(keep)s kept "
                "longer."))
register_kind(FIXITY_FAILED, _("A stored file failed its fixity check"),
              _("The fixity check found %(count)s stored file(s) altered or missing, first in %(where)s. Restore "
                "them from the backup."))
