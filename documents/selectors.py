"""Read queries of the registry. `visible_documents` is the only way to list documents: the web list,
the API, exports and register printouts all start from it, so one rule decides who sees what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from accounts.roles import AGENCY_LEADER

from . import (
    events,
    lookups,  # noqa: F401 - registers the any_of lookup
)
from .models import (
    Confidentiality,
    Document,
    DocumentGroupObjectPermission,
    DocumentUserObjectPermission,
    Register,
)
from .text import normalize_vietnamese

_VIEW_PERMISSION_ID: int | None = None


def forget_permission_ids(**_kwargs) -> None:
    """Permission rows are re-created after a flush (tests) or a migration: drop the cached id."""
    global _VIEW_PERMISSION_ID
    _VIEW_PERMISSION_ID = None


def view_permission_id() -> int:
    """Id of documents.view_document, looked up once per process (it never changes)."""
    global _VIEW_PERMISSION_ID
    if _VIEW_PERMISSION_ID is None:
        _VIEW_PERMISSION_ID = Permission.objects.only("id").get(
            content_type__app_label="documents", codename="view_document"
        ).id
    return _VIEW_PERMISSION_ID


def visible_documents(user) -> QuerySet[Document]:
    """Documents `user` may see: (user grants ∪ group grants ∪ non-secret documents of the user's
    own agency), as one query whose grant sets are permitted-id subqueries.

    Why not guardian's `get_objects_for_user`: its generic text `object_pk` join made Paperless-ngx
    lists take seconds; these are direct foreign-key tables joined on integers, and the grant sets are
    tested with `id = ANY(ARRAY(subquery))` (documents/lookups.py) so PostgreSQL reads them once and
    combines them with the agency index. Secret documents are never in agency scope: only people (or
    groups) explicitly granted see them. The agency scope also needs the role permission
    `documents.view_document`, so a person with no role sees only grants.

    The role permission is asked for directly (`_has_view_role`, one small query for a person with a
    role) where `user.has_perm` would load all of the person's permissions with two, on a request that
    needs no other permission (the API's list).
    """
    if not user.is_authenticated or not user.is_active:
        return Document.objects.none()
    perm_id = view_permission_id()
    memberships = get_user_model().groups.through.objects.filter(user_id=user.pk).values("group_id")
    user_grants = DocumentUserObjectPermission.objects.filter(user_id=user.pk, permission_id=perm_id)
    group_grants = DocumentGroupObjectPermission.objects.filter(group_id__in=memberships, permission_id=perm_id)
    permitted = Q(id__any_of=user_grants.values("content_object_id")) | Q(
        id__any_of=group_grants.values("content_object_id")
    )
    if user.agency_id and _has_view_role(user, perm_id):
        permitted |= Q(agency_id=user.agency_id, confidentiality=Confidentiality.NORMAL)
    return Document.objects.filter(permitted)


def audit_target_filter(user) -> Q:
    """For the audit trail (audit.selectors, registered in DocumentsConfig.ready): the events of a secret or
    top-secret document only for someone who may see that document (visible_documents); the events of
    ordinary documents pass, the audit log's agency scope decides on them. Written as "not one of the secret
    documents kept from the person", a set as small as the secret documents, and compared on the text of the
    id, as AuditEvent.target_id is a string column."""
    kept_from_user = Document.objects.exclude(confidentiality=Confidentiality.NORMAL).exclude(
        pk__in=visible_documents(user).values("pk")
    )
    return ~Q(target_id__in=kept_from_user.annotate(pk_text=Cast("pk", CharField())).values("pk_text"))


def _has_view_role(user, perm_id: int) -> bool:
    """`user.has_perm("documents.view_document")` for an active user, asked directly.

    When this request has already loaded the person's permissions (web pages do, for their menu),
    has_perm answers from Django's per-request cache. Otherwise the tables Django's ModelBackend reads
    are asked for this one permission, through the person's roles (groups) first, the usual way to hold
    it, then given to the person: one small query for a person with a role, where has_perm would load
    every permission with two joins. guardian's backend, the project's other one, answers only for
    objects, so the answer is the same."""
    if user.is_superuser or hasattr(user, "_perm_cache"):  # _perm_cache: ModelBackend's, once loaded
        return user.has_perm("documents.view_document")
    user_model = get_user_model()
    return (
        Group.permissions.through.objects.filter(group__user=user.pk, permission_id=perm_id).exists()
        or user_model.user_permissions.through.objects.filter(user_id=user.pk, permission_id=perm_id).exists()
    )


def document_list(
    user,
    *,
    direction: str | None = None,
    document_type_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    urgency: int | None = None,
    confidentiality: int | None = None,
    register_id: int | None = None,
    text: str | None = None,
) -> QuerySet[Document]:
    """The filtered list shown by the UI and the API (same filters, same permission rule)."""
    documents = visible_documents(user)
    if direction:
        documents = documents.filter(direction=direction)
    if document_type_id:
        documents = documents.filter(document_type_id=document_type_id)
    if date_from:
        documents = documents.filter(issued_date__gte=date_from)
    if date_to:
        documents = documents.filter(issued_date__lte=date_to)
    if urgency is not None:
        documents = documents.filter(urgency=urgency)
    if confidentiality is not None:
        documents = documents.filter(confidentiality=confidentiality)
    if register_id:
        documents = documents.filter(register_id=register_id)
    if text and (needle := normalize_vietnamese(text)):
        documents = documents.filter(search_text__contains=needle)
    return documents.select_related("document_type", "agency", "register").order_by("-urgency", "-created_at", "-id")


def registers_for(user) -> QuerySet[Register]:
    """Registers a person may open: those of their own agency, given the role permission."""
    if not user.is_authenticated or not user.agency_id or not user.has_perm("documents.view_register"):
        return Register.objects.none()
    return Register.objects.filter(agency_id=user.agency_id).select_related("agency")


def register_entries(user, register: Register, date_from: date | None, date_to: date | None) -> QuerySet[Document]:
    """The rows of a register printout: the register's documents the person may see, in number order."""
    entries = visible_documents(user).filter(register=register)
    field = "arrival_date" if register.is_incoming else "issued_date"
    if date_from:
        entries = entries.filter(**{f"{field}__gte": date_from})
    if date_to:
        entries = entries.filter(**{f"{field}__lte": date_to})
    return (
        entries.select_related("document_type", "drafting_unit", "created_by")
        .prefetch_related("recipients")
        .order_by("register_number")
    )


def find_duplicates(
    *,
    agency_id: int,
    identifier: str = "",
    code_number: str = "",
    code_notation: str = "",
    organ_name: str = "",
    issued_year: int | None = None,
) -> QuerySet[Document]:
    """Documents of the agency with the same identifier, or the same number + notation + issuing body
    (PL VI duplicate warning). Numbers restart every year, so with `issued_year` the number match is
    limited to documents of that year."""
    match = Q()
    if identifier:
        match |= Q(identifier=identifier)
    if code_number and organ_name:
        same_number = Q(
            code_number__iexact=code_number.strip(),
            code_notation__iexact=code_notation.strip(),
            organ_name__iexact=organ_name.strip(),
        )
        if issued_year:
            same_number &= Q(issued_date__year=issued_year)
        match |= same_number
    if not match:
        return Document.objects.none()
    return Document.objects.filter(match, agency_id=agency_id).order_by("-created_at")



@dataclass
class TimelineEntry:
    at: datetime
    who: str
    what: str
    detail: str = ""


def actor_label(event) -> str:
    """Who acted, by name and position: events written before names were recorded hold the username, which
    is then replaced by the person's name and position (select_related("actor") to read it)."""
    if event.actor_id and event.actor is not None and event.actor_name == event.actor.get_username():
        return event.actor.name_and_position
    return event.actor_name


def document_timeline(document: Document) -> list[TimelineEntry]:
    """The processing history of a document, oldest first: every audited change (registered, directed,
    assigned, commented, forwarded, signed ...) and each person's first opening, with how often they
    opened it since. Two queries. Shown only to those who found the document through visible_documents,
    which is the audit trail's rule for a document's events (audit_target_filter)."""
    from audit.models import AuditEvent
    from audit.templatetags.audit_tags import verb_label

    entries = [
        TimelineEntry(at=event.created_at, who=actor_label(event), what=verb_label(event.verb),
                      detail=_event_detail(event.data))
        for event in AuditEvent.objects.filter(target_type="documents.document", target_id=str(document.pk))
        .exclude(verb=events.DOCUMENT_FILE_OPENED).select_related("actor")  # who opened a confidential file: file_openings, not for all
    ]
    for opening in document.openings.select_related("user"):
        detail = ngettext("opened %(times)d time, last on %(last)s", "opened %(times)d times, last on %(last)s",
                          opening.times) % {
            "times": opening.times, "last": formats.date_format(timezone.localtime(opening.last_opened_at),
                                                                "SHORT_DATETIME_FORMAT")}
        entries.append(TimelineEntry(at=opening.first_opened_at, who=opening.user.name_and_position, what=gettext("Opened"),
                                     detail=detail))
    entries.sort(key=lambda entry: entry.at)
    return entries


@dataclass(frozen=True)
class FileOpening:
    at: datetime
    name: str
    position: str
    file: str
    via: str


def may_see_file_openings(user, document: Document) -> bool:
    """Who reads the list of people who opened a confidential document's files: those of the owning agency
    who see the document (the caller found it through visible_documents) and either keep its registers (a
    clerk: registers incoming or outgoing documents, the people who share it) or lead the agency (the
    Agency leader role). Not the other readers, not other agencies' people it was shared with, and not
    administrators as such (they read the events in the audit log, under its own rules)."""
    if not (user.is_authenticated and user.is_active and user.agency_id == document.agency_id):
        return False
    if user.has_perm("documents.register_incoming") or user.has_perm("documents.register_outgoing"):
        return True
    return user.groups.filter(name=AGENCY_LEADER).exists()


def file_openings(document: Document) -> list[FileOpening]:
    """Every opening or download of the document's files that was audited (confidential documents), newest
    first: the person's name and position, the time, the file and how (preview, download, API)."""
    from audit.models import AuditEvent

    rows = (AuditEvent.objects.filter(target_type="documents.document", target_id=str(document.pk),
                                      verb=events.DOCUMENT_FILE_OPENED)
            .select_related("actor").order_by("-created_at", "-id"))
    return [
        FileOpening(at=event.created_at, name=str(event.actor) if event.actor else event.actor_name,
                    position=getattr(event.actor, "position", "") or "", file=str(event.data.get("file", "")),
                    via=str(event.data.get("via", "")))
        for event in rows
    ]


def _event_detail(data: dict) -> str:
    """What an event says beyond its verb: the authority prefix, to whom, and its free text."""
    parts = [str(data["authority_prefix"])] if data.get("authority_prefix") else []
    for key in ("leader", "assignee", "to"):
        if data.get(key):
            parts.append(f"→ {data[key]}")
    for key in ("instruction", "comment", "reason", "note", "outcome", "name"):
        if data.get(key):
            parts.append(str(data[key]))
            break
    return " ".join(parts)
