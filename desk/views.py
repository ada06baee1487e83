"""The desk's pages: "My work" (the landing page), the counts behind the menu's badges, the folders."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from documents.selectors import visible_documents
from exchange.selectors import inbox
from notifications.selectors import unread_notices
from records.selectors import records_work
from workflows import drafting_selectors
from workflows import selectors as incoming_selectors

from . import selectors

PAGE_SIZE = 25
RECEIVED_ROWS = 20
NOTICE_ROWS = 50

INCOMING_LABELS = {
    incoming_selectors.TO_REGISTER: gettext_lazy("To enter for handling"),
    incoming_selectors.TO_PRESENT: gettext_lazy("To present to a leader"),
    incoming_selectors.TO_DIRECT: gettext_lazy("To direct"),
    incoming_selectors.TO_ASSIGN: gettext_lazy("To assign in the unit"),
    incoming_selectors.TO_HANDLE: gettext_lazy("To handle"),
    incoming_selectors.TO_ACCEPT_RESULT: gettext_lazy("Results to accept"),
    incoming_selectors.TO_DECIDE_EXTENSION: gettext_lazy("Extensions to decide"),
}
DRAFT_LABELS = {
    drafting_selectors.TO_SIGN: gettext_lazy("To sign"),
    drafting_selectors.TO_APPROVE: gettext_lazy("To approve"),
    drafting_selectors.TO_REVIEW: gettext_lazy("To review"),
    drafting_selectors.TO_CHECK: gettext_lazy("To check the format"),
    drafting_selectors.TO_ISSUE: gettext_lazy("To issue"),
    drafting_selectors.RETURNED: gettext_lazy("Returned to me"),
}
BOX_LABELS = {
    selectors.INCOMING: gettext_lazy("Incoming"),
    selectors.OUTGOING: gettext_lazy("Outgoing"),
    selectors.INTERNAL: gettext_lazy("Internal"),
}
FOLDER_LABELS = {
    selectors.WAITING: gettext_lazy("Waiting for me"),
    selectors.IN_PROGRESS: pgettext_lazy("folder", "In progress"),
    selectors.DONE: pgettext_lazy("folder", "Done"),
}
UNIT_FOLDER_LABELS = {
    selectors.WAITING: gettext_lazy("Waiting in the unit"),
    selectors.IN_PROGRESS: pgettext_lazy("folder", "In progress"),
    selectors.DONE: pgettext_lazy("folder", "Done"),
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the work lists first (incoming, drafts, received electronically), then the unread
    reminders grouped by document, then the folders' counts."""
    user = request.user
    work = incoming_selectors.my_incoming_work(user)
    sections = [(kind, INCOMING_LABELS[kind], work.counts[kind], work.items[kind]) for kind in incoming_selectors.KINDS
                if work.counts[kind].total]
    drafting = drafting_selectors.my_drafting_work(user)
    draft_sections = [(kind, DRAFT_LABELS[kind], drafting.counts[kind], drafting.items[kind])
                      for kind in drafting_selectors.KINDS if drafting.counts.get(kind)]
    waiting_deliveries = inbox(user)
    received = list(waiting_deliveries.select_related("document", "document__document_type", "recipient_unit")
                    .order_by("-arrived_at", "-id")[: RECEIVED_ROWS + 1])
    received_count = len(received) if len(received) <= RECEIVED_ROWS else waiting_deliveries.count()
    groups, notice_count = _notice_groups(user)
    records = records_work(user)  # shown in its own section; the menu badge counts document work only
    total = work.total + drafting.total + received_count
    return render(request, "desk/home.html", {
        "sections": sections,
        "draft_sections": draft_sections,
        "received": received[:RECEIVED_ROWS],
        "received_count": received_count,
        "records": records,
        "notice_groups": groups,
        "notice_count": notice_count,
        "total": total,
        "oversees": incoming_selectors.oversees(user),
        "folders": _folder_strip(user),
    })


def _notice_groups(user) -> tuple[list[dict], int]:
    """The unread reminders grouped by their document (those about no document, or one the person may not
    see, last): each group names its document, number and subject, and links to it. Two queries."""
    notices = list(unread_notices(user)[:NOTICE_ROWS])
    ids = {n.document_id for n in notices if n.document_id}
    documents = {d.pk: d for d in visible_documents(user).filter(pk__in=ids).select_related("document_type")} if ids else {}
    groups: dict[int | None, dict] = {}
    for notice in notices:
        document = documents.get(notice.document_id)
        key = document.pk if document else None
        groups.setdefault(key, {"document": document, "notices": []})["notices"].append(notice)
    ordered = [group for key, group in groups.items() if key is not None]
    if None in groups:
        ordered.append(groups[None])
    return ordered, len(notices)


def _folder_strip(user) -> list[dict]:
    counts = selectors.folder_counts(user)
    strip = []
    for scope, boxes in counts.items():
        labels = FOLDER_LABELS if scope == selectors.ME else UNIT_FOLDER_LABELS
        for box, folders in boxes.items():
            strip.append({
                "scope": scope, "box": box, "label": BOX_LABELS[box],
                "folders": [{"name": name, "label": labels[name], "count": folders[name]} for name in selectors.FOLDERS],
            })
    return strip


@login_required
@require_GET
def counts(request: HttpRequest) -> JsonResponse:
    """The menu's badges, asked again by static/desk/counts.js; never cached by the browser."""
    response = JsonResponse(selectors.work_counts(request.user))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def folder(request: HttpRequest, box: str, name: str) -> HttpResponse:
    """One folder as a paginated table; `?scope=unit` the unit's (or agency's) folder for its leaders."""
    scope = request.GET.get("scope", selectors.ME)
    try:
        rows = selectors.folder(request.user, box, name, scope)
    except LookupError:
        raise Http404 from None
    except PermissionError:
        raise PermissionDenied from None
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = FOLDER_LABELS if scope == selectors.ME else UNIT_FOLDER_LABELS
    tabs = [{"name": n, "label": labels[n], "current": n == name} for n in selectors.FOLDERS]
    return render(request, "desk/folder.html", {
        "box": box, "box_label": BOX_LABELS[box], "name": name, "folder_label": labels[name], "scope": scope,
        "page": page, "tabs": tabs, "incoming": box == selectors.INCOMING,
        "has_unit": selectors.unit_scope(request.user) is not None,
    })
