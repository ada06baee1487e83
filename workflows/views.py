"""Web pages of incoming-document handling: "My work" and the processing slip of one document with the
actions open to the viewer. Thin: reads come from selectors, every change from services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Unit
from documents import services as documents_services
from documents.forms import IncomingForm
from documents.selectors import document_timeline, visible_documents
from documents.uploads import UploadRejected
from documents.views import incoming_input
from eoffice.http import posted_int, posted_person_or_404
from eoffice.widgets import DateField

from . import selectors, services
from .forms import PresentForm
from .models import Assignment, AssignmentState, CaseState, ExtensionRequest, ExtensionState, TargetRole


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    """ "My work" is the desk's landing page (desk.views.home): eoffice/urls.py routes /work/ to it before these
    routes, so this name keeps resolving to the same address; an URLconf without the desk lands here."""
    return redirect("desk:home")


@login_required
def oversight(request: HttpRequest) -> HttpResponse:
    """A leader's overview of open handling in their agency (per unit) or unit (per handler)."""
    result = selectors.oversight(request.user)
    if result is None:
        raise PermissionDenied
    return render(request, "workflows/oversight.html", {"oversight": result})


def _case_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.incoming_cases_for(request.user), pk=pk)


class DirectForm(forms.Form):
    """The leader's direction: the instruction (the agency's usual phrases one click away), then each unit
    and person of the agency as a row with three choices: in charge (one), co-ordinating, for information.
    Rows are grouped by unit; static/workflows/direction.js filters them as the leader types."""

    instruction = forms.CharField(label=gettext_lazy("Instruction"), widget=forms.Textarea(attrs={"rows": 3}))
    lead = forms.ChoiceField(label=gettext_lazy("Lead (in charge)"), widget=forms.RadioSelect)
    lead_deadline = DateField(label=gettext_lazy("Deadline"))
    coordinate = forms.MultipleChoiceField(label=gettext_lazy("Co-ordinating"), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    coordinate_deadline = DateField(label=gettext_lazy("Deadline of the co-ordinating units"), required=False)
    inform = forms.MultipleChoiceField(label=gettext_lazy("For information"), required=False,
                                       widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, agency_id: int, document=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = list(Unit.objects.filter(agency_id=agency_id, is_active=True).order_by("name"))
        people = list(get_user_model().objects.filter(agency_id=agency_id, is_active=True)
                      .order_by("full_name", "username"))
        # [(heading, [(value, label, is_unit), ...]), ...]: each unit first as a whole, then its people; people
        # without a unit (the agency's leaders) in a group of their own, first.
        by_unit: dict[int | None, list] = {}
        for person in people:
            by_unit.setdefault(person.unit_id, []).append((f"user:{person.pk}", person.name_and_position, False))
        self.groups = []
        if by_unit.get(None):
            self.groups.append((gettext_lazy("Leaders and people outside the units"), by_unit[None]))
        for unit in units:
            self.groups.append((str(unit.name), [(f"unit:{unit.pk}", str(unit.name), True), *by_unit.get(unit.pk, [])]))
        choices = [(value, label) for _heading, rows in self.groups for value, label, _is_unit in rows]
        for name in ("lead", "coordinate", "inform"):
            self.fields[name].choices = choices
        self.phrases = selectors.instruction_phrases(agency_id)
        # The deadline entered at registration (hạn xử lý), if still ahead, is the leader's starting point.
        due = getattr(document, "due_date", None)
        if due is not None and due >= timezone.localdate():
            self.fields["lead_deadline"].initial = due
            self.fields["coordinate_deadline"].initial = due

    def rows(self) -> list[tuple[str, list[dict]]]:
        """The pickers' rows with what is checked (from the posted data when the form comes back)."""
        lead = self["lead"].value() or ""
        coordinate = set(self["coordinate"].value() or ())
        inform = set(self["inform"].value() or ())
        return [
            (heading, [{"value": value, "label": label, "is_unit": is_unit, "lead": value == lead,
                        "coordinate": value in coordinate, "inform": value in inform}
                       for value, label, is_unit in rows])
            for heading, rows in self.groups
        ]

    def targets(self) -> list[services.TargetInput]:
        def target(value: str, role: str, deadline: date | None) -> services.TargetInput:
            kind, pk = value.split(":")
            return services.TargetInput(role=role, deadline=deadline, **{f"{kind}_id": int(pk)})

        data = self.cleaned_data
        result = [target(data["lead"], TargetRole.LEAD, data["lead_deadline"])]
        result += [target(v, TargetRole.COORDINATE, data.get("coordinate_deadline")) for v in data["coordinate"]]
        result += [target(v, TargetRole.INFORM, None) for v in data["inform"]]
        return result

    def summary(self) -> str:
        """Who has the document now, for the message after recording the direction."""
        labels = dict(self.fields["lead"].choices)
        data = self.cleaned_data
        text = _("Directed %(lead)s to take charge, deadline %(date)s.") % {
            "lead": labels.get(data["lead"], ""), "date": data["lead_deadline"].strftime("%d/%m/%Y")}
        if data["coordinate"]:
            text += " " + _("Co-ordinating: %(names)s.") % {"names": ", ".join(labels[v] for v in data["coordinate"])}
        if data["inform"]:
            text += " " + _("For information: %(names)s.") % {"names": ", ".join(labels[v] for v in data["inform"])}
        return text


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    user = request.user
    documents_services.record_opening(user, case.document)
    assignments = list(case.assignments.select_related("unit", "user", "assignee", "deadline_set_by", "reply_document"))
    pending = list(
        ExtensionRequest.objects.filter(assignment__case=case, state=ExtensionState.PENDING).select_related(
            "requested_by", "approver"
        )
    )
    is_clerk = user.agency_id == case.agency_id and user.has_perm("documents.register_incoming")
    can_direct = case.state == CaseState.PRESENTED and services.acting_prefix(
        user, case.presented_to, case.agency_id
    ) is not None
    context = {
        "case": case,
        "document": case.document,
        "timeline": document_timeline(case.document),
        "assignments": assignments,
        "pending_extensions": [p for p in pending if services.acting_prefix(user, p.approver, case.agency_id) is not None],
        "can_present": is_clerk and case.state == CaseState.REGISTERED,
        "can_return": is_clerk and case.state in (CaseState.REGISTERED, CaseState.PRESENTED),
        "present_form": PresentForm(agency_id=case.agency_id) if is_clerk and case.state == CaseState.REGISTERED
        else None,
        "direct_form": DirectForm(agency_id=case.agency_id, document=case.document) if can_direct else None,
        "to_assign": [a for a in assignments if a.state == AssignmentState.WAITING and a.unit_id
                      and services.unit_leader_authority(user, a.unit_id, case.agency_id) is not None],
        "to_handle": [a for a in assignments if a.state == AssignmentState.HANDLING and a.assignee_id == user.pk],
    }
    from .results import add_result_context  # result files and the unit head's acceptance

    add_result_context(user, case, assignments, context)
    if context["to_handle"]:
        # The reply, if any, is an outgoing document of the agency this person can see, newest first.
        context["reply_choices"] = selectors.reply_documents_for(user, case.agency_id)[:100]
    for assignment in context["to_assign"]:
        assignment.people = list(get_user_model().objects.filter(unit_id=assignment.unit_id, is_active=True))
    return render(request, "workflows/case.html", context)


def _done(request: HttpRequest, case_pk: int, call, success: Callable[[Any], str]) -> HttpResponse:
    """Run a transition; refusals that are the user's to fix come back as messages on the page. `success`
    words the message from the transition's result: what happened and who has the document now."""
    try:
        result = call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success(result))
    return redirect("workflows:case", pk=case_pk)


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _target_label(assignment: Assignment) -> str:
    return str(assignment.unit.name) if assignment.unit_id else assignment.user.name_and_position


def _completed_message(assignment: Assignment) -> str:
    case = assignment.case
    if assignment.role == TargetRole.LEAD:
        if case.directed_by_id:
            return _("Handling completed: the document is closed and %(person)s, who directed it, is told.") % {
                "person": case.directed_by.name_and_position}
        return _("Handling completed: the document is closed.")
    lead = case.assignments.filter(role=TargetRole.LEAD).select_related("unit", "user").first()
    if lead is None:
        return _("Your part is completed.")
    return _("Your part is completed; %(lead)s, in charge, continues the handling.") % {"lead": _target_label(lead)}


def _extension_message(extension: ExtensionRequest) -> str:
    person = extension.requested_by.name_and_position
    if extension.state == ExtensionState.APPROVED:
        return _("Extension approved: %(person)s now has until %(date)s.") % {
            "person": person, "date": _day(extension.requested_deadline)}
    return _("Extension refused: %(person)s keeps the deadline %(date)s.") % {
        "person": person, "date": _day(extension.current_deadline)}


def _version(request: HttpRequest) -> int | None:
    return posted_int(request, "version")


def _date(request: HttpRequest, name: str) -> date:
    from eoffice.widgets import parse_date_input  # dd/mm/yyyy from the date picker, or ISO

    try:
        value = parse_date_input(request.POST.get(name, ""))
    except ValueError:
        value = None
    if value is None:
        raise ValidationError(_("Enter a valid date as dd/mm/yyyy."))
    return value


@login_required
@require_POST
def open_case(request: HttpRequest, document_pk: int) -> HttpResponse:
    document = get_object_or_404(visible_documents(request.user), pk=document_pk)
    try:
        case = services.open_case(request.user, document)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("workflows:my_work")
    messages.success(request, _("%(number)s is entered for handling; present it to a leader below.") % {
        "number": document.number_notation})
    return redirect("workflows:case", pk=case.pk)


@login_required
@require_POST
def open_cases(request: HttpRequest) -> HttpResponse:
    """Several waiting documents ticked on My work, entered for handling at once (services.open_cases)."""
    if not request.user.agency_id or not request.user.has_perm("documents.register_incoming"):
        raise PermissionDenied(_("Only the agency's clerks may do this."))
    ids = {int(value) for value in request.POST.getlist("document") if value.isdigit()}
    if not ids:
        messages.error(request, _("Tick the documents to enter for handling."))
        return redirect("workflows:my_work")
    documents = list(visible_documents(request.user).filter(pk__in=ids).order_by("pk"))
    result = services.open_cases(request.user, documents)
    if result.opened:
        messages.success(request, ngettext(
            "%(count)d document entered for handling: it waits for you to present it to a leader.",
            "%(count)d documents entered for handling: they wait for you to present them to a leader.",
            len(result.opened)) % {"count": len(result.opened)})
    for document, reason in result.refused:
        messages.error(request, _("%(number)s was not entered: %(reason)s") % {
            "number": document.number_notation, "reason": reason})
    missing = len(ids) - len(documents)
    if missing:
        # Ids this person cannot see are counted, never named: a document outside one's view stays unknown.
        messages.error(request, ngettext("%(count)d document was not found.", "%(count)d documents were not found.",
                                         missing) % {"count": missing})
    return redirect("workflows:my_work")


@login_required
@require_POST
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    case = _case_or_404(request, pk)
    user, version = request.user, _version(request)
    if step == "present":
        leader = posted_person_or_404(request, "leader")
        return _done(request, pk, lambda: services.present(
            user, case, leader, note=request.POST.get("note", ""), expected_version=version),
            lambda _case: _("Presented to %(person)s for direction.") % {"person": leader.name_and_position})
    if step == "return":
        return _done(request, pk, lambda: services.return_case(
            user, case, request.POST.get("reason", ""), expected_version=version),
            lambda _case: _("The document was returned with your reason: it is no longer handled here."))
    if step == "direct":
        form = DirectForm(request.POST, agency_id=case.agency_id, document=case.document)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect("workflows:case", pk=pk)
        return _done(request, pk, lambda: services.direct(
            user, case, instruction=form.cleaned_data["instruction"], targets=form.targets(), expected_version=version
        ), lambda _case: form.summary())
    return HttpResponse(status=404)


@login_required
@require_POST
def assignment_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    visible = visible_documents(request.user).values("id")
    assignment = get_object_or_404(Assignment.objects.filter(case__document__in=visible), pk=pk)
    user, version, post = request.user, _version(request), request.POST
    case_pk = assignment.case_id
    if step == "assign":
        assignee = posted_person_or_404(request, "assignee")
        return _done(request, case_pk, lambda: services.assign_within_unit(
            user, assignment, assignee, deadline=_date(request, "deadline"), note=post.get("note", ""),
            expected_version=version), lambda done: _("Assigned to %(person)s, deadline %(date)s.") % {
                "person": done.assignee.name_and_position, "date": _day(done.handler_deadline)})
    if step == "progress":
        return _done(request, case_pk, lambda: services.record_progress(
            user, assignment, note=post.get("note", ""), proposal=post.get("proposal", ""), expected_version=version
        ), lambda _done: _("Progress recorded; the document stays with you until you complete it."))
    if step == "extension":
        return _done(request, case_pk, lambda: services.request_extension(
            user, assignment, new_deadline=_date(request, "new_deadline"), reason=post.get("reason", ""),
            expected_version=version), lambda asked: _("Asked %(person)s to extend the deadline to %(date)s.") % {
                "person": asked.approver.name_and_position, "date": _day(asked.requested_deadline)})
    if step == "complete":
        return _done(request, case_pk, lambda: services.complete_assignment(
            user, assignment, outcome=post.get("outcome", ""), reply_document_id=posted_int(request, "reply_document"),
            expected_version=version), _completed_or_submitted_message)
    return HttpResponse(status=404)


def _completed_or_submitted_message(assignment: Assignment) -> str:
    if assignment.state == AssignmentState.SUBMITTED:
        return _("Result submitted: %(unit)s's leader accepts it or returns it to you.") % {
            "unit": assignment.unit.name}
    return _completed_message(assignment)



@login_required
@require_POST
def decide_extension(request: HttpRequest, pk: int) -> HttpResponse:
    visible = visible_documents(request.user).values("id")
    extension = get_object_or_404(ExtensionRequest.objects.filter(assignment__case__document__in=visible), pk=pk)
    approve = request.POST.get("decision") == "approve"
    case_pk = Assignment.objects.filter(pk=extension.assignment_id).values_list("case_id", flat=True).get()
    return _done(request, case_pk, lambda: services.decide_extension(
        request.user, extension, approve=approve, note=request.POST.get("note", "")), _extension_message)


def _duplicates_visible_to(user, exc) -> list:
    # Show only what this person may see; a secret duplicate is reported without its details.
    visible = set(visible_documents(user).filter(pk__in=[d.pk for d in exc.duplicates]).values_list("pk", flat=True))
    return [d if d.pk in visible else None for d in exc.duplicates]


def _refusal_to_forms(exc: ValidationError, *forms_: forms.Form) -> None:
    """Put a service's refusal on the field it names, in whichever form has that field."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, field_errors in errors.items():
        target = next((form for form in forms_ if field in form.fields), None)
        (target or forms_[0]).add_error(field if target else None, field_errors)


@login_required
@require_http_methods(["GET", "POST"])
def register_and_present(request: HttpRequest) -> HttpResponse:
    """The clerk's one screen: register an incoming document, enter it for handling and present it to a
    leader with a proposal, in one submit (services.register_and_present: all or nothing)."""
    user = request.user
    if not user.has_perm("documents.register_incoming"):
        raise PermissionDenied(_("You are not allowed to register documents."))
    if not user.agency_id:
        raise PermissionDenied(_("Your account is not attached to an agency."))
    duplicates: list = []
    if request.method == "POST":
        form = IncomingForm(request.POST, request.FILES, user=user)
        present_form = PresentForm(request.POST, agency_id=user.agency_id)
        if form.is_valid() and present_form.is_valid():
            leader = present_form.chosen_leader()
            try:
                case = services.register_and_present(
                    user, incoming_input(form), form.cleaned_data["files"], leader=leader,
                    note=present_form.cleaned_data["note"], confirm_duplicate=form.cleaned_data["confirm_duplicate"],
                )
            except documents_services.DuplicateDocument as exc:
                duplicates = _duplicates_visible_to(user, exc)
                form.add_error(None, str(exc))
            except UploadRejected as exc:
                form.add_error("files", _("%(file)s was refused: %(reason)s") % {"file": exc.file_name,
                                                                                 "reason": exc.reason})
            except ValidationError as exc:
                _refusal_to_forms(exc, form, present_form)
            else:
                messages.success(request, _(
                    "Registered with arrival number %(number)s and presented to %(person)s for direction."
                ) % {"number": case.document.arrival_number, "person": leader.name_and_position})
                if request.POST.get("then") == "next":
                    return redirect("workflows:register_and_present")
                return redirect("workflows:case", pk=case.pk)
        if request.FILES:
            messages.warning(request, _("Nothing was saved. Please attach the files again."))
    else:
        form = IncomingForm(user=user)
        present_form = PresentForm(agency_id=user.agency_id)
    return render(request, "workflows/register_and_present.html", {
        "form": form, "present_form": present_form, "duplicates": duplicates,
    }, status=400 if request.method == "POST" else 200)
