"""Every state change of the registry. Each function takes the acting user, checks permission,
writes its audit events in the same transaction and enqueues follow-up work on commit."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Agency, AuthorityPrefix, Unit
from accounts.selectors import may_administer
from audit.services import record_event

from . import events
from .models import (
    Confidentiality,
    Direction,
    Document,
    DocumentFile,
    DocumentOpening,
    DocumentRecipient,
    DocumentType,
    FileBlob,
    Register,
    RegisterKind,
    Urgency,
)
from .processing import enqueue_extraction
from .selectors import find_duplicates
from .signals import document_issued
from .storage import store_blob
from .text import normalize_vietnamese
from .uploads import PDF, CheckedUpload, check_upload, checked_bytes


class DuplicateDocument(Exception):
    """A document with the same identifier, or number + notation + issuing body, exists already."""

    def __init__(self, duplicates: list[Document]):
        self.duplicates = duplicates
        super().__init__(_("A document with the same number, notation and issuing body is already registered."))


@dataclass
class RecipientInput:
    agency_id: int | None = None
    name: str = ""
    unit_id: int | None = None
    """A unit of the issuing agency: for internal documents (delivered to the unit's leaders)."""


@dataclass
class OutgoingInput:
    document_type_id: int
    subject: str
    signer_name: str = ""
    signer_position: str = ""
    authority_prefix: str = ""
    urgency: int = Urgency.NORMAL
    confidentiality: int = Confidentiality.NORMAL
    drafting_unit_id: int | None = None
    recipients: list[RecipientInput] = field(default_factory=list)
    page_amount: int | None = None
    issued_amount: int | None = None
    due_date: date | None = None
    description: str = ""
    register_id: int | None = None
    internal: bool = False


@dataclass
class IncomingInput:
    document_type_id: int
    subject: str
    organ_name: str
    code_number: str
    code_notation: str = ""
    issued_date: date | None = None
    organ_id: str = ""
    identifier: str = ""
    arrival_date: date | None = None
    signer_name: str = ""
    signer_position: str = ""
    urgency: int = Urgency.NORMAL
    confidentiality: int = Confidentiality.NORMAL
    to_places: str = ""
    page_amount: int | None = None
    due_date: date | None = None
    description: str = ""
    register_id: int | None = None


# --- numbering ----------------------------------------------------------------------------------

REGISTER_NAMES = {
    RegisterKind.OUTGOING: "Sổ đăng ký văn bản đi",
    RegisterKind.INCOMING: "Sổ đăng ký văn bản đến",
    RegisterKind.SECRET_OUTGOING: "Sổ đăng ký văn bản đi (mật)",
    RegisterKind.SECRET_INCOMING: "Sổ đăng ký văn bản đến (mật)",
    RegisterKind.COPIES: "Sổ đăng ký bản sao văn bản",
    RegisterKind.IMPORTED: "Sổ đăng ký văn bản thuộc hồ sơ tiếp nhận",
}


def default_register(agency: Agency, kind: str, year: int) -> Register:
    """The agency's main series of `kind` for `year`, created on first use (numbers restart each year)."""
    register, _created = Register.objects.get_or_create(
        agency=agency, kind=kind, year=year, code="", defaults={"name": REGISTER_NAMES[kind]}
    )
    return register


def _choose_register(agency: Agency, kind: str, year: int, register_id: int | None) -> Register:
    if register_id is None:
        return default_register(agency, kind, year)
    register = Register.objects.filter(pk=register_id, agency=agency).first()
    if register is None:
        raise ValidationError({"register": _("This register does not belong to your agency.")})
    if register.kind != kind:
        raise ValidationError({"register": _("This register is for %(kind)s.") % {"kind": register.get_kind_display()}})
    if register.year != year:
        raise ValidationError({"register": _("This register is for the year %(year)d.") % {"year": register.year}})
    if not register.is_active:
        raise ValidationError({"register": _("This register is closed.")})
    return register


def allocate_number(register: Register) -> int:
    """Take the register's next number. The counter row is locked until the caller's transaction
    ends, so concurrent registrations queue here and numbers stay gapless and unique."""
    locked = Register.objects.select_for_update().get(pk=register.pk)
    locked.last_number += 1
    locked.save(update_fields=["last_number"])
    register.last_number = locked.last_number
    return locked.last_number


def format_number(number: int) -> str:
    """Numbers below 10 take a leading zero (PL I §II.3)."""
    return f"{number:02d}"


def build_notation(document_type: DocumentType, agency: Agency, drafting_unit: Unit | None) -> str:
    """'QĐ-UBND' for typed documents; for công văn (no type abbreviation) the agency's and the
    drafting unit's abbreviations: 'UBND-VP' (PL I §II.3.b)."""
    if document_type.abbreviation:
        return f"{document_type.abbreviation}-{agency.abbreviation}"
    if drafting_unit is not None:
        return f"{agency.abbreviation}-{drafting_unit.abbreviation}"
    return agency.abbreviation


def build_identifier(organ_id: str, issued: date, code_number: str, code_notation: str) -> str:
    """Document identifier `OrganId,yyyy/MM/dd,number/notation`."""
    number_notation = f"{code_number}/{code_notation}" if code_notation else code_number
    return f"{organ_id},{issued:%Y/%m/%d},{number_notation}"


def _search_text(document: Document) -> str:
    parts = [document.subject, document.number_notation, document.organ_name, document.identifier, document.signer_name]
    return normalize_vietnamese(" ".join(p for p in parts if p))


# --- registration -------------------------------------------------------------------------------


def _require(actor, permission: str) -> None:
    if not actor.is_authenticated or not actor.has_perm(permission):
        raise PermissionDenied(_("You are not allowed to do this."))
    if not actor.agency_id:
        raise PermissionDenied(_("Your account is not attached to an agency."))


def _check_files(uploads) -> list[CheckedUpload]:
    # All files are checked before anything is written: a refused file leaves nothing behind.
    return [check_upload(upload) for upload in uploads or []]


def _store_files(checked: list[CheckedUpload]) -> list[tuple[CheckedUpload, FileBlob]]:
    # Bytes are written before the numbering transaction so the register row is not locked during I/O.
    # If that transaction fails, an unreferenced blob stays behind: harmless, content-addressed.
    return [(upload, store_blob(upload)) for upload in checked]


def _attach_files(actor, document: Document, stored: list[tuple[CheckedUpload, FileBlob]], *,
                  first_is_main: bool = True) -> list[DocumentFile]:
    attached = []
    for index, (upload, blob) in enumerate(stored):
        doc_file = DocumentFile.objects.create(
            document=document, blob=blob, original_name=upload.name, is_main=first_is_main and index == 0,
            uploaded_by=actor
        )
        record_event(
            actor=actor, verb=events.DOCUMENT_FILE_ATTACHED, target=document, agency_id=document.agency_id,
            data={"file_id": doc_file.pk, "name": upload.name, "sha256": blob.sha256, "size": blob.size,
                  "content_type": blob.content_type},
        )
        transaction.on_commit(lambda file_id=doc_file.pk: enqueue_extraction(file_id))
        attached.append(doc_file)
    return attached


def _validate_common(document_type_id: int, subject: str, urgency: int, confidentiality: int) -> DocumentType:
    errors = {}
    document_type = DocumentType.objects.filter(pk=document_type_id, is_active=True).first()
    if document_type is None:
        errors["document_type"] = _("Choose a document type.")
    if not subject or not subject.strip():
        errors["subject"] = _("The subject is required.")
    elif len(subject) > 500:
        errors["subject"] = _("The subject may have at most 500 characters.")
    if urgency not in Urgency.values:
        errors["urgency"] = _("Unknown urgency level.")
    if confidentiality not in Confidentiality.values:
        errors["confidentiality"] = _("Unknown confidentiality level.")
    if errors:
        raise ValidationError(errors)
    return document_type


def register_outgoing(actor, data: OutgoingInput, uploads=(), *, confirm_duplicate: bool = False,
                      announce: bool = True) -> Document:
    """Register an outgoing (or internal) document: next number of its register, notation,
    issue date (today, Asia/Ho_Chi_Minh), identifier; files stored and queued for extraction.

    `announce=False` when the caller completes the document later in its own steps (attachments, the
    sealed original) and calls `announce_issued` itself."""
    _require(actor, "documents.register_outgoing")
    agency = actor.agency
    document_type = _validate_common(data.document_type_id, data.subject, data.urgency, data.confidentiality)
    if data.authority_prefix not in AuthorityPrefix.values:
        raise ValidationError({"authority_prefix": _("Unknown authority prefix.")})
    drafting_unit = None
    if data.drafting_unit_id:
        drafting_unit = Unit.objects.filter(pk=data.drafting_unit_id, agency=agency).first()
        if drafting_unit is None:
            raise ValidationError({"drafting_unit": _("The drafting unit must be a unit of your agency.")})
    recipient_agencies = {
        a.pk: a for a in Agency.objects.filter(pk__in=[r.agency_id for r in data.recipients if r.agency_id])
    }
    for recipient in data.recipients:
        if recipient.agency_id and recipient.agency_id not in recipient_agencies:
            raise ValidationError({"recipients": _("Unknown recipient agency.")})
    recipient_units = {
        u.pk: u for u in Unit.objects.filter(pk__in=[r.unit_id for r in data.recipients if r.unit_id], agency=agency)
    }
    for recipient in data.recipients:
        if recipient.unit_id and recipient.unit_id not in recipient_units:
            raise ValidationError({"recipients": _("A recipient unit must be a unit of your agency.")})
        if recipient.unit_id and not data.internal:
            raise ValidationError({"recipients": _("Units of the agency receive internal documents only.")})
    stored = _store_files(_check_files(uploads))
    issued = timezone.localdate()
    secret = data.confidentiality != Confidentiality.NORMAL
    kind = RegisterKind.SECRET_OUTGOING if secret else RegisterKind.OUTGOING

    with transaction.atomic():
        register = _choose_register(agency, kind, issued.year, data.register_id)
        notation = build_notation(document_type, agency, drafting_unit)
        number = allocate_number(register)
        code_number = format_number(number)
        identifier = build_identifier(agency.organ_id, issued, code_number, notation)
        # Separate series (secret, advisory bodies) may legitimately repeat a number: compare within the series.
        duplicates = list(find_duplicates(agency_id=agency.pk, identifier=identifier).filter(register=register)[:5])
        if duplicates and not confirm_duplicate:
            raise DuplicateDocument(duplicates)
        document = Document(
            direction=Direction.INTERNAL if data.internal else Direction.OUTGOING,
            agency=agency,
            register=register,
            document_type=document_type,
            register_number=number,
            code_number=code_number,
            code_notation=notation,
            issued_date=issued,
            organ_name=agency.name,
            organ_id=agency.organ_id,
            identifier=identifier,
            subject=data.subject.strip(),
            page_amount=data.page_amount,
            description=data.description,
            signer_position=data.signer_position,
            signer_name=data.signer_name,
            authority_prefix=data.authority_prefix,
            urgency=data.urgency,
            confidentiality=data.confidentiality,
            issued_amount=data.issued_amount,
            due_date=data.due_date,
            drafting_unit=drafting_unit,
            created_by=actor,
        )
        document.search_text = _search_text(document)
        document.save()
        DocumentRecipient.objects.bulk_create(
            DocumentRecipient(
                document=document,
                agency=recipient_agencies.get(r.agency_id),
                unit=recipient_units.get(r.unit_id),
                name=(r.name or (recipient_agencies[r.agency_id].name if r.agency_id else "")
                      or (recipient_units[r.unit_id].name if r.unit_id else ""))[:200],
            )
            for r in data.recipients
            if r.agency_id or r.unit_id or r.name.strip()
        )
        if secret:
            # Secret documents are outside agency scope: the registering clerk is granted explicitly.
            assign_perm("documents.view_document", actor, document)
        record_event(
            actor=actor, verb=events.DOCUMENT_REGISTERED_OUTGOING, target=document, agency_id=agency.pk,
            data={"register_id": register.pk, "number": number, "notation": notation, "identifier": identifier,
                  "confidentiality": data.confidentiality, "urgency": data.urgency,
                  "duplicate_of": [d.pk for d in duplicates]},
        )
        _attach_files(actor, document, stored)
        if announce:
            announce_issued(actor, document)
    return document


def announce_issued(actor, document: Document) -> None:
    """Tell the apps above (exchange, notifications, records) that `document` is issued and final. Must run
    inside the transaction that completes it; receivers write in that transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("announce_issued must be called inside the transaction that issues the document")
    document_issued.send(sender=Document, document=document, actor=actor)


def register_incoming(actor, data: IncomingInput, uploads=(), *, confirm_duplicate: bool = False) -> Document:
    """Register a document received on paper or from outside: next arrival number of the incoming
    register (or its secret series), arrival date, the sender's number/notation and date."""
    _require(actor, "documents.register_incoming")
    agency = actor.agency
    document_type = _validate_common(data.document_type_id, data.subject, data.urgency, data.confidentiality)
    today = timezone.localdate()
    arrival = data.arrival_date or today
    errors = {}
    if not data.organ_name.strip():
        errors["organ_name"] = _("The issuing body is required.")
    if not data.code_number.strip():
        errors["code_number"] = _("The document's number is required.")
    if arrival > today:
        errors["arrival_date"] = _("The arrival date cannot be in the future.")
    elif arrival.year != today.year:
        errors["arrival_date"] = _("Arrival numbers run per year: the arrival date must be in %(year)d.") % {
            "year": today.year
        }
    if data.issued_date and data.issued_date > arrival:
        errors["issued_date"] = _("The document cannot be dated after its arrival.")
    if errors:
        raise ValidationError(errors)
    stored = _store_files(_check_files(uploads))
    issued = data.issued_date or arrival
    identifier = data.identifier.strip() or (
        build_identifier(data.organ_id.strip(), issued, data.code_number.strip(), data.code_notation.strip())
        if data.organ_id.strip()
        else ""
    )
    secret = data.confidentiality != Confidentiality.NORMAL
    kind = RegisterKind.SECRET_INCOMING if secret else RegisterKind.INCOMING

    with transaction.atomic():
        duplicates = list(
            find_duplicates(
                agency_id=agency.pk, identifier=identifier, code_number=data.code_number,
                code_notation=data.code_notation, organ_name=data.organ_name, issued_year=issued.year,
            )[:5]
        )
        if duplicates and not confirm_duplicate:
            raise DuplicateDocument(duplicates)
        register = _choose_register(agency, kind, arrival.year, data.register_id)
        number = allocate_number(register)
        document = Document(
            direction=Direction.INCOMING,
            agency=agency,
            register=register,
            document_type=document_type,
            register_number=number,
            code_number=data.code_number.strip(),
            code_notation=data.code_notation.strip(),
            issued_date=issued,
            organ_name=data.organ_name.strip(),
            organ_id=data.organ_id.strip(),
            identifier=identifier,
            subject=data.subject.strip(),
            page_amount=data.page_amount,
            description=data.description,
            signer_position=data.signer_position,
            signer_name=data.signer_name,
            urgency=data.urgency,
            confidentiality=data.confidentiality,
            due_date=data.due_date,
            arrival_date=arrival,
            to_places=data.to_places,
            created_by=actor,
        )
        document.search_text = _search_text(document)
        document.save()
        if secret:
            assign_perm("documents.view_document", actor, document)
        record_event(
            actor=actor, verb=events.DOCUMENT_REGISTERED_INCOMING, target=document, agency_id=agency.pk,
            data={"register_id": register.pk, "arrival_number": number, "number_notation": document.number_notation,
                  "organ_name": document.organ_name, "confidentiality": data.confidentiality,
                  "duplicate_of": [d.pk for d in duplicates]},
        )
        _attach_files(actor, document, stored)
    return document


# --- access grants ------------------------------------------------------------------------------


def can_manage_access(actor, document: Document) -> bool:
    """Whether `actor` may share the document: a clerk of the owning agency who can see it."""
    return bool(
        actor.is_authenticated
        and actor.agency_id == document.agency_id
        and (actor.has_perm("documents.register_outgoing") or actor.has_perm("documents.register_incoming"))
        and (document.confidentiality == Confidentiality.NORMAL or actor.has_perm("documents.view_document", document))
    )


class GrantNeedsConfirmation(ValidationError):
    """Sharing a secret document with a person must be confirmed; the message says who will see it."""

    def __init__(self, document: Document, user):
        self.person = user
        self.other_agency = user.agency_id != document.agency_id
        self.message_text = secret_grant_warning(document, user)
        super().__init__({"confirm": [self.message_text]})


def secret_grant_warning(document: Document, user) -> str:
    """What the clerk confirms before a secret document is shared: who will see it, and whether that
    person works at another agency."""
    level = Confidentiality(document.confidentiality).label
    if user.agency_id is None:
        return _(
            "This document is classified \"%(level)s\": %(person)s, who belongs to no agency, will see it and its files. "
            "Confirm that this is the person you mean."
        ) % {"level": level, "person": user.display_name}
    if user.agency_id != document.agency_id:
        return _(
            "This document is classified \"%(level)s\": %(person)s of another agency (%(agency)s) will see it and its files. "
            "Confirm that this is the person you mean."
        ) % {"level": level, "person": user.display_name, "agency": user.agency.name}
    return _(
        "This document is classified \"%(level)s\": %(person)s (%(agency)s) will see it and its files. "
        "Confirm that this is the person you mean."
    ) % {"level": level, "person": user.display_name, "agency": user.agency.name}


def grant_document_access(actor, document: Document, *, user=None, group: Group | None = None,
                          confirm: bool = False) -> None:
    """Let a person (or a group) see a document beyond agency scope; clerks of the owning agency decide.

    A secret or top-secret document goes to named people only, each grant confirmed (`confirm`, after
    the clerk was shown `secret_grant_warning`). Never to a group: a group's members change without the
    clerk (every newcomer to a role or a unit would inherit the document), and the role groups span every
    agency of the installation, so "Agency leader" would mean every leader of every agency. Unit-level
    handling of a secret incoming document goes through the direction workflow, decided by a leader."""
    if not can_manage_access(actor, document):
        raise PermissionDenied(_("Only the clerks of the owning agency may share this document."))
    if (user is None) == (group is None):
        raise ValidationError(_("Choose exactly one person or group."))
    secret = document.confidentiality != Confidentiality.NORMAL
    if secret and group is not None:
        raise ValidationError({"group": [_(
            "A secret document can be shared with named people only, not with a group: every member of the "
            "group, now and later, would see it."
        )]})
    if secret and not confirm:
        raise GrantNeedsConfirmation(document, user)
    data = {"user_id": user.pk if user else None, "group": group.name if group else None}
    if secret:
        data.update({
            "to": user.display_name, "user_agency_id": user.agency_id,
            "other_agency": user.agency_id != document.agency_id,
            "confidentiality": document.confidentiality, "confirmed": True,
        })
    with transaction.atomic():
        assign_perm("documents.view_document", user or group, document)
        record_event(
            actor=actor, verb=events.DOCUMENT_ACCESS_GRANTED, target=document, agency_id=document.agency_id,
            data=data,
        )


def revoke_document_access(actor, document: Document, *, user=None, group: Group | None = None) -> None:
    if not can_manage_access(actor, document):
        raise PermissionDenied(_("Only the clerks of the owning agency may share this document."))
    if (user is None) == (group is None):
        raise ValidationError(_("Choose exactly one person or group."))
    with transaction.atomic():
        remove_perm("documents.view_document", user or group, document)
        record_event(
            actor=actor, verb=events.DOCUMENT_ACCESS_REVOKED, target=document, agency_id=document.agency_id,
            data={"user_id": user.pk if user else None, "group": group.name if group else None},
        )


# --- registers ----------------------------------------------------------------------------------


def create_register(actor, *, agency: Agency, kind: str, year: int, name: str = "", code: str = "", volume: str = "") -> Register:
    """Open a register (series) for an agency and year; administrators of that agency only
    (accounts.selectors.administered_agencies)."""
    if not actor.is_authenticated or not actor.has_perm("documents.add_register"):
        raise PermissionDenied(_("You are not allowed to manage registers."))
    if not may_administer(actor, agency):
        raise PermissionDenied(_("You do not administer this agency."))
    if kind not in RegisterKind.values:
        raise ValidationError({"kind": _("Unknown register kind.")})
    if Register.objects.filter(agency=agency, kind=kind, year=year, code=code).exists():
        raise ValidationError({"code": _("This register already exists.")})
    with transaction.atomic():
        register = Register.objects.create(
            agency=agency, kind=kind, year=year, code=code, volume=volume, name=name or REGISTER_NAMES[kind]
        )
        record_event(
            actor=actor, verb=events.REGISTER_CREATED, target=register, agency_id=agency.pk,
            data={"kind": kind, "year": year, "code": code},
        )
    return register


def change_register(actor, register: Register, changed: dict) -> Register:
    """Rename a register, set its volume, close or reopen it (documents.change_register, in an agency the
    actor administers). Its agency, kind, year, code and counter never change here."""
    if not actor.is_authenticated or not actor.has_perm("documents.change_register"):
        raise PermissionDenied(_("You are not allowed to manage registers."))
    if not may_administer(actor, register.agency_id):
        raise PermissionDenied(_("You do not administer this agency."))
    unknown = set(changed) - {"name", "volume", "is_active"}
    if unknown:
        raise TypeError(f"Register fields {sorted(unknown)} cannot be changed")
    stored = Register.objects.filter(pk=register.pk).values(*changed).first() or {}
    changes = {field: value for field, value in changed.items() if stored.get(field) != value}
    if not changes:
        return register
    with transaction.atomic():
        for field, value in changes.items():
            setattr(register, field, value)
        register.save(update_fields=list(changes))
        record_event(
            actor=actor, verb=events.REGISTER_CHANGED, target=register, agency_id=register.agency_id, data=changes,
        )
    return register


def record_register_printed(actor, register: Register, *, fmt: str, date_from, date_to, rows: int) -> None:
    """Printing a register is logged: it is the legal register (Art. 16.2.b, 22.3.b)."""
    _require(actor, "documents.print_register")
    if register.agency_id != actor.agency_id:
        raise PermissionDenied(_("This register belongs to another agency."))
    with transaction.atomic():
        record_event(
            actor=actor, verb=events.REGISTER_PRINTED, target=register, agency_id=register.agency_id,
            data={"format": fmt, "from": date_from, "to": date_to, "rows": rows},
        )


def record_opening(user, document: Document) -> None:
    """Note that `user` opened `document` (first time, last time, how often) for its timeline.

    Not an audit event: reading changes nothing, and the hash-chained trail stays about changes. Two
    first openings at the same moment are harmless: one insert wins, the other is ignored."""
    if not user.is_authenticated:
        return
    now = timezone.now()
    seen = DocumentOpening.objects.filter(document=document, user=user).update(
        last_opened_at=now, times=F("times") + 1
    )
    if not seen:
        DocumentOpening.objects.bulk_create(
            [DocumentOpening(document=document, user=user, first_opened_at=now, last_opened_at=now)],
            ignore_conflicts=True,
        )


def record_file_opened(user, document: Document, doc_file: DocumentFile, *, via: str) -> None:
    """A file of a confidential document was opened (preview) or downloaded (web or API): an audit event,
    who, when and which file, written before the file is served (no event, no file). Files of documents that
    are not secret are not logged: their page openings are (record_opening)."""
    if document.confidentiality == Confidentiality.NORMAL or not user.is_authenticated:
        return
    with transaction.atomic():
        record_event(
            actor=user, verb=events.DOCUMENT_FILE_OPENED, target=document, agency_id=document.agency_id,
            data={"file_id": doc_file.pk, "file": doc_file.original_name, "sha256": doc_file.blob.sha256, "via": via},
        )


def attach_generated_file(actor, document: Document, content: bytes, name: str, *, is_main: bool = True) -> DocumentFile:
    """Attach a PDF the system produced for this document (the sealed original, a signed attachment) as a
    file of it, audited like an upload. Must run inside the caller's transaction."""
    checked = checked_bytes(content, name, PDF)
    blob = store_blob(checked)
    if is_main:
        DocumentFile.objects.filter(document=document, is_main=True).update(is_main=False)
    (attached,) = _attach_files(actor, document, [(checked, blob)], first_is_main=is_main)
    return attached


def attach_stored_blob(actor, document: Document, blob: FileBlob, name: str, *, is_main: bool = False) -> DocumentFile:
    """Attach a file already stored (a draft's attachment, a signed original) to the document, as a secondary
    file or as its main file. Must run inside the caller's transaction."""
    checked = CheckedUpload(name=name, content_type=blob.content_type, size=blob.size, sha256=blob.sha256, file=None)
    if is_main:
        DocumentFile.objects.filter(document=document, is_main=True).update(is_main=False)
    (attached,) = _attach_files(actor, document, [(checked, blob)], first_is_main=is_main)
    return attached


# --- imported records ---------------------------------------------------------------------------

IMPORTED_FIELDS = (
    "direction", "code_number", "code_notation", "issued_date", "organ_name", "organ_id", "identifier", "subject",
    "language", "page_amount", "description", "signer_position", "signer_name", "authority_prefix", "urgency",
    "confidentiality", "issued_amount", "due_date", "arrival_date", "to_places",
)


def import_document_record(actor, agency: Agency, fields: dict, files: list[tuple[str, object, str]]) -> Document:
    """Register a document that arrives inside a work file imported from another installation (records/ BagIt
    import). It keeps what the source printed on it (number, notation, date, issuing body, signer) and gets
    only an intake number in the agency's imported-records register of the year; its files go through the
    same content checks as uploads and are stored content-addressed (the same bytes are stored once).

    `fields` uses Document field names plus `document_type` (a DocumentType code or name) and `recipients`
    (names); `files` are (name, bytes or binary stream, declared content type), the first one the main file;
    the type stored is the one found in the content. The caller checks permission (records.manage_records)
    and must hold the transaction that creates the work file, so a refusal leaves nothing behind."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("import_document_record must run inside the caller's transaction")
    type_key = str(fields.get("document_type") or "").strip()
    document_type = (DocumentType.objects.filter(code=type_key).first()
                     or DocumentType.objects.filter(name__iexact=type_key).first())
    errors = {}
    if document_type is None:
        errors["document_type"] = _("Unknown document type: %(type)s.") % {"type": type_key or "-"}
    values = {name: fields[name] for name in IMPORTED_FIELDS if fields.get(name) not in (None, "")}
    for name, value in values.items():  # another system's limits may be wider than PL VI's: cut, don't fail
        limit = Document._meta.get_field(name).max_length
        if limit and isinstance(value, str):
            values[name] = value.strip()[:limit]
    if values.get("direction") not in Direction.values:
        errors["direction"] = _("Unknown direction.")
    for required in ("code_number", "issued_date", "organ_name", "subject"):
        if not values.get(required):
            errors[required] = _("This field is required.")
    if values.get("urgency", Urgency.NORMAL) not in Urgency.values:
        errors["urgency"] = _("Unknown urgency level.")
    if values.get("confidentiality", Confidentiality.NORMAL) not in Confidentiality.values:
        errors["confidentiality"] = _("Unknown confidentiality level.")
    if values.get("authority_prefix", "") not in AuthorityPrefix.values:
        values.pop("authority_prefix", None)
    if errors:
        raise ValidationError(errors)
    checked = _check_files(File(content if hasattr(content, "read") else io.BytesIO(content), name=name)
                           for name, content, _content_type in files)
    today = timezone.localdate()
    register = default_register(agency, RegisterKind.IMPORTED, today.year)
    number = allocate_number(register)
    document = Document(agency=agency, register=register, document_type=document_type, register_number=number,
                        created_by=actor, **values)
    document.search_text = _search_text(document)
    document.save()
    DocumentRecipient.objects.bulk_create(
        DocumentRecipient(document=document, name=name.strip()[:200])
        for name in fields.get("recipients") or () if name and name.strip()
    )
    if document.confidentiality != Confidentiality.NORMAL:
        assign_perm("documents.view_document", actor, document)
    record_event(
        actor=actor, verb=events.DOCUMENT_IMPORTED, target=document, agency_id=agency.pk,
        data={"register_id": register.pk, "number": number, "number_notation": document.number_notation,
              "organ_name": document.organ_name, "issued_date": document.issued_date,
              "identifier": document.identifier, "source": str(fields.get("source") or "")[:300]},
    )
    _attach_files(actor, document, _store_files(checked))
    return document
