"""Roles are Django groups with model permissions; this module is their single definition."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

STAFF = "Staff"
UNIT_LEADER = "Unit leader"
AGENCY_LEADER = "Agency leader"
CLERK = "Clerk"
ARCHIVIST = "Archivist"
ADMINISTRATOR = "Administrator"

ROLE_LABELS = {
    STAFF: _("Staff"),
    UNIT_LEADER: _("Unit leader"),
    AGENCY_LEADER: _("Agency leader"),
    CLERK: _("Clerk"),
    ARCHIVIST: _("Archivist"),
    ADMINISTRATOR: _("Administrator"),
}

_READ = ["documents.view_document", "documents.view_documentfile"]

# "app_label.codename" permissions per role. Seeing a document also depends on agency scope,
# object grants and confidentiality (documents.selectors.visible_documents).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    STAFF: _READ,
    UNIT_LEADER: _READ,
    AGENCY_LEADER: _READ,
    ARCHIVIST: _READ + [
        "documents.view_register",
        "records.manage_records",
        "records.view_retentionperiod", "records.add_retentionperiod", "records.change_retentionperiod",
    ],
    CLERK: _READ
    + [
        "documents.register_outgoing",
        "documents.register_incoming",
        "documents.add_documentfile",
        "documents.view_register",
        "documents.print_register",
    ],
    ADMINISTRATOR: _READ
    + [
        "accounts.view_agency", "accounts.add_agency", "accounts.change_agency",
        "accounts.view_unit", "accounts.add_unit", "accounts.change_unit",
        "accounts.view_user", "accounts.add_user", "accounts.change_user",
        "accounts.view_delegation", "accounts.add_delegation", "accounts.change_delegation",
        "documents.view_register", "documents.add_register", "documents.change_register",
        "documents.view_documenttype", "documents.change_documenttype",
        "audit.view_auditevent",
        "workflows.view_reviewchain", "workflows.add_reviewchain", "workflows.change_reviewchain",
        "workflows.view_reviewstep", "workflows.add_reviewstep", "workflows.change_reviewstep",
        "signatures.view_signingcredential", "signatures.add_signingcredential",
        "signatures.change_signingcredential",
        "signatures.view_trustanchor",
        "exchange.view_delivery", "exchange.view_statustrace",
        "records.manage_records",
        "records.view_retentionperiod", "records.add_retentionperiod", "records.change_retentionperiod",
    ],
}


def sync_role_groups(sender=None, **kwargs) -> None:
    """Create the role groups and give them exactly their permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
